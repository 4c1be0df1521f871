// The body of norm_pool_normalization.cpp, compiled once per ISA (loops_isa.h): no include
// guard, no includes.

struct Segments {
  int64_t outer, channels, inner, groups, cg, count;  // count: segments = outer * groups
  bool shared;

  explicit Segments(const NormParams& p)
      : outer(p.outer),
        channels(p.channels),
        inner(p.inner),
        groups(p.groups),
        cg(p.channels / p.groups),
        count(p.outer * p.groups),
        shared(p.shared_over_outer) {}
  int64_t stat(int64_t seg) const { return shared ? seg % groups : seg; }
  int64_t first_channel(int64_t seg) const { return (seg % groups) * cg; }
  int64_t offset(int64_t seg) const { return seg * cg * inner; }  // (n * C + g * cg) * inner
  int64_t length() const { return cg * inner; }
  int64_t num_stats() const { return shared ? groups : count; }
  int64_t stat_size() const { return (shared ? outer : 1) * length(); }
};

// Combines per-segment values into per-statistic sums, in segment order.
std::vector<double> per_stat(const Segments& s, const std::vector<double>& seg_values) {
  std::vector<double> out(size_t(s.num_stats()), 0.0);
  for (int64_t seg = 0; seg < s.count; ++seg) out[size_t(s.stat(seg))] += seg_values[size_t(seg)];
  return out;
}

// Calls f(seg) for every segment, in parallel.
template <class F>
void for_each_segment(const Segments& s, F f) {
  parallel_range(s.count, s.length(), [&](int64_t b, int64_t e) {
    for (int64_t seg = b; seg < e; ++seg) f(seg);
  });
}

// A per-channel parameter as floats, or `fallback` where the tensor is undefined.
std::vector<float> per_channel(const Tensor& t, int64_t channels, float fallback) {
  if (!t.defined()) return std::vector<float>(size_t(channels), fallback);
  return t.to_vector<float>();
}

// sum_{i < n} f(i) in double, over 16 lanes (two AVX-512 vectors) added pairwise at the end.
// (kLanes = 16 is spelled out in the final fold.)
// An `omp simd reduction` folds its lanes one at a time through memory (16 dependent adds), which
// on layer_norm's rows of 64 took longer than the loop itself (perf: half of the forward).
template <class F>
double lane_sum(int64_t n, F f) {
  constexpr int64_t kLanes = 16;
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
#pragma omp simd
    for (int64_t l = 0; l < kLanes; ++l) acc[l] += f(i + l);
  double tail = 0;
  for (; i < n; ++i) tail += f(i);
  double h[8];
  for (int64_t l = 0; l < 8; ++l) h[l] = acc[l] + acc[l + 8];
  return ((h[0] + h[4]) + (h[2] + h[6])) + ((h[1] + h[5]) + (h[3] + h[7])) + tail;
}

double sum_of(const float* x, int64_t n) {
  return lane_sum(n, [x](int64_t i) { return double(x[i]); });
}

double squared_deviation(const float* x, int64_t n, double mean) {
  return lane_sum(n, [x, mean](int64_t i) {
    const double d = double(x[i]) - mean;
    return d * d;
  });
}

// wg = sum w g and wgx = sum w g (x - mean) over n elements, in double.
void weighted_sums(const float* w, const float* g, const float* x, double mean, int64_t n,
                   double& wg, double& wgx) {
  wg = lane_sum(n, [w, g](int64_t i) { return double(w[i]) * double(g[i]); });
  wgx = lane_sum(n, [w, g, x, mean](int64_t i) {
    return double(w[i]) * double(g[i]) * (double(x[i]) - mean);
  });
}

// batch_norm_relu shares batch_norm's kernels through kRelu: the forward writes max(0, y) in the
// pass that writes y, and the backward reads g masked by y > 0 (relu's backward, y the saved
// output) in the passes that read g, so the fused op costs no pass over memory beyond batch_norm's
// and keeps its double sums.
template <bool kRelu>
inline float activate(float v) {
  if constexpr (kRelu) return v > 0.f ? v : 0.f;
  return v;
}

// g[i] where y[i] > 0, else +0: relu's backward bit for bit, as an AND with the comparison's
// all-ones or zero mask. Written as `y[i] > 0 ? g[i] : 0` the select inside the double sums of the
// backward compiled to a compare and branch per element (scalar, half mispredicted: the backward
// of [128, 16, 28, 28] took 7 ms against 1.5 ms for batch_norm's).
template <bool kRelu>
inline float relu_masked(const float* g, const float* y, int64_t i) {
  if constexpr (kRelu) {
    const uint32_t mask = 0u - uint32_t(y[i] > 0.f);
    return std::bit_cast<float>(std::bit_cast<uint32_t>(g[i]) & mask);
  }
  return g[i];
}

// Mean and biased variance of each statistic (two passes, as the reference).
void input_statistics(const float* x, const Segments& s, std::vector<double>& mean,
                      std::vector<double>& var) {
  const double m = double(s.stat_size());
  std::vector<double> seg(size_t(s.count));
  for_each_segment(s, [&](int64_t g) { seg[size_t(g)] = sum_of(x + s.offset(g), s.length()); });
  mean = per_stat(s, seg);
  for (double& v : mean) v = m > 0 ? v / m : 0.0;
  for_each_segment(s, [&](int64_t g) {
    seg[size_t(g)] = squared_deviation(x + s.offset(g), s.length(), mean[size_t(s.stat(g))]);
  });
  var = per_stat(s, seg);
  for (double& v : var) v = m > 0 ? v / m : 0.0;
}

// Adds term(r, c) (a double) over rows [r0, r1) into acc[c], c < C: eight rows summed pairwise per
// pass through acc, so the store-to-load chain through acc is paid once per eight rows instead of
// per row. With C = 16 a row is two vectors of doubles, and that chain bound the batch-norm
// statistics at four times the NCHW path's time. Defined here, in the per-ISA body, so that `term`
// (compiled for the same ISA) is inlined.
template <class Term>
void add_rows(int64_t r0, int64_t r1, int64_t C, double* acc, Term term) {
  int64_t r = r0;
  for (; r + 8 <= r1; r += 8) {
#pragma omp simd
    for (int64_t c = 0; c < C; ++c)
      acc[c] += ((term(r, c) + term(r + 1, c)) + (term(r + 2, c) + term(r + 3, c))) +
                ((term(r + 4, c) + term(r + 5, c)) + (term(r + 6, c) + term(r + 7, c)));
  }
  for (; r < r1; ++r) {
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) acc[c] += term(r, c);
  }
}

// batch_norm's statistics of a channels-last x: per-channel mean and biased variance over the
// rows of [rows, C] (two passes, as input_statistics).
void nhwc_statistics(const float* x, int64_t rows, int64_t C, std::vector<double>& mean,
                     std::vector<double>& var) {
  const double m = double(rows);
  mean = column_sums(rows, C, 1, [&](int64_t r0, int64_t r1, double* acc) {
    add_rows(r0, r1, C, acc, [&](int64_t r, int64_t c) { return double(x[r * C + c]); });
  });
  for (double& v : mean) v = m > 0 ? v / m : 0.0;
  const double* mu = mean.data();
  var = column_sums(rows, C, 1, [&](int64_t r0, int64_t r1, double* acc) {
    add_rows(r0, r1, C, acc, [&](int64_t r, int64_t c) {
      const double d = double(x[r * C + c]) - mu[c];
      return d * d;
    });
  });
  for (double& v : var) v = m > 0 ? v / m : 0.0;
}

// y = (x - mean) * (rstd * w[c]) + b[c]; writes y, mean and rstd to out[0..2]. With `nhwc`, x and
// y are channels-last batch_norm tensors ([rows, C] blocks, one statistic per channel). kRelu:
// max(0, y).
template <bool kRelu>
void normalize(const float* x, const Segments& s, const KernelArgs& a,
               const std::vector<double>& mean, const std::vector<double>& var, double eps,
               bool nhwc) {
  const std::vector<float> w = per_channel(a.in[1], s.channels, 1.f);
  const std::vector<float> b = per_channel(a.in[2], s.channels, 0.f);
  std::vector<float> mean_f(mean.size()), rstd_f(var.size());
  for (size_t i = 0; i < var.size(); ++i)
    mean_f[i] = float(mean[i]), rstd_f[i] = float(1.0 / std::sqrt(var[i] + eps));
  float* y = f32_ptr(a.out[0]);
  const int64_t C = s.channels;
  if (nhwc) {
    std::vector<float> scale(static_cast<size_t>(C));
    for (size_t c = 0; c < scale.size(); ++c) scale[c] = rstd_f[c] * w[c];
    parallel_range(s.outer * s.inner, C, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* xr = x + r * C;
        float* yr = y + r * C;
#pragma omp simd
        for (int64_t c = 0; c < C; ++c)
          yr[c] = activate<kRelu>((xr[c] - mean_f[size_t(c)]) * scale[size_t(c)] + b[size_t(c)]);
      }
    });
  } else {
    for_each_segment(s, [&](int64_t g) {
      const float m = mean_f[size_t(s.stat(g))], r = rstd_f[size_t(s.stat(g))];
      const float* xs = x + s.offset(g);
      float* ys = y + s.offset(g);
      const float* ws = w.data() + s.first_channel(g);
      const float* bs = b.data() + s.first_channel(g);
      if (s.inner == 1) {  // layer_norm: vectorized along the row
#pragma omp simd
        for (int64_t c = 0; c < s.cg; ++c)
          ys[c] = activate<kRelu>((xs[c] - m) * (r * ws[c]) + bs[c]);
        return;
      }
      for (int64_t c = 0; c < s.cg; ++c) {
        const float scale = r * ws[c], shift = bs[c];
        const float* xc = xs + c * s.inner;
        float* yc = ys + c * s.inner;
#pragma omp simd
        for (int64_t i = 0; i < s.inner; ++i) yc[i] = activate<kRelu>((xc[i] - m) * scale + shift);
      }
    });
  }
  float* mean_out = f32_ptr(a.out[1]);
  float* rstd_out = f32_ptr(a.out[2]);
  for (size_t i = 0; i < mean.size(); ++i) mean_out[i] = mean_f[i], rstd_out[i] = rstd_f[i];
}

// layer_norm's forward (inner = 1, groups = 1: one statistic per row of a row-major [rows, C]
// block): mean, variance and y row by row while the row sits in L1, in one parallel region, with
// input_statistics' and normalize's arithmetic (so the same bits): mean = sum x / C and
// var = sum (x - mean)^2 / C in double, y = (x - mean) * (rstd w[c]) + b[c] in f32.
void row_norm_forward(const float* x, const KernelArgs& a, const NormParams& p) {
  const int64_t C = p.channels;
  const std::vector<float> w = per_channel(a.in[1], C, 1.f), b = per_channel(a.in[2], C, 0.f);
  const float *ws = w.data(), *bs = b.data();
  float* y = f32_ptr(a.out[0]);
  float* mean_out = f32_ptr(a.out[1]);
  float* rstd_out = f32_ptr(a.out[2]);
  const double m = double(C);
  parallel_range(p.outer, 3 * C, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * C;
      float* yr = y + r * C;
      const double mean = m > 0 ? sum_of(xr, C) / m : 0.0;
      const double var = m > 0 ? squared_deviation(xr, C, mean) / m : 0.0;
      const float mf = float(mean), rf = float(1.0 / std::sqrt(var + p.eps));
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) yr[c] = (xr[c] - mf) * (rf * ws[c]) + bs[c];
      mean_out[r] = mf, rstd_out[r] = rf;
    }
  });
}

// in: x, weight, bias, and for batch_norm running_mean, running_var; out: y, mean, rstd, and
// with 5 outputs the updated running statistics (the reference's formulas). kRelu: batch_norm_relu.
template <bool kRelu>
void norm_forward(const KernelArgs& a) {
  apply_num_threads();
  const auto& p = a.p<NormParams>();
  const Segments s(p);
  const bool nhwc = nhwc_output(a.out[0]);
  Tensor x = nhwc ? nhwc_input(a.in[0]) : a.in[0].contiguous_raw();
  if (!kRelu && p.inner == 1 && p.groups == 1 && !p.shared_over_outer && p.use_input_stats && !nhwc)
    return row_norm_forward(f32_ptr(x), a, p);
  std::vector<double> mean, var;
  if (p.use_input_stats && nhwc) {
    nhwc_statistics(f32_ptr(x), p.outer * p.inner, p.channels, mean, var);
  } else if (p.use_input_stats) {
    input_statistics(f32_ptr(x), s, mean, var);
  } else {
    mean = a.in[3].to_vector<double>();
    var = a.in[4].to_vector<double>();
  }
  normalize<kRelu>(f32_ptr(x), s, a, mean, var, p.eps, nhwc);
  if (a.out.size() < 5) return;
  const std::vector<double> running_mean = a.in[3].to_vector<double>();
  const std::vector<double> running_var = a.in[4].to_vector<double>();
  const double m = double(p.outer * p.inner);
  float* mean_out = f32_ptr(a.out[3]);
  float* var_out = f32_ptr(a.out[4]);
  for (size_t c = 0; c < mean.size(); ++c) {
    const double unbiased = var[c] * m / (m - 1);
    mean_out[c] = float((1 - p.momentum) * running_mean[c] + p.momentum * mean[c]);
    var_out[c] = float((1 - p.momentum) * running_var[c] + p.momentum * unbiased);
  }
}

// batch_norm_backward on channels-last tensors, with norm_backward's formulas: per channel
// sg = sum g, sgx = rstd sum g (x - mean) over the [rows, C] block, then dx row by row. kRelu: g
// masked by y = a.in[5] > 0 wherever it is read.
template <bool kRelu>
void batch_norm_backward_nhwc(const KernelArgs& a, const NormParams& p) {
  const Tensor gt = nhwc_input(a.in[0]), xt = nhwc_input(a.in[1]);
  const float* g = f32_ptr(gt);
  const float* x = f32_ptr(xt);
  Tensor yt;
  if constexpr (kRelu) yt = nhwc_input(a.in[5]);
  const float* y = kRelu ? f32_ptr(yt) : nullptr;
  const int64_t rows = p.outer * p.inner, C = p.channels;
  const std::vector<float> w = per_channel(a.in[2], C, 1.f);
  const std::vector<float> mean = a.in[3].to_vector<float>(), rstd = a.in[4].to_vector<float>();
  const std::vector<double> sums =
      column_sums(rows, C, 2, [&](int64_t r0, int64_t r1, double* acc) {
        // Two passes over the block, the second from L1: sum g, then sum g (x - mean).
        auto g_at = [&](int64_t r, int64_t c) {
          return double(relu_masked<kRelu>(g + r * C, kRelu ? y + r * C : nullptr, c));
        };
        add_rows(r0, r1, C, acc, g_at);
        add_rows(r0, r1, C, acc + C, [&](int64_t r, int64_t c) {
          return g_at(r, c) * (double(x[r * C + c]) - double(mean[size_t(c)]));
        });
      });
  float* dw = f32_ptr(a.out[1]);
  float* db = f32_ptr(a.out[2]);
  // dx = a g - k (x - mean) - m0 with a = rstd w, k = rstd^2 w sgx / M, m0 = rstd w sg / M
  // (norm_backward's, one statistic per channel); eval: dx = rstd w g.
  std::vector<float> ac(static_cast<size_t>(C)), k(static_cast<size_t>(C), 0.f),
      m0(static_cast<size_t>(C), 0.f);
  const double inv_m = 1.0 / double(rows);
  for (int64_t c = 0; c < C; ++c) {
    const size_t i = size_t(c);
    const double sg = sums[i], sgx = sums[size_t(C) + i] * rstd[i];
    dw[c] = float(sgx), db[c] = float(sg);
    ac[i] = rstd[i] * w[i];
    if (p.use_input_stats) {
      k[i] = float(double(rstd[i]) * rstd[i] * double(w[i]) * sgx * inv_m);
      m0[i] = float(double(rstd[i]) * double(w[i]) * sg * inv_m);
    }
  }
  float* dx = f32_ptr(a.out[0]);
  parallel_range(rows, C, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* gr = g + r * C;
      const float* xr = x + r * C;
      const float* yr = kRelu ? y + r * C : nullptr;
      float* dxr = dx + r * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c)
        dxr[c] = ac[size_t(c)] * relu_masked<kRelu>(gr, yr, c) -
                 k[size_t(c)] * (xr[c] - mean[size_t(c)]) - m0[size_t(c)];
    }
  });
}

// The backward of a norm over each row of a row-major [rows, C] block (layer_norm over the last
// dims: one statistic per row, inner = 1), with norm_backward's formulas. The generic segment
// walk would take every element as a channel of its own; here one pass over fixed row blocks (as
// batch_norm on channels-last) adds each row into the block's dweight and dbias column sums and
// writes its dx while the row sits in L1.
void row_norm_backward(const KernelArgs& a, const NormParams& p) {
  const Tensor gt = a.in[0].contiguous_raw(), xt = a.in[1].contiguous_raw();
  const float* g = f32_ptr(gt);
  const float* x = f32_ptr(xt);
  const int64_t rows = p.outer, C = p.channels;
  const std::vector<float> w = per_channel(a.in[2], C, 1.f);
  const std::vector<float> mean = a.in[3].to_vector<float>(), rstd = a.in[4].to_vector<float>();
  // Per row: wg = sum w g, wgx = rstd sum w g (x - mean); dx = rstd w g - k (x - mean) - m0 with
  // k = rstd^2 wgx / C, m0 = rstd wg / C; eval: dx = rstd w g.
  const double inv_c = 1.0 / double(C);
  const float* ws = w.data();
  float* dx = f32_ptr(a.out[0]);
  const std::vector<double> sums =
      column_sums(rows, C, 2, [&](int64_t r0, int64_t r1, double* acc) {
        for (int64_t r = r0; r < r1; ++r) {
          const float* gr = g + r * C;
          const float* xr = x + r * C;
          float* dxr = dx + r * C;
          const float m = mean[size_t(r)], rs = rstd[size_t(r)];
          const double md = m, rsd = rs;
#pragma omp simd
          for (int64_t c = 0; c < C; ++c) {
            acc[c] += double(gr[c]);
            acc[C + c] += double(gr[c]) * (double(xr[c]) - md) * rsd;
          }
          float k = 0.f, m0 = 0.f;
          if (p.use_input_stats) {
            double wg, wgx;
            weighted_sums(ws, gr, xr, md, C, wg, wgx);
            k = float(rsd * rsd * rsd * wgx * inv_c);
            m0 = float(rsd * wg * inv_c);
          }
#pragma omp simd
          for (int64_t c = 0; c < C; ++c) dxr[c] = rs * ws[c] * gr[c] - k * (xr[c] - m) - m0;
        }
      });
  float* dw = f32_ptr(a.out[1]);
  float* db = f32_ptr(a.out[2]);
  for (int64_t c = 0; c < C; ++c)
    dw[c] = float(sums[size_t(C + c)]), db[c] = float(sums[size_t(c)]);
}

// in: grad_y, x, weight (may be undefined), mean, rstd; out: dx, dweight, dbias.
// Per (n, c): sg = sum g, sgx = sum g * xhat; then dbias[c] = sum_n sg, dweight[c] = sum_n sgx,
// and per statistic mean(gxhat) = sum w[c] sg / M, mean(gxhat xhat) = sum w[c] sgx / M.
// kRelu (batch_norm_relu_backward, in[5] = y): g masked by y > 0 wherever it is read.
template <bool kRelu>
void norm_backward(const KernelArgs& a) {
  apply_num_threads();
  const auto& p = a.p<NormParams>();
  if (nhwc_output(a.out[0])) return batch_norm_backward_nhwc<kRelu>(a, p);
  if (!kRelu && p.inner == 1 && p.groups == 1 && !p.shared_over_outer)
    return row_norm_backward(a, p);
  const Segments s(p);
  Tensor gt = a.in[0].contiguous_raw(), xt = a.in[1].contiguous_raw();
  const float* g = f32_ptr(gt);
  const float* x = f32_ptr(xt);
  Tensor yt;
  if constexpr (kRelu) yt = a.in[5].contiguous_raw();
  const float* y = kRelu ? f32_ptr(yt) : nullptr;
  const std::vector<float> w = per_channel(a.in[2], s.channels, 1.f);
  const std::vector<float> mean = a.in[3].to_vector<float>(), rstd = a.in[4].to_vector<float>();
  const size_t rows = size_t(s.outer * s.channels);  // (n, c) planes of `inner` elements
  const size_t segs = size_t(s.count);
  std::vector<double> sg(rows), sgx(rows), seg_g(segs), seg_gx(segs);
  for_each_segment(s, [&](int64_t seg) {
    const double m = mean[size_t(s.stat(seg))], r = rstd[size_t(s.stat(seg))];
    const int64_t c0 = s.first_channel(seg), row0 = seg * s.cg;
    double wg = 0, wgx = 0;
    for (int64_t c = 0; c < s.cg; ++c) {
      const float* gc = g + s.offset(seg) + c * s.inner;
      const float* xc = x + s.offset(seg) + c * s.inner;
      const float* yc = kRelu ? y + s.offset(seg) + c * s.inner : nullptr;
      double a0 = 0, a1 = 0;
#pragma omp simd reduction(+ : a0, a1)
      for (int64_t i = 0; i < s.inner; ++i) {
        const double gi = relu_masked<kRelu>(gc, yc, i);
        a0 += gi;
        a1 += gi * (double(xc[i]) - m);
      }
      a1 *= r;
      sg[size_t(row0 + c)] = a0, sgx[size_t(row0 + c)] = a1;
      wg += double(w[size_t(c0 + c)]) * a0, wgx += double(w[size_t(c0 + c)]) * a1;
    }
    seg_g[size_t(seg)] = wg, seg_gx[size_t(seg)] = wgx;
  });

  float* dw = f32_ptr(a.out[1]);
  float* db = f32_ptr(a.out[2]);
  parallel_range(s.channels, s.outer, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      double acc_w = 0, acc_b = 0;
      for (int64_t n = 0; n < s.outer; ++n)
        acc_w += sgx[size_t(n * s.channels + c)], acc_b += sg[size_t(n * s.channels + c)];
      dw[c] = float(acc_w), db[c] = float(acc_b);
    }
  });

  // dx = rstd * (g w - mean(gxhat) - xhat mean(gxhat xhat)) = a g - k (x - mean) - m0 with
  // a = rstd w, k = rstd^2 mean(gxhat xhat), m0 = rstd mean(gxhat); eval: dx = rstd w g.
  const std::vector<double> stat_g = per_stat(s, seg_g), stat_gx = per_stat(s, seg_gx);
  const double inv_m = 1.0 / double(s.stat_size());
  float* dx = f32_ptr(a.out[0]);
  for_each_segment(s, [&](int64_t seg) {
    const size_t st = size_t(s.stat(seg));
    const float m = mean[st], r = rstd[st];
    const float k = p.use_input_stats ? float(double(r) * r * stat_gx[st] * inv_m) : 0.f;
    const float m0 = p.use_input_stats ? float(double(r) * stat_g[st] * inv_m) : 0.f;
    const float* gs = g + s.offset(seg);
    const float* xs = x + s.offset(seg);
    const float* ys = kRelu ? y + s.offset(seg) : nullptr;
    float* dxs = dx + s.offset(seg);
    const float* ws = w.data() + s.first_channel(seg);
    if (s.inner == 1) {
#pragma omp simd
      for (int64_t c = 0; c < s.cg; ++c)
        dxs[c] = r * ws[c] * relu_masked<kRelu>(gs, ys, c) - k * (xs[c] - m) - m0;
      return;
    }
    for (int64_t c = 0; c < s.cg; ++c) {
      const float ac = r * ws[c];
      const int64_t o = c * s.inner;
#pragma omp simd
      for (int64_t i = 0; i < s.inner; ++i)
        dxs[o + i] = ac * relu_masked<kRelu>(gs, ys, o + i) - k * (xs[o + i] - m) - m0;
    }
  });
}

const LoopKernel kTable[] = {
    {"batch_norm", norm_forward<false>},
    {"layer_norm", norm_forward<false>},
    {"group_norm", norm_forward<false>},
    {"batch_norm_relu", norm_forward<true>},
    {"batch_norm_backward", norm_backward<false>},
    {"layer_norm_backward", norm_backward<false>},
    {"group_norm_backward", norm_backward<false>},
    {"batch_norm_relu_backward", norm_backward<true>},
};
