// Parameter structs of the convolution and pooling kernels (NCHW), shared by every backend.
// Spatial pairs are {height, width}. Output sizes are not stored: kernels read them from the
// output tensors that the op allocated (ceil_mode and output_padding are resolved there).
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace tutor::kernels {

// conv2d, conv2d_backward_input (the forward of conv_transpose2d), conv2d_backward_weight.
// Always described from the conv2d side: input [N, C, H, W], weight [O, C/groups, kH, kW],
// output [N, O, OH, OW].
struct Conv2dParams {
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};
  std::array<int64_t, 2> dilation{1, 1};
  int64_t groups = 1;
};

// max_pool2d and avg_pool2d, forward and backward. Avg pooling has dilation 1.
struct Pool2dParams {
  std::array<int64_t, 2> kernel_size{1, 1};
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};
  std::array<int64_t, 2> dilation{1, 1};
  bool count_include_pad = true;           // avg: the divisor counts padded positions
  std::optional<int64_t> divisor_override;  // avg: divide by this instead
};

}  // namespace tutor::kernels
