#include "kernels/cpu/cpu.h"

namespace tutor::kernels::cpu {

void register_kernels() {
  register_matmul();
  register_conv();
}

}  // namespace tutor::kernels::cpu
