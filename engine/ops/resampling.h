// Resampling with PyTorch's semantics: torch.nn.functional.interpolate (4-D input) and pad
// (constant mode). Formulas are in resampling.cpp and kernels/reference/resampling.cpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace tutor {

// input [N, C, H, W] resized to `size` ([OH, OW], or one value for both) or by `scale_factor`
// ([sh, sw], or one value for both; the output is floor(H * sh) x floor(W * sw)): exactly one of
// the two is non-empty. mode: "nearest", "bilinear" or "bicubic"; align_corners (default false)
// only for bilinear and bicubic.
Tensor interpolate(const Tensor& input, const std::vector<int64_t>& size,
                   const std::vector<double>& scale_factor = {},
                   const std::string& mode = "nearest",
                   std::optional<bool> align_corners = std::nullopt);

// Pads (or, with negative amounts, crops) the last pads.size() / 2 dims: pads lists (left, right)
// of the last dim first, then (top, bottom) of the one before, as F.pad. Only mode "constant".
Tensor pad(const Tensor& input, const std::vector<int64_t>& pads,
           const std::string& mode = "constant", double value = 0);

}  // namespace tutor
