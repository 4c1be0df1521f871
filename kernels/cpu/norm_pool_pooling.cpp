// max_pool2d (values and i64 indices), adaptive_max_pool2d, max_pool2d_backward, avg_pool2d,
// adaptive_avg_pool2d and their backwards, f32 NCHW, as OpenMP loops over the N*C planes with
// the contract of kernels/reference/conv_pool.cpp. The windows are the reference's
// (kernels/pool_windows.h). Each thread owns whole planes, so the backward scatters need no
// atomics; window sums run in double, as the reference's.
//
// On channels-last tensors (when the op allocated the output so, kernels/cpu/channels_last.h)
// the same windows reduce whole rows of C contiguous channels, vectorized along C; threads own
// windows in the forward and whole samples in the backward scatters.
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu/channels_last.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/loops_common.h"
#include "kernels/cpu/threads.h"
#include "kernels/pool_windows.h"

namespace tutor::kernels::cpu {

namespace {

// The pooled geometry: `in` the NCHW input's sizes, `out` the output's.
struct Planes {
  int64_t count, W, plane, oplane;
  Planes(const Shape& in, const Shape& out)
      : count(in[0] * in[1]), W(in[3]), plane(in[2] * in[3]), oplane(out[2] * out[3]) {}
};

// Calls f(pl, o, taps_h, taps_w) for every window of planes [b, e), o the output's offset inside
// its plane; planes are split over threads.
template <class F>
void for_each_window(const Windows& win, const Planes& g, F f) {
  const int64_t cost = std::max<int64_t>(g.plane, g.oplane);
  parallel_range(g.count, cost, [&](int64_t b, int64_t e) {
    const int64_t OW = int64_t(win.w.size());
    for (int64_t pl = b; pl < e; ++pl)
      for (size_t oh = 0; oh < win.h.size(); ++oh)
        for (size_t ow = 0; ow < win.w.size(); ++ow)
          f(pl, int64_t(oh) * OW + int64_t(ow), win.h[oh], win.w[ow]);
  });
}

// ---- channels-last ----

// The NHWC geometry: x [N, H, W, C] in memory, the output [N, OH, OW, C].
struct Rows {
  int64_t N, C, H, W, windows;  // windows per sample: OH * OW
  Rows(const Shape& in, const Shape& out)
      : N(in[0]), C(in[1]), H(in[2]), W(in[3]), windows(out[2] * out[3]) {}
  // The row of C channels at flat plane position `at` of sample n.
  int64_t row(int64_t n, int64_t at) const { return (n * H * W + at) * C; }
};

// Calls f(n, o, taps_h, taps_w) for every window, o = (n * OH + oh) * OW + ow its output row;
// windows are split over threads.
template <class F>
void for_each_window_nhwc(const Windows& win, const Rows& g, F f) {
  const int64_t OW = int64_t(win.w.size());
  parallel_range(g.N * g.windows, g.C * 4, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      const int64_t in_sample = o % g.windows;
      f(o / g.windows, o, win.h[size_t(in_sample / OW)], win.w[size_t(in_sample % OW)]);
    }
  });
}

int64_t* i64_ptr(const Tensor& t) {
  return static_cast<int64_t*>(t.storage()->data()) + t.offset();
}

template <WindowFn windows>
void max_pool_nhwc(const KernelArgs& a) {
  const Tensor x = nhwc_input(a.in[0]);
  const Rows g(x.sizes(), a.out[0].sizes());
  const float* xp = f32_ptr(x);
  float* yp = f32_ptr(a.out[0]);
  int64_t* ip = i64_ptr(a.out[1]);
  for_each_window_nhwc(windows(a, x.sizes(), a.out[0].sizes()), g,
                       [&](int64_t n, int64_t o, const Taps& th, const Taps& tw) {
                         float* y = yp + o * g.C;
                         int64_t* idx = ip + o * g.C;
                         std::fill(y, y + g.C, -std::numeric_limits<float>::infinity());
                         std::fill(idx, idx + g.C, int64_t(-1));
                         for (int64_t i = 0; i < th.count; ++i)
                           for (int64_t j = 0; j < tw.count; ++j) {
                             const int64_t at =
                                 (th.first + i * th.step) * g.W + tw.first + j * tw.step;
                             const float* xr = xp + g.row(n, at);
#pragma omp simd
                             for (int64_t c = 0; c < g.C; ++c)
                               if (xr[c] > y[c] || std::isnan(xr[c])) y[c] = xr[c], idx[c] = at;
                           }
                       });
}

void max_pool2d_backward_nhwc(const KernelArgs& a) {
  const Tensor gt = nhwc_input(a.in[0]), idx = nhwc_input(a.in[1]);
  const Rows g(a.out[0].sizes(), gt.sizes());
  const float* gp = f32_ptr(gt);
  const int64_t* ip = i64_ptr(idx);
  float* gx = f32_ptr(a.out[0]);
  parallel_range(g.N, g.H * g.W * g.C, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) {
      std::memset(gx + g.row(n, 0), 0, size_t(g.H * g.W * g.C) * sizeof(float));
      for (int64_t o = n * g.windows; o < (n + 1) * g.windows; ++o)
        for (int64_t c = 0; c < g.C; ++c) {
          const int64_t at = ip[o * g.C + c];
          if (at >= 0) gx[g.row(n, at) + c] += gp[o * g.C + c];
        }
    }
  });
}

template <WindowFn windows>
void avg_pool_nhwc(const KernelArgs& a) {
  const Tensor x = nhwc_input(a.in[0]);
  const Rows g(x.sizes(), a.out[0].sizes());
  const float* xp = f32_ptr(x);
  float* yp = f32_ptr(a.out[0]);
  for_each_window_nhwc(windows(a, x.sizes(), a.out[0].sizes()), g,
                       [&](int64_t n, int64_t o, const Taps& th, const Taps& tw) {
                         thread_local std::vector<double> acc;
                         acc.assign(size_t(g.C), 0.0);
                         double* s = acc.data();
                         for (int64_t i = 0; i < th.count; ++i)
                           for (int64_t j = 0; j < tw.count; ++j) {
                             const float* xr = xp + g.row(n, (th.first + i) * g.W + tw.first + j);
#pragma omp simd
                             for (int64_t c = 0; c < g.C; ++c) s[c] += double(xr[c]);
                           }
                         float* y = yp + o * g.C;
                         if (th.count * tw.count == 0) return std::fill(y, y + g.C, 0.f);
                         const double div = avg_divisor(a, th, tw);
#pragma omp simd
                         for (int64_t c = 0; c < g.C; ++c) y[c] = float(s[c] / div);
                       });
}

template <WindowFn windows>
void avg_pool_backward_nhwc(const KernelArgs& a) {
  const Tensor gt = nhwc_input(a.in[0]);
  const Rows g(a.out[0].sizes(), gt.sizes());
  const Windows win = windows(a, a.out[0].sizes(), gt.sizes());
  const int64_t OW = int64_t(win.w.size());
  const float* gp = f32_ptr(gt);
  float* gx = f32_ptr(a.out[0]);
  parallel_range(g.N, g.H * g.W * g.C, [&](int64_t b, int64_t e) {
    std::vector<float> share(static_cast<size_t>(g.C));
    for (int64_t n = b; n < e; ++n) {
      std::memset(gx + g.row(n, 0), 0, size_t(g.H * g.W * g.C) * sizeof(float));
      for (int64_t w = 0; w < g.windows; ++w) {
        const Taps &th = win.h[size_t(w / OW)], &tw = win.w[size_t(w % OW)];
        if (th.count * tw.count == 0) continue;
        const double div = avg_divisor(a, th, tw);
        const float* gr = gp + (n * g.windows + w) * g.C;
        for (int64_t c = 0; c < g.C; ++c) share[size_t(c)] = float(double(gr[c]) / div);
        for (int64_t i = 0; i < th.count; ++i)
          for (int64_t j = 0; j < tw.count; ++j) {
            float* row = gx + g.row(n, (th.first + i) * g.W + tw.first + j);
#pragma omp simd
            for (int64_t c = 0; c < g.C; ++c) row[c] += share[size_t(c)];
          }
      }
    }
  });
}

// ---- NCHW ----

// in: x [N, C, H, W]; out: values, indices (flat into H*W). NaN wins (the last NaN's index),
// ties keep the first tap in row-major order; a window missing the input gives -inf, index -1.
template <WindowFn windows>
void max_pool(const KernelArgs& a) {
  apply_num_threads();
  if (nhwc_output(a.out[0])) return max_pool_nhwc<windows>(a);
  Tensor x = a.in[0].contiguous_raw();
  const Planes g(x.sizes(), a.out[0].sizes());
  const float* xp = f32_ptr(x);
  float* yp = f32_ptr(a.out[0]);
  int64_t* ip = static_cast<int64_t*>(a.out[1].storage()->data()) + a.out[1].offset();
  for_each_window(windows(a, x.sizes(), a.out[0].sizes()), g,
                  [&](int64_t pl, int64_t o, const Taps& th, const Taps& tw) {
                    const float* xpl = xp + pl * g.plane;
                    float best = -std::numeric_limits<float>::infinity();
                    int64_t best_at = -1;
                    for (int64_t i = 0; i < th.count; ++i) {
                      const int64_t row = (th.first + i * th.step) * g.W;
                      for (int64_t j = 0; j < tw.count; ++j) {
                        const int64_t at = row + tw.first + j * tw.step;
                        const float v = xpl[at];
                        if (v > best || std::isnan(v)) best = v, best_at = at;
                      }
                    }
                    yp[pl * g.oplane + o] = best;
                    ip[pl * g.oplane + o] = best_at;
                  });
}

void max_pool2d_kernel(const KernelArgs& a) { max_pool<fixed_windows>(a); }
void adaptive_max_pool2d_kernel(const KernelArgs& a) { max_pool<adaptive_windows>(a); }

// in: g [N, C, OH, OW], indices; out: gx [N, C, H, W], gx[plane, idx[o]] += g[o].
void max_pool2d_backward_kernel(const KernelArgs& a) {
  apply_num_threads();
  if (nhwc_output(a.out[0])) return max_pool2d_backward_nhwc(a);
  Tensor gt = a.in[0].contiguous_raw(), idx = a.in[1].contiguous_raw();
  const Planes g(a.out[0].sizes(), gt.sizes());
  const float* gp = f32_ptr(gt);
  const int64_t* ip = static_cast<const int64_t*>(idx.storage()->data()) + idx.offset();
  float* gx = f32_ptr(a.out[0]);
  parallel_range(g.count, g.plane, [&](int64_t b, int64_t e) {
    for (int64_t pl = b; pl < e; ++pl) {
      float* gxp = gx + pl * g.plane;
      std::memset(gxp, 0, size_t(g.plane) * sizeof(float));
      for (int64_t o = pl * g.oplane; o < (pl + 1) * g.oplane; ++o)
        if (ip[o] >= 0) gxp[ip[o]] += gp[o];
    }
  });
}

double sum_of(const float* x, int64_t n) {
  double acc = 0;
  if (n < 16) {  // a short window row: a vector loop's prologue costs more than it saves
    for (int64_t i = 0; i < n; ++i) acc += double(x[i]);
    return acc;
  }
#pragma omp simd reduction(+ : acc)
  for (int64_t i = 0; i < n; ++i) acc += double(x[i]);
  return acc;
}

// in: x [N, C, H, W]; out: y [N, C, OH, OW] = window sums / avg_divisor.
template <WindowFn windows>
void avg_pool(const KernelArgs& a) {
  apply_num_threads();
  if (nhwc_output(a.out[0])) return avg_pool_nhwc<windows>(a);
  Tensor x = a.in[0].contiguous_raw();
  const Planes g(x.sizes(), a.out[0].sizes());
  const float* xp = f32_ptr(x);
  float* yp = f32_ptr(a.out[0]);
  for_each_window(windows(a, x.sizes(), a.out[0].sizes()), g,
                  [&](int64_t pl, int64_t o, const Taps& th, const Taps& tw) {
                    // Average windows have step 1 (no dilation).
                    const float* first = xp + pl * g.plane + th.first * g.W + tw.first;
                    // Full-width windows (the global pool) are one contiguous run.
                    const bool full_rows = tw.count == g.W;
                    const int64_t rows = full_rows ? 1 : th.count;
                    const int64_t run = full_rows ? th.count * g.W : tw.count;
                    double s = 0;
                    for (int64_t i = 0; i < rows; ++i) s += sum_of(first + i * g.W, run);
                    yp[pl * g.oplane + o] =
                        th.count * tw.count == 0 ? 0.f : float(s / avg_divisor(a, th, tw));
                  });
}

// in: g [N, C, OH, OW]; out: gx [N, C, H, W]; every tap of a window gets g / divisor.
template <WindowFn windows>
void avg_pool_backward(const KernelArgs& a) {
  apply_num_threads();
  if (nhwc_output(a.out[0])) return avg_pool_backward_nhwc<windows>(a);
  Tensor gt = a.in[0].contiguous_raw();
  const Planes g(a.out[0].sizes(), gt.sizes());
  const float* gp = f32_ptr(gt);
  float* gx = f32_ptr(a.out[0]);
  const Windows win = windows(a, a.out[0].sizes(), gt.sizes());
  parallel_range(g.count, g.plane, [&](int64_t b, int64_t e) {
    std::memset(gx + b * g.plane, 0, size_t((e - b) * g.plane) * sizeof(float));
  });
  for_each_window(win, g, [&](int64_t pl, int64_t o, const Taps& th, const Taps& tw) {
    if (th.count * tw.count == 0) return;
    const float share = float(double(gp[pl * g.oplane + o]) / avg_divisor(a, th, tw));
    for (int64_t i = 0; i < th.count; ++i) {
      float* row = gx + pl * g.plane + (th.first + i * th.step) * g.W + tw.first;
#pragma omp simd
      for (int64_t j = 0; j < tw.count; ++j) row[j] += share;
    }
  });
}

void avg_pool2d_kernel(const KernelArgs& a) { avg_pool<fixed_windows>(a); }
void avg_pool2d_backward_kernel(const KernelArgs& a) { avg_pool_backward<fixed_windows>(a); }
void adaptive_avg_pool2d_kernel(const KernelArgs& a) { avg_pool<adaptive_windows>(a); }
void adaptive_avg_pool2d_backward_kernel(const KernelArgs& a) {
  avg_pool_backward<adaptive_windows>(a);
}

}  // namespace

void register_pooling() {
  const LoopKernel table[] = {
      {"max_pool2d", max_pool2d_kernel},
      {"adaptive_max_pool2d", adaptive_max_pool2d_kernel},
      {"max_pool2d_backward", max_pool2d_backward_kernel},
      {"avg_pool2d", avg_pool2d_kernel},
      {"avg_pool2d_backward", avg_pool2d_backward_kernel},
      {"adaptive_avg_pool2d", adaptive_avg_pool2d_kernel},
      {"adaptive_avg_pool2d_backward", adaptive_avg_pool2d_backward_kernel}};
  for (const LoopKernel& k : table) {
    register_kernel(k.name, Backend::cpu, DType::f32, k.fn);
    set_channels_last(k.name, Backend::cpu, DType::f32);
  }
}

}  // namespace tutor::kernels::cpu
