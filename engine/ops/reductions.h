// Reductions over any set of dims (an empty list means all), with keepdim as in PyTorch.
#pragma once

#include <vector>

#include "engine/core/tensor.h"

namespace tutor {

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);

}  // namespace tutor
