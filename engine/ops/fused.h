// Fused ops: one kernel for a chain of ops that models run back to back, where running them as
// one pass saves a trip through memory (ISSUE 3, "fusions where they pay"). Each equals its
// unfused composition (the reference kernels run exactly that composition) and falls back to it
// where the fusion would not pay; the op says where, next to its definition.
#pragma once

#include <string>

#include "engine/core/tensor.h"
#include "engine/ops/conv_pool.h"

namespace tutor {

// gelu(linear(x, weight, bias), approximate): x [..., in], weight [out, in], bias [out] or
// undefined, approximate "none" (erf form) or "tanh"; the result is [..., out]. Without gradients
// (grad mode off, or no input requiring grad) one kernel computes it (on the CPU: oneDNN's matmul
// with the bias and GELU as post-ops); with gradients it is the composition, whose backward needs
// the pre-activation that the fused kernel never writes.
Tensor linear_gelu(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                   const std::string& approximate = "none");

// relu(conv2d(input, weight, bias, stride, padding, dilation, groups) + residual), with conv2d's
// arguments and checks; residual is undefined or of the convolution's output shape [N, O, OH, OW]
// (any layout). It closes every conv -> BN -> ReLU of a CNN whose BatchNorms are folded into the
// convs (nn::fold_batch_norm), and with `residual` a ResNet block's conv -> BN -> add(shortcut) ->
// ReLU. Without gradients (grad mode off, or no input requiring grad) one kernel computes it (on
// the CPU: oneDNN's convolution with `sum` and ReLU post-ops, so the output is written once); with
// gradients it is the composition, whose backward needs the pre-activation that the fused kernel
// never writes.
Tensor conv2d_relu(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
                   Size2 stride = 1, Size2 padding = 0, Size2 dilation = 1, int64_t groups = 1,
                   const Tensor& residual = Tensor());

}  // namespace tutor
