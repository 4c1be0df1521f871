// Walking N-d strided layouts. `for_each_offset` visits every index of `shape` in row-major
// order and calls f(off[0], ..., off[K-1]) with the element offset of that index in each of K
// stride sets: the loop every element-wise reference kernel and every strided copy is made of.
#pragma once

#include <array>
#include <cstdint>
#include <tuple>
#include <vector>

#include "engine/core/shape.h"

namespace tutor {

template <size_t K, class F>
void for_each_offset(const Shape& shape, const std::array<const Shape*, K>& strides,
                     std::array<int64_t, K> base, F&& f) {
  const size_t nd = shape.size();
  for (int64_t s : shape)
    if (s == 0) return;
  if (nd == 0) {
    std::apply(f, base);
    return;
  }
  std::vector<int64_t> index(nd, 0);
  std::array<int64_t, K> off = base;
  const int64_t inner = shape[nd - 1];
  std::array<int64_t, K> inner_stride;
  for (size_t k = 0; k < K; ++k) inner_stride[k] = (*strides[k])[nd - 1];
  while (true) {
    std::array<int64_t, K> o = off;
    for (int64_t i = 0; i < inner; ++i) {
      std::apply(f, o);
      for (size_t k = 0; k < K; ++k) o[k] += inner_stride[k];
    }
    // advance the outer dims like an odometer
    size_t d = nd - 1;
    while (true) {
      if (d == 0) return;
      --d;
      ++index[d];
      for (size_t k = 0; k < K; ++k) off[k] += (*strides[k])[d];
      if (index[d] < shape[d]) break;
      for (size_t k = 0; k < K; ++k) off[k] -= (*strides[k])[d] * shape[d];
      index[d] = 0;
    }
  }
}

}  // namespace tutor
