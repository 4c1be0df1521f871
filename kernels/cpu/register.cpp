#include "kernels/cpu/cpu.h"

namespace tutor::kernels::cpu {

void register_kernels() {
  register_matmul();
  register_conv();
  register_normalization();
  register_pooling();
  register_linalg();
  register_bf16_via_f32();
  register_optim();
}

}  // namespace tutor::kernels::cpu
