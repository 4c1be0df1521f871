#include "kernels/cpu/loops.h"

namespace tutor::kernels::cpu {

void register_loops() {
  register_elementwise_loops();
  register_reduction_loops();
  register_softmax_loops();
  register_loss_loops();
}

}  // namespace tutor::kernels::cpu
