// Convolution and pooling over NCHW tensors, with PyTorch's semantics and argument names
// (torch.nn.functional). Spatial arguments take one int for both dims or {height, width}.
// Formulas, output sizes and derivatives are in conv_pool.cpp.
#pragma once

#include <array>
#include <optional>
#include <utility>

#include "engine/core/tensor.h"

namespace tutor {

// A {height, width} pair; a single int means the same value for both.
struct Size2 {
  int64_t h = 0, w = 0;
  Size2(int64_t both) : h(both), w(both) {}  // NOLINT: max_pool2d(x, 2)
  Size2(int64_t height, int64_t width) : h(height), w(width) {}
  std::array<int64_t, 2> array() const { return {h, w}; }
};

// input [N, C, H, W], weight [O, C/groups, kH, kW], bias [O] or undefined.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
              Size2 stride = 1, Size2 padding = 0, Size2 dilation = 1, int64_t groups = 1);

// input [N, C, H, W], weight [C, O/groups, kH, kW], bias [O] or undefined. The adjoint of conv2d
// with the same weight, stride, padding, dilation and groups; output_padding adds rows/columns at
// the bottom/right of the output (each must be smaller than the stride or the dilation).
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
                        Size2 stride = 1, Size2 padding = 0, Size2 output_padding = 0,
                        int64_t groups = 1, Size2 dilation = 1);

// stride defaults to kernel_size. Indices are flat positions in each input H*W plane (i64); a
// window that dilation makes miss the input entirely gives -inf and index -1.
// `input` in the layout that conv2d's kernel for its device and dtype runs without converting
// activations: channels-last where that kernel is marked so (oneDNN's on the CPU), else `input`
// itself. Convolution, batch_norm, pooling and the element-wise ops keep channels-last, so a CNN
// that converts its input once runs channels-last to its pooled features. Differentiable.
Tensor to_conv_layout(const Tensor& input);

Tensor max_pool2d(const Tensor& input, Size2 kernel_size, std::optional<Size2> stride = {},
                  Size2 padding = 0, Size2 dilation = 1, bool ceil_mode = false);
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, Size2 kernel_size,
                                                  std::optional<Size2> stride = {},
                                                  Size2 padding = 0, Size2 dilation = 1,
                                                  bool ceil_mode = false);

Tensor avg_pool2d(const Tensor& input, Size2 kernel_size, std::optional<Size2> stride = {},
                  Size2 padding = 0, bool ceil_mode = false, bool count_include_pad = true,
                  std::optional<int64_t> divisor_override = {});

Tensor adaptive_avg_pool2d(const Tensor& input, Size2 output_size);
Tensor adaptive_max_pool2d(const Tensor& input, Size2 output_size);
std::pair<Tensor, Tensor> adaptive_max_pool2d_with_indices(const Tensor& input, Size2 output_size);

}  // namespace tutor
