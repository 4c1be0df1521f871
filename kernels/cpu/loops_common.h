// Building blocks of the CPU loop kernels: a vectorizable expf, the static split of an index range
// over OpenMP threads, and an N-operand strided iterator that coalesces dims and hands contiguous
// (or constant-stride) inner runs to a kernel.
#pragma once

#include <omp.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/core/tensor.h"

namespace tutor::kernels::cpu {

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

// exp(x) in f32 without a libm call, so loops over it vectorize: x = n ln2 + r with |r| <= ln2/2,
// e^r by its degree-6 Taylor-Horner polynomial (Cephes expf coefficients, rel. error ~1.5e-7),
// times 2^n built in the exponent bits as 2^n1 * 2^n2 (n1 + n2 = n, both normal). x is clamped to
// [-104, 89], where the product already underflows to 0 or overflows to inf, so the ends need no
// branch; NaN passes through the clamps and the arithmetic. The loop files are compiled with
// -fno-trapping-math (CMakeLists.txt): otherwise GCC threads the clamps into branches around the
// float-to-int conversion and gives up vectorizing.
inline float vexp(float x) {
  constexpr float kHi = 89.0f, kLo = -104.0f;
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  float xc = x < kLo ? kLo : x;
  xc = xc > kHi ? kHi : xc;
  const float fn = (xc * kLog2e + kRound) - kRound;
  const float r = (xc - fn * kLn2Hi) - fn * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t n = int32_t(fn), n1 = n >> 1, n2 = n - n1;
  return p * std::bit_cast<float>((n1 + 127) << 23) * std::bit_cast<float>((n2 + 127) << 23);
}

// 1 / (1 + exp(-x)) from exp(-|x|), which never overflows.
inline float vsigmoid(float x) {
  const float e = vexp(-std::abs(x));
  const float r = 1.0f / (1.0f + e);
  return x >= 0 ? r : e * r;
}

// sum_{i < n} f(i): f32 partial sums over chunks of 1024 (vectorized lanes), added in double.
// The error stays near that of a double sum, and the loop vectorizes even when f mixes int and
// float math (a double reduction there does not).
template <class F>
double chunked_sum(int64_t n, F f) {
  constexpr int64_t kChunk = 1024;
  double total = 0;
  for (int64_t b = 0; b < n; b += kChunk) {
    const int64_t e = std::min(n, b + kChunk);
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = b; i < e; ++i) s += f(i);
    total += double(s);
  }
  return total;
}

// tanh(x) = sign(x) (1 - e) / (1 + e), e = exp(-2|x|); below |x| = 0.0625, where 1 - e loses
// digits, its odd Taylor series to x^7 (truncation error < 4e-13).
inline float vtanh(float x) {
  const float ax = std::abs(x);
  const float e = vexp(-2.0f * ax);
  const float big = (1.0f - e) / (1.0f + e);
  const float x2 = x * x;
  const float small = x * (1.0f + x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * (-17.0f / 315))));
  return ax < 0.0625f ? small : std::copysign(big, x);
}

// erf(x) by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7):
// 1 - (a1 t + ... + a5 t^5) exp(-x^2), t = 1 / (1 + 0.3275911 |x|), odd in x.
inline float verf(float x) {
  const float ax = std::abs(x);
  const float t = 1.0f / (1.0f + 0.3275911f * ax);
  const float poly =
      t * (0.254829592f +
           t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  return std::copysign(1.0f - poly * vexp(-ax * ax), x);
}

// Operands of an element-wise loop: K tensors of one shape (operand 0 the output), with dims of
// size 1 dropped and dims merged where every operand's strides allow it. dims[0] is innermost.
template <size_t K>
struct StridedLoop {
  std::vector<int64_t> size;
  std::vector<std::array<int64_t, K>> stride;
  std::array<float*, K> base;
  int64_t numel = 1;

  explicit StridedLoop(const std::array<const Tensor*, K>& t) {
    const Shape& shape = t[0]->sizes();
    for (size_t k = 0; k < K; ++k) base[k] = f32_ptr(*t[k]);
    for (int64_t s : shape) numel *= s;
    for (size_t d = shape.size(); d-- > 0;) {
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
  // [begin, end) in row-major order.
  template <class Run>
  void for_range(int64_t begin, int64_t end, Run run) const {
    const size_t nd = size.size();
    std::vector<int64_t> index(nd, 0);
    std::array<float*, K> p = base;
    int64_t rest = begin;
    for (size_t d = 0; d < nd; ++d) {
      index[d] = rest % size[d];
      rest /= size[d];
      for (size_t k = 0; k < K; ++k) p[k] += index[d] * stride[d][k];
    }
    int64_t pos = begin;
    while (pos < end) {
      const int64_t n = std::min(size[0] - index[0], end - pos);
      run(p, n, stride[0]);
      pos += n;
      if (pos >= end) break;
      // finished the inner run: rewind it and advance the outer dims like an odometer
      for (size_t k = 0; k < K; ++k) p[k] -= index[0] * stride[0][k];
      index[0] = 0;
      for (size_t d = 1; d < nd; ++d) {
        ++index[d];
        for (size_t k = 0; k < K; ++k) p[k] += stride[d][k];
        if (index[d] < size[d]) break;
        for (size_t k = 0; k < K; ++k) p[k] -= stride[d][k] * size[d];
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

}  // namespace tutor::kernels::cpu
