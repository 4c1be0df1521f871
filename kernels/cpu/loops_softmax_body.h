// The body of loops_softmax.cpp, compiled once per ISA (loops_isa.h): no include guard, no
// includes.

// y = exp(x - max) / sum exp(x - max), or log y = x - max - log sum exp(x - max).
template <bool Log, bool Unit>
void softmax_row(const float* x, float* y, int64_t n, int64_t st, bool zero_fully_masked) {
  const Row<Unit> r{st};
  const float m = row_max(r, x, n);
  if (zero_fully_masked && m == -std::numeric_limits<float>::infinity()) {
    for (int64_t i = 0; i < n; ++i) y[r(i)] = 0;
    return;
  }
  if constexpr (Log) {
    const float lse = m + float(std::log(row_sum_exp(r, x, n, m)));
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[r(i)] = x[r(i)] - lse;
  } else {
    const double s = chunked_sum(n, [&](int64_t i) {
      const float e = vexp(x[r(i)] - m);
      y[r(i)] = e;
      return e;
    });
    const float inv = float(1.0 / s);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[r(i)] *= inv;
  }
}

// in: g, y (the forward output); out: gx.
//   softmax:      gx = y * (g - sum(g * y))
//   log_softmax:  gx = g - exp(y) * sum(g)
template <bool Log, bool Unit>
void softmax_backward_row(const float* g, const float* y, float* gx, int64_t n, int64_t st) {
  const Row<Unit> r{st};
  const float sf =
      float(chunked_sum(n, [&](int64_t i) { return Log ? g[r(i)] : g[r(i)] * y[r(i)]; }));
#pragma omp simd
  for (int64_t i = 0; i < n; ++i)
    gx[r(i)] = Log ? g[r(i)] - vexp(y[r(i)]) * sf : y[r(i)] * (g[r(i)] - sf);
}

template <bool Log>
void softmax_kernel(const KernelArgs& a) {
  const auto& p = a.p<SoftmaxParams>();
  Tensor x = a.in[0].contiguous_raw();
  const float* xp = f32_ptr(x);
  float* yp = f32_ptr(a.out[0]);
  for_each_row(x.sizes(), p.dim, [&](int64_t, int64_t start, int64_t n, int64_t st) {
    if (st == 1)
      softmax_row<Log, true>(xp + start, yp + start, n, 1, p.zero_fully_masked);
    else
      softmax_row<Log, false>(xp + start, yp + start, n, st, p.zero_fully_masked);
  });
}

template <bool Log>
void softmax_backward_kernel(const KernelArgs& a) {
  const auto& p = a.p<SoftmaxParams>();
  Tensor g = a.in[0].contiguous_raw(), y = a.in[1].contiguous_raw();
  const float *gp = f32_ptr(g), *yp = f32_ptr(y);
  float* gxp = f32_ptr(a.out[0]);
  for_each_row(y.sizes(), p.dim, [&](int64_t, int64_t start, int64_t n, int64_t st) {
    if (st == 1)
      softmax_backward_row<Log, true>(gp + start, yp + start, gxp + start, n, 1);
    else
      softmax_backward_row<Log, false>(gp + start, yp + start, gxp + start, n, st);
  });
}

const LoopKernel kTable[] = {
    {"softmax", &softmax_kernel<false>},
    {"log_softmax", &softmax_kernel<true>},
    {"softmax_backward", &softmax_backward_kernel<false>},
    {"log_softmax_backward", &softmax_backward_kernel<true>},
};
