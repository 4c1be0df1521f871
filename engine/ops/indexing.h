// Indexing ops with PyTorch semantics: picking, scattering and sorting along a dim. Indices are
// i64 tensors in [0, size) (no negative indices, as in these PyTorch ops); an index out of range
// throws naming the op, the index and the size. Formulas and derivatives are in indexing.cpp.
#pragma once

#include <optional>

#include "engine/core/tensor.h"

namespace tutor {

// y[..., j, ...] = x[..., index[j], ...] along dim; index is 0-d or 1-D.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// y[p] = x[p with p[dim] = index[p]]; index has x's rank and y has index's shape.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// Out of place: y = x, then y[p with p[dim] = index[p]] = src[p] for every p of index.
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
// Out of place: y = x, then y[p with p[dim] = index[p]] += src[p]; repeated targets accumulate.
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
// Out of place: y = x, then y[..., index[j], ...] += alpha * src[..., j, ...] along dim.
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src,
                 double alpha = 1);
// The elements of x where the bool mask is true (both broadcast), as a 1-D tensor.
Tensor masked_select(const Tensor& x, const Tensor& mask);

// Rows of weight [num_embeddings, dim] picked by indices of any shape: y has shape
// indices.shape + [dim]. The row padding_idx (may be negative) receives no gradient.
Tensor embedding(const Tensor& weight, const Tensor& indices,
                 std::optional<int64_t> padding_idx = {});
// i64 labels of any shape to i64 one-hot vectors of num_classes (-1: max label + 1).
Tensor one_hot(const Tensor& labels, int64_t num_classes = -1);

struct SortResult {
  Tensor values;
  Tensor indices;  // i64 positions along dim in the input
};

// Sorted along dim; ties keep their input order (so `stable` is always honoured). NaN sorts as the
// largest value.
SortResult sort(const Tensor& x, int64_t dim = -1, bool descending = false, bool stable = false);
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false, bool stable = false);
// The k largest (or smallest) along dim. The result is always sorted, whatever `sorted` says.
SortResult topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true,
                bool sorted = true);

}  // namespace tutor
