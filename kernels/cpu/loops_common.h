// The ISA-independent parts of the CPU loop kernels: the static split of an index range over
// OpenMP threads, an N-operand strided iterator (operands of any dtype) that coalesces dims and
// hands contiguous (or constant-stride) inner runs to a kernel, the rows along one dim, and
// kernel tables. The
// vectorized math is in loops_simd.h, compiled once per ISA (loops_isa.h).
#pragma once

#include <omp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/core/shape.h"
#include "engine/core/tensor.h"
#include "kernels/registry.h"

namespace tutor::kernels::cpu {

// A kernel of a loop file's table, registered under `name` for Backend::cpu and f32.
struct LoopKernel {
  const char* name;
  KernelFn fn;
};

// Whether this CPU runs the AVX-512 builds of the loops (loops_isa.h); TUTOR_CPU_ISA=baseline
// forces the baseline build (to test it on an AVX-512 machine).
bool use_avx512();

// Registers one of a loop file's two tables: the AVX-512 one where the CPU has it.
template <size_t N, size_t M>
void register_table(const LoopKernel (&baseline)[N], const LoopKernel (&avx512)[M]) {
  static_assert(N == M, "both builds of a loop file have the same kernels");
  const bool wide = use_avx512();
  for (size_t i = 0; i < N; ++i)
    register_kernel(baseline[i].name, Backend::cpu, DType::f32,
                    wide ? avx512[i].fn : baseline[i].fn);
}

// Below this many elements a loop stays on the calling thread: opening a parallel region costs
// a few microseconds, about what 32K floats take to stream.
inline constexpr int64_t kGrain = 32768;

// The first element of `t` (its storage offset applied).
inline float* f32_ptr(const Tensor& t) {
  return static_cast<float*>(t.storage()->data()) + t.offset();
}

// Thread `tid` of `nt` gets [begin, end) of [0, n): contiguous blocks of near-equal size.
struct Range {
  int64_t begin, end;
};
inline Range thread_range(int64_t n, int tid, int nt) {
  const int64_t q = n / nt, r = n % nt;
  const int64_t b = tid * q + std::min<int64_t>(tid, r);
  return {b, b + q + (tid < r ? 1 : 0)};
}

// Calls f(begin, end) on each OpenMP thread with that thread's share of [0, n); on one thread when
// the work (n * cost elements) is below kGrain.
template <class F>
void parallel_range(int64_t n, int64_t cost, F f) {
  if (n <= 0) return;
  if (n * cost < kGrain || omp_get_max_threads() == 1 || n == 1) {
    f(int64_t(0), n);
    return;
  }
#pragma omp parallel
  {
    Range r = thread_range(n, omp_get_thread_num(), omp_get_num_threads());
    if (r.begin < r.end) f(r.begin, r.end);
  }
}

// Operands of an element-wise loop: K tensors of one shape (operand 0 the output), with dims of
// size 1 dropped and dims merged where every operand's strides allow it. dims[0] is innermost.
// Operands may differ in dtype (a bool mask, a bool output): pointers are to bytes, strides in
// elements of each operand's own type.
// Dims are taken in the output's memory order (by decreasing output stride, as PyTorch's
// TensorIterator), so a channels-last or other permuted dense output with inputs of the same
// layout is one flat run, and [N, C, H, W] channels-last + [1, C, 1, 1] is runs of C.
template <size_t K>
struct StridedLoop {
  std::vector<int64_t> size;
  std::vector<std::array<int64_t, K>> stride;
  std::array<char*, K> base;
  std::array<int64_t, K> item;  // element size in bytes
  int64_t numel = 1;

  explicit StridedLoop(const std::array<const Tensor*, K>& t) {
    const Shape& shape = t[0]->sizes();
    for (size_t k = 0; k < K; ++k) {
      item[k] = int64_t(element_size(t[k]->dtype()));
      base[k] = static_cast<char*>(t[k]->storage()->data()) + t[k]->offset() * item[k];
    }
    for (int64_t s : shape) numel *= s;
    std::vector<size_t> order(shape.size());
    for (size_t d = 0; d < order.size(); ++d) order[d] = d;
    const Shape& out_strides = t[0]->strides();
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return out_strides[a] > out_strides[b]; });
    for (size_t i = order.size(); i-- > 0;) {
      const size_t d = order[i];
      if (shape[d] == 1) continue;
      std::array<int64_t, K> st;
      for (size_t k = 0; k < K; ++k) st[k] = t[k]->strides()[d];
      if (!size.empty()) {
        bool merge = true;
        for (size_t k = 0; k < K; ++k) merge &= st[k] == stride.back()[k] * size.back();
        if (merge) {
          size.back() *= shape[d];
          continue;
        }
      }
      size.push_back(shape[d]);
      stride.push_back(st);
    }
    if (size.empty()) {  // 0-dim or all ones: one element
      size.push_back(1);
      stride.push_back({});
    }
  }

  // Calls run(ptrs, n, inner_strides) over runs of the innermost dim covering elements
  // [begin, end) in the loop's order (row-major for a contiguous output).
  template <class Run>
  void for_range(int64_t begin, int64_t end, Run run) const {
    const size_t nd = size.size();
    std::vector<int64_t> index(nd, 0);
    std::array<char*, K> p = base;
    auto step = [&](size_t d, int64_t times) {
      for (size_t k = 0; k < K; ++k) p[k] += times * stride[d][k] * item[k];
    };
    int64_t rest = begin;
    for (size_t d = 0; d < nd; ++d) {
      index[d] = rest % size[d];
      rest /= size[d];
      step(d, index[d]);
    }
    int64_t pos = begin;
    while (pos < end) {
      const int64_t n = std::min(size[0] - index[0], end - pos);
      run(p, n, stride[0]);
      pos += n;
      if (pos >= end) break;
      // finished the inner run: rewind it and advance the outer dims like an odometer
      step(0, -index[0]);
      index[0] = 0;
      for (size_t d = 1; d < nd; ++d) {
        ++index[d];
        step(d, 1);
        if (index[d] < size[d]) break;
        step(d, -size[d]);
        index[d] = 0;
      }
    }
  }

  // for_range over all elements, split over the threads.
  template <class Run>
  void parallel_for(Run run) const {
    parallel_range(numel, 1, [&](int64_t b, int64_t e) { for_range(b, e, run); });
  }
};

// Calls f(row, start, n, stride) for every row (row = o * inner + i) along `dim` of a contiguous
// tensor of `sizes`, rows split over the threads.
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
