// Gradient clipping, as torch.nn.utils.clip_grad_norm_ (PyTorch 1.13).
#pragma once

#include <limits>
#include <vector>

#include "engine/core/tensor.h"

namespace tutor::optim {

inline constexpr double kInfNorm = std::numeric_limits<double>::infinity();

// The norm of all gradients together (as if concatenated), for norm_type 1, 2 or kInfNorm;
// parameters without a gradient are skipped. Every gradient is then scaled in place by
// min(1, max_norm / (total + 1e-6)). Returns the total norm before clipping. With
// error_if_nonfinite, a NaN or infinite total throws instead of scaling.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2,
                       bool error_if_nonfinite = false);

}  // namespace tutor::optim
