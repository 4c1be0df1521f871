// Parameter structs of the indexing and shaping kernels (engine/ops/indexing.cpp, shaping.cpp).
// Dims are already wrapped into [0, ndim) and indices already bounds-checked by the op.
#pragma once

#include <cstdint>
#include <vector>

namespace tutor::kernels {

// index_select, gather, scatter, scatter_add, index_add (alpha scales src), cat.
struct IndexParams {
  int64_t dim = 0;
  double alpha = 1;
};

// flip: the dims to reverse (distinct).
struct FlipParams {
  std::vector<int64_t> dims;
};

// tril, triu over the last two dims: keep (i, j) where j - i <= diagonal (tril) or >= (triu).
struct TriangleParams {
  int64_t diagonal = 0;
};

// sort, topk: the first k elements along dim of the order (largest first when descending),
// ties kept in input order.
struct SortParams {
  int64_t dim = 0;
  int64_t k = 0;
  bool descending = false;
};

}  // namespace tutor::kernels
