// The body of loops_losses.cpp, compiled once per ISA (loops_isa.h): no include guard, no
// includes.

// The packed inputs of a cross_entropy kernel, from in[first] on: input, target, weight.
struct CeInputs {
  Tensor input, target, weight;
  int64_t n, c, inner = 1;
  const float* w = nullptr;
  const int64_t* index_ptr = nullptr;  // class targets
  double w_total;                      // sum_c w_c (C without weights)

  CeInputs(std::span<const Tensor> in, size_t first, const ClassLossParams& p)
      : input(in[first].contiguous_raw()),
        target(in[first + 1].contiguous_raw()),
        weight(in[first + 2].defined() ? in[first + 2].contiguous_raw() : Tensor()),
        n(input.size(0)),
        c(input.size(1)) {
    for (int64_t d = 2; d < input.dim(); ++d) inner *= input.size(d);
    if (weight.defined()) w = f32_ptr(weight);
    if (!p.prob_target)
      index_ptr = target.data<int64_t>();  // may throw: not inside a parallel loop
    w_total = double(c);
    if (w) {
      w_total = 0;
      for (int64_t k = 0; k < c; ++k) w_total += double(w[k]);
    }
    if (!p.prob_target) check_targets(p);
  }

  // Before any parallel loop: a bad class index throws here, with the reference's message.
  void check_targets(const ClassLossParams& p) const {
    const int64_t* y = target.data<int64_t>();
    for (int64_t i = 0; i < n * inner; ++i)
      TUTOR_CHECK(y[i] == p.ignore_index || (y[i] >= 0 && y[i] < c),
                  "{}: target class index {} is out of range for {} classes", p.op, y[i], c);
  }
  float weight_of(int64_t k) const { return w ? w[k] : 1.0f; }
  const float* probs() const { return f32_ptr(target); }
  const int64_t* indices() const { return index_ptr; }
};

// Calls f(weight) with weight(k) = w_k, or the constant 1 without weights: the class loops get
// no per-element branch and vectorize.
template <class F>
void with_weight(const CeInputs& in, F f) {
  if (in.w)
    f([w = in.w](int64_t k) { return w[k]; });
  else
    f([](int64_t) { return 1.0f; });
}

// lse of one row.
template <bool Unit>
float row_lse(const Row<Unit>& r, const float* x, int64_t c) {
  const float m = row_max(r, x, c);
  return m + float(std::log(row_sum_exp(r, x, c, m)));
}

// The loss of one row with target class y (not ignored).
template <bool Unit>
double index_row_loss(const Row<Unit>& r, const float* x, const CeInputs& in, int64_t y,
                      double eps) {
  const float lse = row_lse(r, x, in.c);
  double l = (1 - eps) * double(in.weight_of(y)) * double(lse - x[r(y)]);
  if (eps != 0) {
    const double wx = in.w ? chunked_sum(in.c, [&](int64_t k) { return in.w[k] * x[r(k)]; })
                           : chunked_sum(in.c, [&](int64_t k) { return x[r(k)]; });
    l += eps / double(in.c) * (double(lse) * in.w_total - wx);
  }
  return l;
}

// The loss of one row against target probabilities t (a row at the same stride).
template <bool Unit, class W>
double prob_row_loss(const Row<Unit>& r, const float* x, const float* t, int64_t c, W weight,
                     double eps) {
  const float lse = row_lse(r, x, c);
  const float keep = float(1 - eps), spread = float(eps / double(c));
  return chunked_sum(
      c, [&](int64_t k) { return weight(k) * (keep * t[r(k)] + spread) * (lse - x[r(k)]); });
}

void cross_entropy_kernel(const KernelArgs& a) {
  const auto& p = a.p<ClassLossParams>();
  const CeInputs in(a.in, 0, p);
  const float* x = f32_ptr(in.input);
  float* loss = f32_ptr(a.out[0]);
  const int64_t rows = in.n * in.inner;
  with_weight(in, [&](auto weight) {
    for_each_row({in.n, in.c, in.inner}, 1, [&](int64_t row, int64_t start, int64_t c, int64_t st) {
      auto run = [&](auto r) {
        if (p.prob_target) {
          loss[row] =
              float(prob_row_loss(r, x + start, in.probs() + start, c, weight, p.label_smoothing));
          return;
        }
        const int64_t y = in.indices()[row];
        loss[row] = y == p.ignore_index
                        ? 0.0f
                        : float(index_row_loss(r, x + start, in, y, p.label_smoothing));
      };
      if (st == 1)
        run(Row<true>{1});
      else
        run(Row<false>{st});
    });
  });
  double total = double(rows);
  if (!p.prob_target) {
    total = 0;
    const int64_t* y = in.indices();
    for (int64_t i = 0; i < rows; ++i)
      if (y[i] != p.ignore_index) total += double(in.weight_of(y[i]));
  }
  f32_ptr(a.out[1])[0] = float(total);
}

// gx_c = g (p_c mass - a_c) for one row; with probabilities also gt_c = -g (1 - eps) w_c log p_c.
template <bool Unit, class W>
void backward_row(const Row<Unit>& r, const float* x, const CeInputs& in, W weight,
                  const ClassLossParams& p, int64_t row, int64_t start, float g, float* gx,
                  float* gt) {
  const int64_t c = in.c;
  const double eps = p.label_smoothing;
  const float spread = float(eps / double(c)), keep = float(1 - eps);
  x += start, gx += start;
  if (!p.prob_target) {
    const int64_t y = in.indices()[row];
    if (y == p.ignore_index) {
      for (int64_t k = 0; k < c; ++k) gx[r(k)] = 0;
      return;
    }
    const float lse = row_lse(r, x, c);
    const float wy = in.weight_of(y);
    const float mass = float((1 - eps) * double(wy) + eps / double(c) * in.w_total);
#pragma omp simd
    for (int64_t k = 0; k < c; ++k)
      gx[r(k)] = g * (vexp(x[r(k)] - lse) * mass - spread * weight(k));
    gx[r(y)] -= g * keep * wy;
    return;
  }
  const float* t = in.probs() + start;
  const float lse = row_lse(r, x, c);
  const float massf =
      float(chunked_sum(c, [&](int64_t k) { return weight(k) * (keep * t[r(k)] + spread); }));
#pragma omp simd
  for (int64_t k = 0; k < c; ++k) {
    const float ak = weight(k) * (keep * t[r(k)] + spread);
    gx[r(k)] = g * (vexp(x[r(k)] - lse) * massf - ak);
  }
  if (gt) {
    gt += start;
#pragma omp simd
    for (int64_t k = 0; k < c; ++k) gt[r(k)] = -g * keep * weight(k) * (x[r(k)] - lse);
  }
}

// in: g [N, inner], input, target, weight; out: grad input[, grad target (probabilities)].
void cross_entropy_backward_kernel(const KernelArgs& a) {
  const auto& p = a.p<ClassLossParams>();
  const Tensor g = a.in[0].contiguous_raw();
  const CeInputs in(a.in, 1, p);
  const float* x = f32_ptr(in.input);
  const float* gp = f32_ptr(g);
  float* gx = f32_ptr(a.out[0]);
  float* gt = a.out.size() > 1 && a.out[1].defined() ? f32_ptr(a.out[1]) : nullptr;
  with_weight(in, [&](auto weight) {
    for_each_row({in.n, in.c, in.inner}, 1, [&](int64_t row, int64_t start, int64_t, int64_t st) {
      if (st == 1)
        backward_row(Row<true>{1}, x, in, weight, p, row, start, gp[row], gx, gt);
      else
        backward_row(Row<false>{st}, x, in, weight, p, row, start, gp[row], gx, gt);
    });
  });
}

// ---- nll_loss: -w_y x[n, y, k] (0 where y is ignore_index); out[1] the 'mean' denominator.
// Rows are cheap (one element each), so they are split over the threads in blocks.

void nll_loss_kernel(const KernelArgs& a) {
  const auto& p = a.p<ClassLossParams>();
  const CeInputs in(a.in, 0, p);
  const float* x = f32_ptr(in.input);
  const int64_t* y = in.indices();
  float* loss = f32_ptr(a.out[0]);
  const int64_t rows = in.n * in.inner;
  parallel_range(rows, 1, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const int64_t n = row / in.inner, k = row % in.inner;
      loss[row] = y[row] == p.ignore_index
                      ? 0.0f
                      : -in.weight_of(y[row]) * x[(n * in.c + y[row]) * in.inner + k];
    }
  });
  double total = 0;
  for (int64_t i = 0; i < rows; ++i)
    if (y[i] != p.ignore_index) total += double(in.weight_of(y[i]));
  f32_ptr(a.out[1])[0] = float(total);
}

// d/dx[n, c, k] = -g w_y [c == y]. in: g, input, target, weight; out: grad input.
void nll_loss_backward_kernel(const KernelArgs& a) {
  const auto& p = a.p<ClassLossParams>();
  const Tensor g = a.in[0].contiguous_raw();
  const CeInputs in(a.in, 1, p);
  const float* gp = f32_ptr(g);
  const int64_t* y = in.indices();
  float* gx = f32_ptr(a.out[0]);
  const int64_t block = in.c * in.inner;  // one sample
  parallel_range(in.n, block, [&](int64_t b, int64_t e) {
    std::fill(gx + b * block, gx + e * block, 0.0f);
    for (int64_t row = b * in.inner; row < e * in.inner; ++row) {
      const int64_t n = row / in.inner, k = row % in.inner;
      if (y[row] != p.ignore_index)
        gx[(n * in.c + y[row]) * in.inner + k] = -in.weight_of(y[row]) * gp[row];
    }
  });
}

// ---- element-wise losses (kernels/reference/losses.cpp has each formula and its source): the
// forward maps (x, t[, e]) to the per-element loss, the backward (g, x, t[, e]) to the gradients
// of x, t[, e]; e is binary_cross_entropy_with_logits' pos_weight, broadcast by the op. `a` is
// PointwiseLossParams::a.

float sign_of(float v) { return float((v > 0.0f) - (v < 0.0f)); }

// log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)); sigmoid(-x) = 1 - sigmoid(x), both stable;
// inlined, so the loss loops vectorize.
[[gnu::always_inline]] inline float log_sigmoid(float x) {
  return std::min(x, 0.0f) - vlog1p(vexp(-std::abs(x)));
}
[[gnu::always_inline]] inline float sigmoid_neg(float x) { return vsigmoid(-x); }

struct MseLoss {
  static float value(float x, float t, float, float) { return (x - t) * (x - t); }
  static void grad(float x, float t, float, float, float g, float& gx, float& gt, float&) {
    gx = g * 2.0f * (x - t), gt = -gx;
  }
};

struct L1Loss {
  static float value(float x, float t, float, float) { return std::abs(x - t); }
  static void grad(float x, float t, float, float, float g, float& gx, float& gt, float&) {
    gx = g * sign_of(x - t), gt = -gx;
  }
};

struct SmoothL1Loss {  // a: beta
  static float value(float x, float t, float, float beta) {
    const float z = std::abs(x - t);
    return z < beta ? 0.5f * z * z / beta : z - 0.5f * beta;
  }
  static void grad(float x, float t, float, float beta, float g, float& gx, float& gt, float&) {
    const float d = x - t;
    gx = g * (std::abs(d) < beta ? d / beta : sign_of(d)), gt = -gx;
  }
};

struct HuberLoss {  // a: delta
  static float value(float x, float t, float, float delta) {
    const float z = std::abs(x - t);
    return z < delta ? 0.5f * z * z : delta * (z - 0.5f * delta);
  }
  static void grad(float x, float t, float, float delta, float g, float& gx, float& gt, float&) {
    const float d = x - t;
    gx = g * (std::abs(d) < delta ? d : delta * sign_of(d)), gt = -gx;
  }
};

struct BinaryCrossEntropy {  // logs clamped at -100 (PyTorch)
  static float log_x(float x) { return std::max(vlog(x), -100.0f); }
  static float log_1mx(float x) { return std::max(vlog1p(-x), -100.0f); }
  static float value(float x, float t, float, float) {
    return -(t * log_x(x) + (1.0f - t) * log_1mx(x));
  }
  static void grad(float x, float t, float, float, float g, float& gx, float& gt, float&) {
    gx = g * (x - t) / std::max(x * (1.0f - x), 1e-12f);
    gt = g * (log_1mx(x) - log_x(x));
  }
};

struct BinaryCrossEntropyWithLogits {  // e: pos_weight
  static float value(float x, float t, float e, float) {
    return (1.0f - t) * x - (1.0f + (e - 1.0f) * t) * log_sigmoid(x);
  }
  static void grad(float x, float t, float e, float, float g, float& gx, float& gt, float& ge) {
    const float ls = log_sigmoid(x);
    gx = g * ((1.0f - t) - (1.0f + (e - 1.0f) * t) * sigmoid_neg(x));
    gt = g * (-x - (e - 1.0f) * ls);
    ge = g * -t * ls;
  }
};

// kl_div with target probabilities t: xlogy(t, t) - t x (0 where t == 0); the target gradient
// log t + 1 - x is taken as -x at t == 0.
struct KlDiv {  // the log is taken unconditionally, so the loop has no branch and vectorizes
  static float value(float x, float t, float, float) {
    const float tlogt = t * vlog(t);
    return (t == 0.0f ? 0.0f : tlogt) - t * x;
  }
  static void grad(float x, float t, float, float, float g, float& gx, float& gt, float&) {
    const float logt1 = vlog(t) + 1.0f;
    gx = -g * t, gt = g * ((t == 0.0f ? 0.0f : logt1) - x);
  }
};

// kl_div with log-probability targets t: exp(t) (t - x).
struct KlDivLogTarget {
  static float value(float x, float t, float, float) { return vexp(t) * (t - x); }
  static void grad(float x, float t, float, float, float g, float& gx, float& gt, float&) {
    const float et = vexp(t);
    gx = -g * et, gt = g * et * (t - x + 1.0f);
  }
};

float loss_param(const KernelArgs& a) {
  return a.params ? float(a.p<PointwiseLossParams>().a) : 0.0f;
}

// binary_cross_entropy's input must lie in [0, 1]: checked before the parallel loop, with the
// reference's message and the first offending value (NaN included).
void check_probabilities(const KernelArgs& a) {
  float bad = 0;
  bool found = false;
  const StridedLoop<1> loop({&a.in[0]});
  loop.for_range(0, loop.numel,
                 [&](const std::array<char*, 1>& p, int64_t n, const std::array<int64_t, 1>& s) {
                   const float* x = reinterpret_cast<const float*>(p[0]);
                   for (int64_t i = 0; i < n && !found; ++i)
                     if (!(x[i * s[0]] >= 0.0f && x[i * s[0]] <= 1.0f))
                       found = true, bad = x[i * s[0]];
                 });
  TUTOR_CHECK(!found, "binary_cross_entropy: every input element must lie in [0, 1], got {}",
              double(bad));
}

template <class L>
void pointwise_forward(const KernelArgs& a) {
  if constexpr (std::is_same_v<L, BinaryCrossEntropy>) check_probabilities(a);
  const float param = loss_param(a);
  if (a.in.size() > 2)
    elementwise<float, float, float, float>(
        a, [param](float x, float t, float e) { return L::value(x, t, e, param); });
  else
    elementwise<float, float, float>(
        a, [param](float x, float t) { return L::value(x, t, 1.0f, param); });
}

template <class L>
void pointwise_backward(const KernelArgs& a) {
  const float param = loss_param(a);
  if (a.out.size() > 2)
    map_outputs<3, float, float, float, float, float, float, float>(
        a, [param](float& gx, float& gt, float& ge, float g, float x, float t, float e) {
          L::grad(x, t, e, param, g, gx, gt, ge);
        });
  else
    map_outputs<2, float, float, float, float, float>(
        a, [param](float& gx, float& gt, float g, float x, float t) {
          float unused;
          L::grad(x, t, 1.0f, param, g, gx, gt, unused);
        });
}

// ---- cosine_similarity and normalize along DimNormParams::dim: the packed input seen as
// [outer, D, inner], one line of D elements per (o, k) (for_each_row), of unit stride (and so
// vectorized) when inner == 1. Sums in double, as the reference's.

// Calls f(Row) for a line of stride st: Row<true> for unit stride.
template <class F>
void with_row(int64_t st, F f) {
  if (st == 1)
    f(Row<true>{1});
  else
    f(Row<false>{st});
}

template <bool Unit, class F>
double line_sum(const Row<Unit>&, int64_t n, F f) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += f(i);
  return s;
}

struct CosineTerms {
  double dot, n1, n2;  // x1.x2, |x1|, |x2|
};

template <bool Unit>
CosineTerms cosine_terms(const Row<Unit>& r, const float* u, const float* v, int64_t n) {
  return {line_sum(r, n, [&](int64_t i) { return double(u[r(i)]) * double(v[r(i)]); }),
          std::sqrt(line_sum(r, n, [&](int64_t i) { return double(u[r(i)]) * double(u[r(i)]); })),
          std::sqrt(line_sum(r, n, [&](int64_t i) { return double(v[r(i)]) * double(v[r(i)]); }))};
}

// x1.x2 / (max(|x1|, eps) max(|x2|, eps)). in: x1, x2 (one shape); out: [outer, inner].
void cosine_similarity_kernel(const KernelArgs& a) {
  const auto& p = a.p<DimNormParams>();
  const Tensor x1 = a.in[0].contiguous_raw(), x2 = a.in[1].contiguous_raw();
  const float *u = f32_ptr(x1), *v = f32_ptr(x2);
  float* y = f32_ptr(a.out[0]);
  for_each_row(x1.sizes(), p.dim, [&](int64_t row, int64_t start, int64_t n, int64_t st) {
    with_row(st, [&](auto r) {
      const CosineTerms c = cosine_terms(r, u + start, v + start, n);
      y[row] = float(c.dot / (std::max(c.n1, p.eps) * std::max(c.n2, p.eps)));
    });
  });
}

// With m_i = max(|x_i|, eps): d cos / d x1 = x2 / (m1 m2) - [|x1| > eps] cos x1 / |x1|^2, and
// symmetrically for x2. in: g [outer, inner], x1, x2; out: grad x1, grad x2.
void cosine_similarity_backward_kernel(const KernelArgs& a) {
  const auto& p = a.p<DimNormParams>();
  const Tensor g = a.in[0].contiguous_raw(), x1 = a.in[1].contiguous_raw(),
               x2 = a.in[2].contiguous_raw();
  const float *gp = f32_ptr(g), *u = f32_ptr(x1), *v = f32_ptr(x2);
  float *g1 = f32_ptr(a.out[0]), *g2 = f32_ptr(a.out[1]);
  for_each_row(x1.sizes(), p.dim, [&](int64_t row, int64_t start, int64_t n, int64_t st) {
    with_row(st, [&](auto r) {
      const CosineTerms c = cosine_terms(r, u + start, v + start, n);
      const double m1 = std::max(c.n1, p.eps), m2 = std::max(c.n2, p.eps);
      const double cos = c.dot / (m1 * m2), gi = double(gp[row]);
      const double k12 = 1 / (m1 * m2);
      const double k1 = c.n1 > p.eps ? cos / (c.n1 * c.n1) : 0.0;
      const double k2 = c.n2 > p.eps ? cos / (c.n2 * c.n2) : 0.0;
      const float *us = u + start, *vs = v + start;
      float *g1s = g1 + start, *g2s = g2 + start;
      // in double: the two terms cancel (exactly, analytically, for D = 1)
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) {
        const double uj = us[r(j)], vj = vs[r(j)];
        g1s[r(j)] = float(gi * (vj * k12 - k1 * uj));
        g2s[r(j)] = float(gi * (uj * k12 - k2 * vj));
      }
    });
  });
}

// |x|^p, and sign(x) |x|^(p-1) (its derivative over p), with p = 1 and 2 as plain arithmetic.
struct PowerOf {
  double p;
  double power(double x) const {
    return p == 2 ? x * x : p == 1 ? std::abs(x) : std::pow(std::abs(x), p);
  }
  double signed_power(double x) const {
    if (p == 2) return x;
    const double s = double((x > 0) - (x < 0));
    return p == 1 ? s : s * std::pow(std::abs(x), p - 1);
  }
  double root(double s) const { return p == 2 ? std::sqrt(s) : p == 1 ? s : std::pow(s, 1 / p); }
};

// x / max(||x||_p, eps). in: x; out: same shape.
void normalize_kernel(const KernelArgs& a) {
  const auto& p = a.p<DimNormParams>();
  const PowerOf pw{p.p};
  const Tensor x = a.in[0].contiguous_raw();
  const float* xp = f32_ptr(x);
  float* y = f32_ptr(a.out[0]);
  for_each_row(x.sizes(), p.dim, [&](int64_t, int64_t start, int64_t n, int64_t st) {
    with_row(st, [&](auto r) {
      const float* xs = xp + start;
      float* ys = y + start;
      const double nrm = pw.root(line_sum(r, n, [&](int64_t i) { return pw.power(xs[r(i)]); }));
      const float inv = float(1 / std::max(nrm, p.eps));
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) ys[r(i)] = xs[r(i)] * inv;
    });
  });
}

// With n = ||x||_p and m = max(n, eps):
//   d/dx_j = g_j / m - [n > eps] (sum_i g_i x_i) / (m^2 n^(p-1)) sign(x_j) |x_j|^(p-1)
// in: g, x; out: grad x.
void normalize_backward_kernel(const KernelArgs& a) {
  const auto& p = a.p<DimNormParams>();
  const PowerOf pw{p.p};
  const Tensor g = a.in[0].contiguous_raw(), x = a.in[1].contiguous_raw();
  const float *gp = f32_ptr(g), *xp = f32_ptr(x);
  float* gx = f32_ptr(a.out[0]);
  for_each_row(x.sizes(), p.dim, [&](int64_t, int64_t start, int64_t n, int64_t st) {
    with_row(st, [&](auto r) {
      const float *xs = xp + start, *gs = gp + start;
      float* out = gx + start;
      const double nrm = pw.root(line_sum(r, n, [&](int64_t i) { return pw.power(xs[r(i)]); }));
      const double m = std::max(nrm, p.eps);
      const double gdotx =
          line_sum(r, n, [&](int64_t i) { return double(gs[r(i)]) * double(xs[r(i)]); });
      const double scale = nrm > p.eps ? gdotx / (m * m * std::pow(nrm, p.p - 1)) : 0.0;
      // in double: the two terms cancel (exactly, analytically, for D = 1)
      if (p.p == 2) {
#pragma omp simd
        for (int64_t j = 0; j < n; ++j)
          out[r(j)] = float(double(gs[r(j)]) / m - scale * double(xs[r(j)]));
      } else {
        for (int64_t j = 0; j < n; ++j)
          out[r(j)] = float(double(gs[r(j)]) / m - scale * pw.signed_power(xs[r(j)]));
      }
    });
  });
}

// PointwiseLossParams::a = log_target picks the formula once per call.
void kl_div_kernel(const KernelArgs& a) {
  loss_param(a) != 0 ? pointwise_forward<KlDivLogTarget>(a) : pointwise_forward<KlDiv>(a);
}
void kl_div_backward_kernel(const KernelArgs& a) {
  loss_param(a) != 0 ? pointwise_backward<KlDivLogTarget>(a) : pointwise_backward<KlDiv>(a);
}

const LoopKernel kTable[] = {
    {"cross_entropy", cross_entropy_kernel},
    {"cross_entropy_backward", cross_entropy_backward_kernel},
    {"nll_loss", nll_loss_kernel},
    {"nll_loss_backward", nll_loss_backward_kernel},
    {"mse_loss", &pointwise_forward<MseLoss>},
    {"mse_loss_backward", &pointwise_backward<MseLoss>},
    {"l1_loss", &pointwise_forward<L1Loss>},
    {"l1_loss_backward", &pointwise_backward<L1Loss>},
    {"smooth_l1_loss", &pointwise_forward<SmoothL1Loss>},
    {"smooth_l1_loss_backward", &pointwise_backward<SmoothL1Loss>},
    {"huber_loss", &pointwise_forward<HuberLoss>},
    {"huber_loss_backward", &pointwise_backward<HuberLoss>},
    {"binary_cross_entropy", &pointwise_forward<BinaryCrossEntropy>},
    {"binary_cross_entropy_backward", &pointwise_backward<BinaryCrossEntropy>},
    {"binary_cross_entropy_with_logits", &pointwise_forward<BinaryCrossEntropyWithLogits>},
    {"binary_cross_entropy_with_logits_backward",
     &pointwise_backward<BinaryCrossEntropyWithLogits>},
    {"cosine_similarity", cosine_similarity_kernel},
    {"cosine_similarity_backward", cosine_similarity_backward_kernel},
    {"normalize", normalize_kernel},
    {"normalize_backward", normalize_backward_kernel},
    {"kl_div", kl_div_kernel},
    {"kl_div_backward", kl_div_backward_kernel},
};
