#include "kernels/cpu/cpu.h"

namespace tutor::kernels::cpu {

void register_kernels() {
  register_matmul();
  register_conv();
  register_normalization();
  register_pooling();
}

}  // namespace tutor::kernels::cpu
