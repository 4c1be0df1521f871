// Parameters of the normalization kernels (batch_norm, layer_norm, group_norm), shared by every
// backend.
#pragma once

#include <cstdint>

namespace tutor::kernels {

// The three norms see their input as a row-major block [outer, channels, inner]:
//   batch_norm  [N, C, prod(spatial)], one statistic per channel, shared over N (shared_over_outer)
//   group_norm  [N, C, prod(spatial)], one statistic per (n, group of C / groups channels)
//   layer_norm  [rows, prod(normalized_shape), 1], one statistic per row (groups = 1)
// Statistic index of element (n, c, s): (shared_over_outer ? 0 : n * groups) + c / (channels /
// groups). The affine weight and bias (when given) hold one value per channel.
struct NormParams {
  int64_t outer = 1;
  int64_t channels = 1;
  int64_t inner = 1;
  int64_t groups = 1;
  bool shared_over_outer = false;
  double eps = 1e-5;
  // batch_norm only: normalize with the input's own statistics (training) rather than the
  // running ones, and update the running ones with `momentum` (when they are given).
  bool use_input_stats = true;
  double momentum = 0.1;

  int64_t num_stats() const { return shared_over_outer ? groups : outer * groups; }
  int64_t stat_index(int64_t n, int64_t c) const {
    return (shared_over_outer ? 0 : n * groups) + c / (channels / groups);
  }
};

}  // namespace tutor::kernels
