// Parameter structs of the reduction family beyond kernels/params.h's ReduceParams.
#pragma once

#include <cstdint>

namespace tutor::kernels {

// cumsum along `dim` (wrapped); `reverse` sums from the end (the backward of cumsum).
struct CumsumParams {
  int64_t dim = 0;
  bool reverse = false;
};

}  // namespace tutor::kernels
