// Reductions over any set of dims (an empty list means all), with keepdim as in PyTorch; plus
// cumsum. Dims wrap negatively. Formulas and their derivatives are in reductions.cpp.
#pragma once

#include <optional>
#include <vector>

#include "engine/core/tensor.h"

namespace tutor {

// torch.return_types.max / min: the extreme values and their i64 indices along one dim.
struct ValuesIndices {
  Tensor values;
  Tensor indices;
};

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor prod(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);

// torch.max(x, dim, keepdim) and torch.max(x): the first extreme element along `dim` (NaN counts
// as the extreme, as in PyTorch); the full reduction returns a 0-dim tensor. Reducing an empty
// slice is an error (there is no identity). Gradients: max(x, dim) sends g to the returned index;
// max(x), amax and amin share g evenly among tied extremes (PyTorch's amax/amin rule).
ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
Tensor amax(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// i64 indices of the first extreme element; with no dim, into the flattened input (keepdim then
// keeps every dim as size 1).
Tensor argmax(const Tensor& x, std::optional<int64_t> dim = {}, bool keepdim = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> dim = {}, bool keepdim = false);

// Variance and standard deviation with Bessel's correction (n - 1) when unbiased, else n.
Tensor var(const Tensor& x, const std::vector<int64_t>& dims = {}, bool unbiased = true,
           bool keepdim = false);
Tensor std(const Tensor& x, const std::vector<int64_t>& dims = {}, bool unbiased = true,
           bool keepdim = false);

Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);

// Vector norm (torch.linalg.vector_norm) for p = 1, 2 or infinity.
Tensor norm(const Tensor& x, double p = 2, const std::vector<int64_t>& dims = {},
            bool keepdim = false);

Tensor cumsum(const Tensor& x, int64_t dim);

// Bool results: whether all / any element is nonzero. Not differentiable.
Tensor all(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor any(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);

}  // namespace tutor
