// Views share storage with their input and are differentiable; the methods on Tensor (view,
// permute, narrow, ...) are defined in views.cpp. This header adds the free-function helpers that
// other ops' backward rules need.
#pragma once

#include "engine/core/tensor.h"

namespace tutor {

// Sums `grad` down to `shape` over the broadcast dims: the backward of broadcasting.
Tensor sum_to(const Tensor& grad, const Shape& shape);

// Broadcasts both to their common shape (views, no copies).
std::pair<Tensor, Tensor> broadcast_pair(const Tensor& a, const Tensor& b, const char* op);

// Strides that view `sizes`/`strides` as `shape` without copying, if any exist (PyTorch's rule).
std::optional<Shape> view_strides(const Shape& sizes, const Shape& strides, const Shape& shape);

// Replaces one -1 in `shape` by the size that makes it hold `numel` elements.
Shape infer_shape(const Shape& shape, int64_t numel, const char* op);

// Throws if an in-place change of `t` would have to be recorded by autograd.
void check_inplace(const char* op, const Tensor& t);

}  // namespace tutor
