// Parameter structs of the loss kernels (kernels/reference/losses.cpp), shared by every backend.
#pragma once

#include <cstdint>

namespace tutor::kernels {

// Element-wise losses: `a` is smooth_l1's beta, huber's delta, kl_div's log_target (0 or 1).
struct PointwiseLossParams {
  double a = 0;
};

// Losses over a class dim: input [N, C, d...] (viewed as [N, C, inner]), target either class
// indices [N, d...] (i64) or probabilities shaped like the input.
struct ClassLossParams {
  const char* op = "";  // names the op in errors (a class index out of range)
  int64_t ignore_index = -100;
  double label_smoothing = 0;
  bool prob_target = false;
};

// Ops along one dim: cosine_similarity (eps), normalize (p, eps), cdist (p; dim unused).
struct DimNormParams {
  int64_t dim = 1;
  double p = 2;
  double eps = 0;
};

}  // namespace tutor::kernels
