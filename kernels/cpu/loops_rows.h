// Row helpers of the kernels that work along one dim (softmax family, cross_entropy): a packed
// tensor seen as [outer, n, inner] has outer * inner rows of n elements at stride `inner`.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "engine/core/shape.h"
#include "kernels/cpu/loops_common.h"

namespace tutor::kernels::cpu {

// Index of a row's element i: i itself for unit-stride rows (so loops over it vectorize), else
// i * stride.
template <bool Unit>
struct Row {
  int64_t stride;
  int64_t operator()(int64_t i) const { return Unit ? i : i * stride; }
};

// max_i x[r(i)]; NaN elements are skipped, as std::max in the reference (they still poison the
// sum of exponentials that follows).
template <bool Unit>
float row_max(const Row<Unit>& r, const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = x[r(i)] > m ? x[r(i)] : m;
  return m;
}

// sum_i exp(x[r(i)] - m).
template <bool Unit>
double row_sum_exp(const Row<Unit>& r, const float* x, int64_t n, float m) {
  return chunked_sum(n, [&](int64_t i) { return vexp(x[r(i)] - m); });
}

// Calls f(row, start, n, stride) for every row (row = o * inner + i) along `dim` of a contiguous tensor of `sizes`, rows
// split over the threads.
template <class F>
void for_each_row(const Shape& sizes, int64_t dim, F f) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= sizes[size_t(d)];
  for (size_t d = size_t(dim) + 1; d < sizes.size(); ++d) inner *= sizes[d];
  const int64_t n = sizes[size_t(dim)];
  parallel_range(outer * inner, n * 4, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const int64_t o = row / inner, i = row % inner;
      f(row, o * n * inner + i, n, inner);
    }
  });
}

}  // namespace tutor::kernels::cpu
