// Parameter structs passed to kernels through KernelArgs::params. One struct per op family,
// shared by every backend.
#pragma once

#include <cstdint>
#include <vector>

namespace tutor::kernels {

// Element-wise ops with up to two scalar parameters (leaky_relu slope, clamp bounds, pow exponent,
// softplus beta and threshold, ...). Each op documents which of `a` and `b` it reads.
struct ScalarParams {
  double a = 0;
  double b = 0;
};

// Reductions over `dims` (sorted, wrapped). The output always has the input's rank (keepdim).
struct ReduceParams {
  std::vector<int64_t> dims;
  double a = 0;  // op-specific: correction for var, p for norm
};

}  // namespace tutor::kernels
