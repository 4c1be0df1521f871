// Parameter structs of the reduction family beyond kernels/params.h's ReduceParams.
#pragma once

#include <cstdint>

namespace tutor::kernels {

// cumsum along `dim` (wrapped); `reverse` sums from the end (the backward of cumsum).
struct CumsumParams {
  int64_t dim = 0;
  bool reverse = false;
};

// "reduction_mask": a constant tensor of the inputs' dtype built from two inputs of one shape,
// used by the backward rules of max/min/amax/amin/norm.
enum class MaskKind : unsigned char {
  equal,      // a == b ? 1 : 0
  abs_equal,  // |a| == b ? 1 : 0
  compare,    // (a > b) - (a < b): sign(a) when b is 0
};
struct MaskParams {
  MaskKind kind = MaskKind::equal;
};

}  // namespace tutor::kernels
