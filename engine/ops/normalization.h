// Normalization layers' functional forms and dropout, with PyTorch's semantics and defaults
// (torch.nn.functional.batch_norm, layer_norm, group_norm, dropout). Formulas are in
// normalization.cpp beside each op; the kernels' derivations in
// kernels/reference/normalization.cpp.
#pragma once

#include "engine/core/rng.h"
#include "engine/core/tensor.h"

namespace tutor {

// input [N, C, *]. Training normalizes with the batch's statistics over every dim but C and, when
// running_mean / running_var are given, updates them in place (without autograd); evaluation
// normalizes with the running statistics, which it then requires.
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = {}, const Tensor& bias = {}, bool training = false,
                  double momentum = 0.1, double eps = 1e-5);

// relu(batch_norm(...)) with batch_norm's arguments, checks and running-statistic update, as one
// kernel forward and one backward (on the CPU: batch_norm's OpenMP kernels with the ReLU built
// into their passes): the BN -> ReLU of a CNN, in training and evaluation. Differentiable, twice along the incoming
// gradient as batch_norm is.
Tensor batch_norm_relu(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                       const Tensor& weight = {}, const Tensor& bias = {}, bool training = false,
                       double momentum = 0.1, double eps = 1e-5);

// Normalizes over the last normalized_shape.size() dims, which must equal normalized_shape;
// weight and bias (optional) have normalized_shape.
Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

// input [N, C, *]; statistics per sample over num_groups groups of C / num_groups channels;
// weight and bias (optional) have shape [C].
Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

// Zeroes each element with probability p and scales the kept ones by 1 / (1 - p) in training;
// the identity in evaluation. Draws from `gen` (the default generator when null).
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true, Generator* gen = nullptr);

}  // namespace tutor
