// Reference convolution and pooling kernels, NCHW. Inputs may have any strides (they are packed
// first); outputs are contiguous. Sums run in double.
//
// The three convolution kernels share one loop, for_each_conv_tap, that visits every product
// input * weight summed into an output element; forward, backward-input and backward-weight only
// differ in which of the three factors they accumulate into, so they are adjoint by construction.
// The pooling kernels share one description of a window (Taps, per axis) computed from PyTorch's
// formulas for fixed and for adaptive windows.
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/conv_pool_params.h"
#include "kernels/pool_windows.h"
#include "kernels/reference/loops.h"
#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

namespace {

// ---- convolution ----

// Calls f(x_offset, w_offset, y_offset) (offsets into contiguous tensors) for every term
//   y[n, o, oh, ow] += x[n, g*C/G + c, oh*s - p + kh*d, ow*s - p + kw*d] * w[o, c, kh, kw]
// of conv2d (g = o / (O/G), the group of output channel o), skipping taps that fall in padding.
template <class F>
void for_each_conv_tap(const Shape& xs, const Shape& ws, const Shape& ys, const Conv2dParams& p,
                       F&& f) {
  const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
  const int64_t O = ws[0], Cg = ws[1], KH = ws[2], KW = ws[3];
  const int64_t OH = ys[2], OW = ys[3];
  const int64_t Og = O / p.groups;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o) {
      const int64_t c0 = (o / Og) * Cg;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const int64_t y_off = ((n * O + o) * OH + oh) * OW + ow;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < KH; ++kh) {
              const int64_t ih = oh * p.stride[0] - p.padding[0] + kh * p.dilation[0];
              if (ih < 0 || ih >= H) continue;
              for (int64_t kw = 0; kw < KW; ++kw) {
                const int64_t iw = ow * p.stride[1] - p.padding[1] + kw * p.dilation[1];
                if (iw < 0 || iw >= W) continue;
                f(((n * C + c0 + c) * H + ih) * W + iw, ((o * Cg + c) * KH + kh) * KW + kw, y_off);
              }
            }
        }
    }
}

// Writes the double accumulator into `out`, adding bias[c] to every element of channel c when a
// bias is given.
template <class T>
void store(const std::vector<double>& acc, const Tensor& out, const Tensor* bias = nullptr) {
  T* op = out.data<T>();
  std::vector<double> b;
  if (bias) b = bias->contiguous_raw().to_vector<double>();
  const int64_t C = out.size(1), plane = out.size(2) * out.size(3);
  for (size_t i = 0; i < acc.size(); ++i)
    op[i] = T(acc[i] + (bias ? b[size_t((int64_t(i) / plane) % C)] : 0.0));
}

// The optional third input; absent or undefined means no bias.
const Tensor* bias_of(const KernelArgs& a) {
  return a.in.size() > 2 && a.in[2].defined() ? &a.in[2] : nullptr;
}

// in: x [N, C, H, W], w [O, C/G, kH, kW], optional bias [O]; out: y [N, O, OH, OW]
template <class T>
void conv2d_kernel(const KernelArgs& a) {
  Tensor x = a.in[0].contiguous_raw(), w = a.in[1].contiguous_raw();
  const Tensor& y = a.out[0];
  const T *xp = x.data<T>(), *wp = w.data<T>();
  std::vector<double> acc(size_t(y.numel()), 0.0);
  for_each_conv_tap(x.sizes(), w.sizes(), y.sizes(), a.p<Conv2dParams>(),
                    [&](int64_t xo, int64_t wo, int64_t yo) { acc[size_t(yo)] += double(xp[xo]) * wp[wo]; });
  store<T>(acc, y, bias_of(a));
}

// The adjoint of conv2d in its input (and the forward of conv_transpose2d).
// in: g [N, O, OH, OW], w [O, C/G, kH, kW], optional bias [C]; out: x-shaped [N, C, H, W]
template <class T>
void conv2d_backward_input_kernel(const KernelArgs& a) {
  Tensor g = a.in[0].contiguous_raw(), w = a.in[1].contiguous_raw();
  const Tensor& gx = a.out[0];
  const T *gp = g.data<T>(), *wp = w.data<T>();
  std::vector<double> acc(size_t(gx.numel()), 0.0);
  for_each_conv_tap(gx.sizes(), w.sizes(), g.sizes(), a.p<Conv2dParams>(),
                    [&](int64_t xo, int64_t wo, int64_t yo) { acc[size_t(xo)] += double(gp[yo]) * wp[wo]; });
  store<T>(acc, gx, bias_of(a));
}

// The adjoint of conv2d in its weight. in: x [N, C, H, W], g [N, O, OH, OW]; out: w-shaped
template <class T>
void conv2d_backward_weight_kernel(const KernelArgs& a) {
  Tensor x = a.in[0].contiguous_raw(), g = a.in[1].contiguous_raw();
  const Tensor& gw = a.out[0];
  const T *xp = x.data<T>(), *gp = g.data<T>();
  std::vector<double> acc(size_t(gw.numel()), 0.0);
  for_each_conv_tap(x.sizes(), gw.sizes(), g.sizes(), a.p<Conv2dParams>(),
                    [&](int64_t xo, int64_t wo, int64_t yo) { acc[size_t(wo)] += double(xp[xo]) * gp[yo]; });
  store<T>(acc, gw);
}

// ---- pooling (windows in kernels/pool_windows.h) ----

// Calls f(plane, o, taps_h, taps_w) for every window of `planes` (N*C) planes, with o the output's
// offset inside its [OH, OW] plane.
template <class F>
void for_each_window(const Windows& win, int64_t planes, F&& f) {
  const int64_t OW = int64_t(win.w.size());
  for (int64_t pl = 0; pl < planes; ++pl)
    for (size_t oh = 0; oh < win.h.size(); ++oh)
      for (size_t ow = 0; ow < win.w.size(); ++ow) f(pl, int64_t(oh) * OW + int64_t(ow), win.h[oh], win.w[ow]);
}

// Calls f(input offset inside the [H, W] plane) for every tap of a window.
template <class F>
void for_each_tap(const Taps& th, const Taps& tw, int64_t W, F&& f) {
  for (int64_t i = 0; i < th.count; ++i)
    for (int64_t j = 0; j < tw.count; ++j) f((th.first + i * th.step) * W + tw.first + j * tw.step);
}

// ---- max pooling ----

// in: x [N, C, H, W]; out: values [N, C, OH, OW], indices (i64, flat into H*W). As PyTorch's CPU
// kernel: NaN wins (the last NaN's index), ties keep the first tap in row-major order.
template <class T, WindowFn windows>
void max_pool(const KernelArgs& a) {
  Tensor x = a.in[0].contiguous_raw();
  const Tensor &y = a.out[0], &idx = a.out[1];
  const int64_t H = x.size(2), W = x.size(3), plane = H * W, oplane = y.size(2) * y.size(3);
  const T* xp = x.data<T>();
  T* yp = y.data<T>();
  int64_t* ip = idx.data<int64_t>();
  for_each_window(windows(a, x.sizes(), y.sizes()), x.size(0) * x.size(1),
                  [&](int64_t pl, int64_t o, const Taps& th, const Taps& tw) {
                    // A window can miss the input entirely when dilation skips over it: -inf, index -1.
                    T best = -std::numeric_limits<T>::infinity();
                    int64_t best_at = -1;
                    for_each_tap(th, tw, W, [&](int64_t at) {
                      T v = xp[pl * plane + at];
                      if (v > best || std::isnan(v)) {
                        best = v;
                        best_at = at;
                      }
                    });
                    yp[pl * oplane + o] = best;
                    ip[pl * oplane + o] = best_at;
                  });
}

template <class T> void max_pool2d_kernel(const KernelArgs& a) { max_pool<T, fixed_windows>(a); }
template <class T> void adaptive_max_pool2d_kernel(const KernelArgs& a) { max_pool<T, adaptive_windows>(a); }

// Scatters each output gradient to its argmax: gx[plane, idx[o]] += g[o] (none for idx -1).
// in: g [N, C, OH, OW], indices; out: gx [N, C, H, W]
template <class T>
void max_pool2d_backward_kernel(const KernelArgs& a) {
  Tensor g = a.in[0].contiguous_raw(), idx = a.in[1].contiguous_raw();
  const Tensor& gx = a.out[0];
  const int64_t plane = gx.size(2) * gx.size(3), oplane = g.size(2) * g.size(3);
  const T* gp = g.data<T>();
  const int64_t* ip = idx.data<int64_t>();
  std::vector<double> acc(size_t(gx.numel()), 0.0);
  for (int64_t o = 0; o < g.numel(); ++o)
    if (ip[o] >= 0) acc[size_t((o / oplane) * plane + ip[o])] += double(gp[o]);
  store<T>(acc, gx);
}

// The adjoint of max_pool2d_backward: gathers the argmax of every window, y[o] = gx[plane, idx[o]].
// in: gx [N, C, H, W], indices [N, C, OH, OW]; out: [N, C, OH, OW]
template <class T>
void max_pool2d_double_backward_kernel(const KernelArgs& a) {
  Tensor gx = a.in[0].contiguous_raw(), idx = a.in[1].contiguous_raw();
  const Tensor& y = a.out[0];
  const int64_t plane = gx.size(2) * gx.size(3), oplane = y.size(2) * y.size(3);
  const T* gp = gx.data<T>();
  const int64_t* ip = idx.data<int64_t>();
  T* yp = y.data<T>();
  for (int64_t o = 0; o < y.numel(); ++o) yp[o] = ip[o] >= 0 ? gp[(o / oplane) * plane + ip[o]] : T(0);
}

// ---- average pooling ----


// in: x [N, C, H, W]; out: y [N, C, OH, OW] = window sums / divisor
template <class T, WindowFn windows>
void avg_pool(const KernelArgs& a) {
  Tensor x = a.in[0].contiguous_raw();
  const Tensor& y = a.out[0];
  const int64_t W = x.size(3), plane = x.size(2) * W, oplane = y.size(2) * y.size(3);
  const T* xp = x.data<T>();
  T* yp = y.data<T>();
  for_each_window(windows(a, x.sizes(), y.sizes()), x.size(0) * x.size(1),
                  [&](int64_t pl, int64_t o, const Taps& th, const Taps& tw) {
                    double s = 0;
                    for_each_tap(th, tw, W, [&](int64_t at) { s += double(xp[pl * plane + at]); });
                    yp[pl * oplane + o] = th.count * tw.count == 0
                                              ? T(0)
                                              : T(s / avg_divisor(a, th, tw));
                  });
}

// The adjoint of avg_pool: every tap of a window gets g / divisor.
// in: g [N, C, OH, OW]; out: gx [N, C, H, W]
template <class T, WindowFn windows>
void avg_pool_backward(const KernelArgs& a) {
  Tensor g = a.in[0].contiguous_raw();
  const Tensor& gx = a.out[0];
  const int64_t W = gx.size(3), plane = gx.size(2) * W, oplane = g.size(2) * g.size(3);
  const T* gp = g.data<T>();
  std::vector<double> acc(size_t(gx.numel()), 0.0);
  for_each_window(windows(a, gx.sizes(), g.sizes()), gx.size(0) * gx.size(1),
                  [&](int64_t pl, int64_t o, const Taps& th, const Taps& tw) {
                    if (th.count * tw.count == 0) return;
                    double share = double(gp[pl * oplane + o]) / avg_divisor(a, th, tw);
                    for_each_tap(th, tw, W, [&](int64_t at) { acc[size_t(pl * plane + at)] += share; });
                  });
  store<T>(acc, gx);
}

template <class T> void avg_pool2d_kernel(const KernelArgs& a) { avg_pool<T, fixed_windows>(a); }
template <class T> void avg_pool2d_backward_kernel(const KernelArgs& a) { avg_pool_backward<T, fixed_windows>(a); }
template <class T> void adaptive_avg_pool2d_kernel(const KernelArgs& a) { avg_pool<T, adaptive_windows>(a); }
template <class T> void adaptive_avg_pool2d_backward_kernel(const KernelArgs& a) {
  avg_pool_backward<T, adaptive_windows>(a);
}

}  // namespace

void register_conv_pool() {
  TUTOR_REGISTER_FLOATING("conv2d", conv2d_kernel);
  TUTOR_REGISTER_FLOATING("conv2d_backward_input", conv2d_backward_input_kernel);
  TUTOR_REGISTER_FLOATING("conv2d_backward_weight", conv2d_backward_weight_kernel);
  TUTOR_REGISTER_FLOATING("max_pool2d", max_pool2d_kernel);
  TUTOR_REGISTER_FLOATING("adaptive_max_pool2d", adaptive_max_pool2d_kernel);
  TUTOR_REGISTER_FLOATING("max_pool2d_backward", max_pool2d_backward_kernel);
  TUTOR_REGISTER_FLOATING("max_pool2d_double_backward", max_pool2d_double_backward_kernel);
  TUTOR_REGISTER_FLOATING("avg_pool2d", avg_pool2d_kernel);
  TUTOR_REGISTER_FLOATING("avg_pool2d_backward", avg_pool2d_backward_kernel);
  TUTOR_REGISTER_FLOATING("adaptive_avg_pool2d", adaptive_avg_pool2d_kernel);
  TUTOR_REGISTER_FLOATING("adaptive_avg_pool2d_backward", adaptive_avg_pool2d_backward_kernel);
}

}  // namespace tutor::kernels::reference
