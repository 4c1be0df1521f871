// Parameters of the softmax family's kernels, shared by every backend.
#pragma once

#include <cstdint>

namespace tutor::kernels {

// softmax, log_softmax and their backward kernels work along `dim` (wrapped, in [0, ndim)).
// With zero_fully_masked, a softmax row whose inputs are all -inf gives zeros instead of NaN
// (PyTorch's _safe_softmax, used by scaled_dot_product_attention).
struct SoftmaxParams {
  int64_t dim = 0;
  bool zero_fully_masked = false;
};

}  // namespace tutor::kernels
