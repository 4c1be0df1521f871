// Parameters of the resampling kernels (interpolate, pad), shared by every backend.
#pragma once

#include <cstdint>
#include <vector>

namespace tutor::kernels {

enum class InterpolateMode : unsigned char { nearest, bilinear, bicubic };

// interpolate [N, C, H, W] -> [N, C, OH, OW] and its adjoint ("interpolate_backward", which maps a
// gradient [N, C, OH, OW] back to [N, C, H, W]); the sizes are the tensors'. scale_h / scale_w are
// the user's scale factors, 0 when an output size was given: PyTorch then maps output to input
// coordinates with 1 / scale rather than H / OH.
struct InterpolateParams {
  InterpolateMode mode = InterpolateMode::nearest;
  bool align_corners = false;
  double scale_h = 0;
  double scale_w = 0;
};

// Constant padding: output dim d spans input positions [-before[d], size[d] + after[d]), filled
// with `value` outside the input; negative amounts crop.
struct PadParams {
  std::vector<int64_t> before;
  std::vector<int64_t> after;
  double value = 0;
};

}  // namespace tutor::kernels
