#include <mutex>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/loops.h"
#include "kernels/reference/reference.h"

namespace tutor::kernels {

void ensure_registered() {
  static std::once_flag once;
  std::call_once(once, [] {
    reference::register_elementwise();
    reference::register_reductions();
    reference::register_linalg();
    reference::register_activations();
    reference::register_conv_pool();
    reference::register_normalization();
    reference::register_indexing();
    reference::register_losses();
    reference::register_resampling();
    reference::register_attention();
    reference::register_fused();
    reference::register_optim();
    cpu::register_kernels();  // oneDNN: matmul, convolution; loops: norms, pooling
    cpu::register_loops();    // vectorized OpenMP loops: element-wise, reductions, softmax, CE
    cpu::register_attention();
  });
}

}  // namespace tutor::kernels
