// The windows of the pooling kernels (NCHW), shared by every backend: which input positions each
// output position reads, from PyTorch's formulas for fixed (max_pool2d, avg_pool2d) and adaptive
// windows, and what an average window's sum is divided by.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/conv_pool_params.h"
#include "kernels/registry.h"

namespace tutor::kernels {

// The input positions, along one axis, that one output position reads: first + k*step for
// 0 <= k < count, all inside the input. `extent` is the window size counted with padding
// (avg_pool2d's count_include_pad divisor).
struct Taps {
  int64_t first = 0, count = 0, step = 1, extent = 0;
};
struct Windows {
  std::vector<Taps> h, w;  // one per output row / column
};

// Fixed windows (PyTorch max_pool2d / avg_pool2d): output i starts at i*stride - padding and reads
// kernel_size taps `dilation` apart; taps in the padding are skipped. avg_pool2d's padded window
// ends at min(start + kernel_size, n + padding).
inline Taps fixed_taps(int64_t i, int64_t n, int64_t k, int64_t s, int64_t pad, int64_t d) {
  const int64_t start = i * s - pad;
  const int64_t j0 = start < 0 ? (-start + d - 1) / d : 0;
  const int64_t j1 = std::min(k - 1, start > n - 1 ? -1 : (n - 1 - start) / d);
  return {start + j0 * d, std::max<int64_t>(0, j1 - j0 + 1), d, std::min(start + k, n + pad) - start};
}

// Adaptive windows (PyTorch adaptive_*_pool2d): output i of `out` reads
// [floor(i*n/out), ceil((i+1)*n/out)).
inline Taps adaptive_taps(int64_t i, int64_t n, int64_t out) {
  const int64_t begin = (i * n) / out, end = ((i + 1) * n + out - 1) / out;
  return {begin, end - begin, 1, end - begin};
}

// `in` and `out` are the NCHW shapes of the pooled input and of the pooled output.
inline Windows fixed_windows(const KernelArgs& a, const Shape& in, const Shape& out) {
  const auto& p = a.p<Pool2dParams>();
  Windows win;
  for (int64_t i = 0; i < out[2]; ++i)
    win.h.push_back(fixed_taps(i, in[2], p.kernel_size[0], p.stride[0], p.padding[0], p.dilation[0]));
  for (int64_t i = 0; i < out[3]; ++i)
    win.w.push_back(fixed_taps(i, in[3], p.kernel_size[1], p.stride[1], p.padding[1], p.dilation[1]));
  return win;
}

inline Windows adaptive_windows(const KernelArgs&, const Shape& in, const Shape& out) {
  Windows win;
  for (int64_t i = 0; i < out[2]; ++i) win.h.push_back(adaptive_taps(i, in[2], out[2]));
  for (int64_t i = 0; i < out[3]; ++i) win.w.push_back(adaptive_taps(i, in[3], out[3]));
  return win;
}

using WindowFn = Windows (*)(const KernelArgs&, const Shape&, const Shape&);

// What a window's sum is divided by: divisor_override, else the padded window size when
// count_include_pad, else the number of taps inside the input (PyTorch avg_pool2d).
// Adaptive pooling has no params and divides by the window size.
inline double avg_divisor(const KernelArgs& a, const Taps& th, const Taps& tw) {
  if (!a.params) return double(th.count * tw.count);
  const auto& p = a.p<Pool2dParams>();
  if (p.divisor_override) return double(*p.divisor_override);
  return double(p.count_include_pad ? th.extent * tw.extent : th.count * tw.count);
}

}  // namespace tutor::kernels
