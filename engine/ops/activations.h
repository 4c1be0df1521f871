// The softmax family along one dim (negative dims wrap), numerically stable (max-shifted).
// Formulas and derivatives are in activations.cpp, next to each definition.
#pragma once

#include "engine/core/tensor.h"

namespace tutor {

// y_i = exp(x_i) / sum_j exp(x_j) along `dim`. A row of all -inf gives NaN, as torch.softmax.
Tensor softmax(const Tensor& x, int64_t dim);

// log softmax(x) = x_i - log sum_j exp(x_j) along `dim`.
Tensor log_softmax(const Tensor& x, int64_t dim);

// softmax, except that a row whose inputs are all -inf gives zeros instead of NaN (PyTorch's
// _safe_softmax, which scaled_dot_product_attention uses for fully masked rows).
Tensor safe_softmax(const Tensor& x, int64_t dim);

}  // namespace tutor
