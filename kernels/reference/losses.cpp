// Reference loss kernels. Each loss has a forward kernel producing the per-element loss (what
// reduction 'none' returns) and a backward kernel turning the per-element output gradient into
// input gradients; the ops apply 'mean' / 'sum' / 'batchmean' with tutor's sum and div. Inputs
// are packed with contiguous_raw, and everything is computed in double.
#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "kernels/losses_params.h"
#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

namespace {

double sign(double v) { return double((v > 0) - (v < 0)); }

// log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), without overflow for large |x|.
double log_sigmoid(double x) { return std::min(x, 0.0) - std::log1p(std::exp(-std::fabs(x))); }

// sigmoid(-x) = 1 - sigmoid(x), stable for either sign.
double sigmoid_neg(double x) {
  return x >= 0 ? std::exp(-x) / (1 + std::exp(-x)) : 1 / (1 + std::exp(x));
}

template <class T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// ---- element-wise losses ----
// value(x, t, e, a): the loss of input x against target t, where e is the element of an optional
// third input (binary_cross_entropy_with_logits' pos_weight, 1 when absent) and `a` the op's
// parameter (PointwiseLossParams). grad(...) returns d loss / d (x, t, e).

struct Grads {
  double x = 0, t = 0, e = 0;
};

// (x - t)^2
struct MseLoss {
  static double value(double x, double t, double, double) { return (x - t) * (x - t); }
  static Grads grad(double x, double t, double, double) { return {2 * (x - t), -2 * (x - t)}; }
};

// |x - t|, subgradient sign(x - t) (0 at 0, as PyTorch)
struct L1Loss {
  static double value(double x, double t, double, double) { return std::fabs(x - t); }
  static Grads grad(double x, double t, double, double) { return {sign(x - t), -sign(x - t)}; }
};

// d = x - t: 0.5 d^2 / beta if |d| < beta, else |d| - 0.5 beta (beta = 0: |d|)
struct SmoothL1Loss {
  static double value(double x, double t, double, double beta) {
    double z = std::fabs(x - t);
    return z < beta ? 0.5 * z * z / beta : z - 0.5 * beta;
  }
  static Grads grad(double x, double t, double, double beta) {
    double d = x - t;
    double gx = std::fabs(d) < beta ? d / beta : sign(d);
    return {gx, -gx};
  }
};

// d = x - t: 0.5 d^2 if |d| < delta, else delta (|d| - 0.5 delta)
struct HuberLoss {
  static double value(double x, double t, double, double delta) {
    double z = std::fabs(x - t);
    return z < delta ? 0.5 * z * z : delta * (z - 0.5 * delta);
  }
  static Grads grad(double x, double t, double, double delta) {
    double d = x - t;
    double gx = std::fabs(d) < delta ? d : delta * sign(d);
    return {gx, -gx};
  }
};

// -(t log x + (1 - t) log(1 - x)), each log clamped at -100 (PyTorch); d/dx uses
// (x - t) / max(x (1 - x), 1e-12) as PyTorch's binary_cross_entropy_backward.
struct BinaryCrossEntropy {
  static double log_x(double x) { return std::max(std::log(x), -100.0); }
  static double log_1mx(double x) { return std::max(std::log1p(-x), -100.0); }
  static double value(double x, double t, double, double) {
    TUTOR_CHECK(x >= 0 && x <= 1,
                "binary_cross_entropy: every input element must lie in [0, 1], got {}", x);
    return -(t * log_x(x) + (1 - t) * log_1mx(x));
  }
  static Grads grad(double x, double t, double, double) {
    return {(x - t) / std::max(x * (1 - x), 1e-12), log_1mx(x) - log_x(x)};
  }
};

// With pos_weight e and lw = 1 + (e - 1) t (PyTorch's stable form):
// (1 - t) x - lw log sigmoid(x)
struct BinaryCrossEntropyWithLogits {
  static double value(double x, double t, double e, double) {
    return (1 - t) * x - (1 + (e - 1) * t) * log_sigmoid(x);
  }
  static Grads grad(double x, double t, double e, double) {
    double ls = log_sigmoid(x);
    return {(1 - t) - (1 + (e - 1) * t) * sigmoid_neg(x), -x - (e - 1) * ls, -t * ls};
  }
};

// log_target (a = 1): exp(t) (t - x); else xlogy(t, t) - t x, which is 0 where t == 0. The
// target gradient log(t) + 1 - x is taken as -x where t == 0 (PyTorch gives NaN there).
struct KlDiv {
  static double value(double x, double t, double, double log_target) {
    if (log_target != 0) return std::exp(t) * (t - x);
    return (t == 0 ? 0.0 : t * std::log(t)) - t * x;
  }
  static Grads grad(double x, double t, double, double log_target) {
    if (log_target != 0) return {-std::exp(t), std::exp(t) * (t - x + 1)};
    return {-t, (t == 0 ? 0.0 : std::log(t) + 1) - x};
  }
};

double pointwise_param(const KernelArgs& a) {
  return a.params ? a.p<PointwiseLossParams>().a : 0.0;
}

// in: x, t[, e] (one shape); out: the per-element loss.
template <class T, class L>
void pointwise_forward(const KernelArgs& a) {
  Tensor x = a.in[0].contiguous_raw(), t = a.in[1].contiguous_raw();
  Tensor e = a.in.size() > 2 ? a.in[2].contiguous_raw() : Tensor();
  const T *xp = x.data<T>(), *tp = t.data<T>(), *ep = data_or_null<T>(e);
  T* yp = a.out[0].data<T>();
  const double param = pointwise_param(a);
  for (int64_t i = 0; i < x.numel(); ++i)
    yp[i] = T(L::value(xp[i], tp[i], ep ? double(ep[i]) : 1.0, param));
}

// in: g (per-element loss gradient), x, t[, e]; out: grad x, grad t[, grad e].
template <class T, class L>
void pointwise_backward(const KernelArgs& a) {
  Tensor g = a.in[0].contiguous_raw(), x = a.in[1].contiguous_raw(), t = a.in[2].contiguous_raw();
  Tensor e = a.in.size() > 3 ? a.in[3].contiguous_raw() : Tensor();
  const T *gp = g.data<T>(), *xp = x.data<T>(), *tp = t.data<T>(), *ep = data_or_null<T>(e);
  T *gx = a.out[0].data<T>(), *gt = a.out[1].data<T>();
  T* ge = a.out.size() > 2 ? a.out[2].data<T>() : nullptr;
  const double param = pointwise_param(a);
  for (int64_t i = 0; i < x.numel(); ++i) {
    Grads d = L::grad(xp[i], tp[i], ep ? double(ep[i]) : 1.0, param);
    gx[i] = T(gp[i] * d.x);
    gt[i] = T(gp[i] * d.t);
    if (ge) ge[i] = T(gp[i] * d.e);
  }
}

template <class L>
void register_pointwise(const char* name, const char* backward_name) {
  register_kernel(name, Backend::reference, DType::f32, &pointwise_forward<float, L>);
  register_kernel(name, Backend::reference, DType::f64, &pointwise_forward<double, L>);
  register_kernel(backward_name, Backend::reference, DType::f32, &pointwise_backward<float, L>);
  register_kernel(backward_name, Backend::reference, DType::f64, &pointwise_backward<double, L>);
}

// ---- losses over a class dim: cross_entropy, nll_loss ----

// The input [N, C, d...] seen as [N, C, inner]; the target and the loss as [N, inner].
struct ClassView {
  int64_t n, c, inner;
  explicit ClassView(const Tensor& input) : n(input.size(0)), c(input.size(1)), inner(1) {
    for (int64_t d = 2; d < input.dim(); ++d) inner *= input.size(d);
  }
  int64_t at(int64_t i, int64_t cls, int64_t k) const { return (i * c + cls) * inner + k; }
};

// The weight of target class y (1 without weights), 0 when y is ignore_index.
template <class T>
double target_weight(int64_t y, const ClassLossParams& p, int64_t classes, const T* weight) {
  if (y == p.ignore_index) return 0;
  TUTOR_CHECK(y >= 0 && y < classes, "{}: target class index {} is out of range for {} classes",
              p.op, y, classes);
  return weight ? double(weight[y]) : 1.0;
}

// Tensors of a class loss: in = input, target, weight (may be undefined), from `first` on.
template <class T>
struct ClassInputs {
  Tensor input, target, weight;
  ClassView v;
  explicit ClassInputs(std::span<const Tensor> in, size_t first = 0)
      : input(in[first].contiguous_raw()),
        target(in[first + 1].contiguous_raw()),
        weight(in[first + 2].defined() ? in[first + 2].contiguous_raw() : Tensor()),
        v(input) {}
  const T* x() const { return input.data<T>(); }
  const T* w() const { return data_or_null<T>(weight); }
  const int64_t* y() const { return target.data<int64_t>(); }
};

// Cross entropy at position (i, k) is -sum_c a_c log p_c with p = softmax over the classes and
//   class indices:  a_c = [y != ignore] ((1 - eps) w_y [c == y] + (eps / C) w_c)
//   probabilities:  a_c = w_c ((1 - eps) t_c + eps / C)
// (PyTorch's label smoothing for both target kinds). Fills `coef` and `logp`; returns the row's
// share of the 'mean' denominator: w_y (0 if ignored) for indices, 1 for probabilities.
template <class T>
double cross_entropy_row(const ClassInputs<T>& in, const ClassLossParams& p, int64_t i, int64_t k,
                         std::vector<double>& coef, std::vector<double>& logp) {
  const ClassView& v = in.v;
  const T *x = in.x(), *w = in.w();
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t c = 0; c < v.c; ++c) m = std::max(m, double(x[v.at(i, c, k)]));
  double s = 0;
  for (int64_t c = 0; c < v.c; ++c) s += std::exp(double(x[v.at(i, c, k)]) - m);
  const double lse = m + std::log(s), eps = p.label_smoothing, C = double(v.c);
  for (int64_t c = 0; c < v.c; ++c) logp[size_t(c)] = double(x[v.at(i, c, k)]) - lse;
  if (p.prob_target) {
    const T* t = in.target.template data<T>();
    for (int64_t c = 0; c < v.c; ++c)
      coef[size_t(c)] = (w ? double(w[c]) : 1.0) * ((1 - eps) * double(t[v.at(i, c, k)]) + eps / C);
    return 1;
  }
  const int64_t y = in.y()[i * v.inner + k];
  const double wy = target_weight(y, p, v.c, w);
  std::fill(coef.begin(), coef.end(), 0.0);
  if (y == p.ignore_index) return 0;
  for (int64_t c = 0; c < v.c; ++c) coef[size_t(c)] = eps / C * (w ? double(w[c]) : 1.0);
  coef[size_t(y)] += (1 - eps) * wy;
  return wy;
}

// in: input, target, weight; out: loss [N, inner], the 'mean' denominator (0-dim).
template <class T>
void cross_entropy_kernel(const KernelArgs& a) {
  const auto& p = a.p<ClassLossParams>();
  ClassInputs<T> in(a.in);
  std::vector<double> coef(size_t(in.v.c)), logp(size_t(in.v.c));
  T* loss = a.out[0].data<T>();
  double total = 0;
  for (int64_t i = 0; i < in.v.n; ++i)
    for (int64_t k = 0; k < in.v.inner; ++k) {
      total += cross_entropy_row(in, p, i, k, coef, logp);
      double l = 0;
      for (size_t c = 0; c < coef.size(); ++c) l -= coef[c] * logp[c];
      loss[i * in.v.inner + k] = T(l);
    }
  a.out[1].data<T>()[0] = T(total);
}

// in: g [N, inner], input, target, weight; out: grad input[, grad target (probabilities)].
//   d/dx_c = g (p_c sum_j a_j - a_c);   d/dt_c = -g (1 - eps) w_c log p_c
template <class T>
void cross_entropy_backward_kernel(const KernelArgs& a) {
  const auto& p = a.p<ClassLossParams>();
  Tensor g = a.in[0].contiguous_raw();
  ClassInputs<T> in(a.in, 1);
  const ClassView& v = in.v;
  const T *gp = g.data<T>(), *w = in.w();
  T* gx = a.out[0].data<T>();
  T* gt = a.out.size() > 1 ? a.out[1].data<T>() : nullptr;
  std::vector<double> coef(size_t(v.c)), logp(size_t(v.c));
  for (int64_t i = 0; i < v.n; ++i)
    for (int64_t k = 0; k < v.inner; ++k) {
      cross_entropy_row(in, p, i, k, coef, logp);
      const double gi = double(gp[i * v.inner + k]);
      double mass = 0;
      for (double c : coef) mass += c;
      for (int64_t c = 0; c < v.c; ++c) {
        gx[v.at(i, c, k)] = T(gi * (std::exp(logp[size_t(c)]) * mass - coef[size_t(c)]));
        if (gt)
          gt[v.at(i, c, k)] =
              T(-gi * (1 - p.label_smoothing) * (w ? double(w[c]) : 1.0) * logp[size_t(c)]);
      }
    }
}

// -w_y x[i, y, k] (0 where y is ignore_index). in: input, target, weight; out: loss [N, inner],
// the 'mean' denominator sum w_y (0-dim).
template <class T>
void nll_loss_kernel(const KernelArgs& a) {
  const auto& p = a.p<ClassLossParams>();
  ClassInputs<T> in(a.in);
  const ClassView& v = in.v;
  T* loss = a.out[0].data<T>();
  double total = 0;
  for (int64_t i = 0; i < v.n; ++i)
    for (int64_t k = 0; k < v.inner; ++k) {
      const int64_t y = in.y()[i * v.inner + k];
      const double wy = target_weight(y, p, v.c, in.w());
      total += wy;
      loss[i * v.inner + k] = wy == 0 ? T(0) : T(-wy * double(in.x()[v.at(i, y, k)]));
    }
  a.out[1].data<T>()[0] = T(total);
}

// d/dx[i, c, k] = -g w_y [c == y]. in: g, input, target, weight; out: grad input.
template <class T>
void nll_loss_backward_kernel(const KernelArgs& a) {
  const auto& p = a.p<ClassLossParams>();
  Tensor g = a.in[0].contiguous_raw();
  ClassInputs<T> in(a.in, 1);
  const ClassView& v = in.v;
  a.out[0].fill_raw_(0.0);
  T* gx = a.out[0].data<T>();
  for (int64_t i = 0; i < v.n; ++i)
    for (int64_t k = 0; k < v.inner; ++k) {
      const int64_t y = in.y()[i * v.inner + k];
      const double wy = target_weight(y, p, v.c, in.w());
      if (wy != 0) gx[v.at(i, y, k)] = T(-wy * double(g.data<T>()[i * v.inner + k]));
    }
}

// ---- ops along one dim: cosine_similarity, normalize ----

// A shape seen as [outer, D, inner] around `dim`.
struct DimView {
  int64_t outer = 1, d, inner = 1;
  DimView(const Shape& s, int64_t dim) : d(s[size_t(dim)]) {
    for (int64_t i = 0; i < dim; ++i) outer *= s[size_t(i)];
    for (size_t i = size_t(dim) + 1; i < s.size(); ++i) inner *= s[i];
  }
  int64_t at(int64_t o, int64_t j, int64_t k) const { return (o * d + j) * inner + k; }
};

// Calls f(o, k) once per line along the dim.
template <class F>
void for_each_line(const DimView& v, F f) {
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t k = 0; k < v.inner; ++k) f(o, k);
}

struct CosineTerms {
  double dot = 0, n1 = 0, n2 = 0;
};

template <class T>
CosineTerms cosine_terms(const DimView& v, const T* x1, const T* x2, int64_t o, int64_t k) {
  CosineTerms s;
  for (int64_t j = 0; j < v.d; ++j) {
    double a = x1[v.at(o, j, k)], b = x2[v.at(o, j, k)];
    s.dot += a * b, s.n1 += a * a, s.n2 += b * b;
  }
  s.n1 = std::sqrt(s.n1), s.n2 = std::sqrt(s.n2);
  return s;
}

// x1.x2 / (max(|x1|, eps) max(|x2|, eps)). in: x1, x2 (one shape); out: [outer, inner].
template <class T>
void cosine_similarity_kernel(const KernelArgs& a) {
  const auto& p = a.p<DimNormParams>();
  Tensor x1 = a.in[0].contiguous_raw(), x2 = a.in[1].contiguous_raw();
  DimView v(x1.sizes(), p.dim);
  T* y = a.out[0].data<T>();
  for_each_line(v, [&](int64_t o, int64_t k) {
    CosineTerms s = cosine_terms(v, x1.data<T>(), x2.data<T>(), o, k);
    y[o * v.inner + k] = T(s.dot / (std::max(s.n1, p.eps) * std::max(s.n2, p.eps)));
  });
}

// With m_i = max(|x_i|, eps) and cos the output:
//   d cos / d x1 = x2 / (m1 m2) - [|x1| > eps] cos x1 / |x1|^2, and symmetrically for x2.
// in: g [outer, inner], x1, x2; out: grad x1, grad x2.
template <class T>
void cosine_similarity_backward_kernel(const KernelArgs& a) {
  const auto& p = a.p<DimNormParams>();
  Tensor g = a.in[0].contiguous_raw(), x1 = a.in[1].contiguous_raw(), x2 = a.in[2].contiguous_raw();
  DimView v(x1.sizes(), p.dim);
  const T *a1 = x1.data<T>(), *a2 = x2.data<T>();
  T *g1 = a.out[0].data<T>(), *g2 = a.out[1].data<T>();
  for_each_line(v, [&](int64_t o, int64_t k) {
    CosineTerms s = cosine_terms(v, a1, a2, o, k);
    const double m1 = std::max(s.n1, p.eps), m2 = std::max(s.n2, p.eps);
    const double cos = s.dot / (m1 * m2), gi = double(g.data<T>()[o * v.inner + k]);
    const double c1 = s.n1 > p.eps ? cos / (s.n1 * s.n1) : 0.0;
    const double c2 = s.n2 > p.eps ? cos / (s.n2 * s.n2) : 0.0;
    for (int64_t j = 0; j < v.d; ++j) {
      const int64_t e = v.at(o, j, k);
      g1[e] = T(gi * (a2[e] / (m1 * m2) - c1 * a1[e]));
      g2[e] = T(gi * (a1[e] / (m1 * m2) - c2 * a2[e]));
    }
  });
}

// ||x||_p along the line (o, k).
template <class T>
double p_norm(const DimView& v, const T* x, int64_t o, int64_t k, double p) {
  double s = 0;
  for (int64_t j = 0; j < v.d; ++j) s += std::pow(std::fabs(double(x[v.at(o, j, k)])), p);
  return std::pow(s, 1 / p);
}

// x / max(||x||_p, eps). in: x; out: same shape.
template <class T>
void normalize_kernel(const KernelArgs& a) {
  const auto& p = a.p<DimNormParams>();
  Tensor x = a.in[0].contiguous_raw();
  DimView v(x.sizes(), p.dim);
  const T* xp = x.data<T>();
  T* y = a.out[0].data<T>();
  for_each_line(v, [&](int64_t o, int64_t k) {
    const double m = std::max(p_norm(v, xp, o, k, p.p), p.eps);
    for (int64_t j = 0; j < v.d; ++j) y[v.at(o, j, k)] = T(double(xp[v.at(o, j, k)]) / m);
  });
}

// With n = ||x||_p and m = max(n, eps):
//   d/dx_j = g_j / m - [n > eps] (sum_i g_i x_i) / m^2 * sign(x_j) |x_j|^(p-1) / n^(p-1)
// in: g, x; out: grad x.
template <class T>
void normalize_backward_kernel(const KernelArgs& a) {
  const auto& p = a.p<DimNormParams>();
  Tensor g = a.in[0].contiguous_raw(), x = a.in[1].contiguous_raw();
  DimView v(x.sizes(), p.dim);
  const T *gp = g.data<T>(), *xp = x.data<T>();
  T* gx = a.out[0].data<T>();
  for_each_line(v, [&](int64_t o, int64_t k) {
    const double n = p_norm(v, xp, o, k, p.p), m = std::max(n, p.eps);
    double gdotx = 0;
    for (int64_t j = 0; j < v.d; ++j)
      gdotx += double(gp[v.at(o, j, k)]) * double(xp[v.at(o, j, k)]);
    const double scale = n > p.eps ? gdotx / (m * m * std::pow(n, p.p - 1)) : 0.0;
    for (int64_t j = 0; j < v.d; ++j) {
      const double xj = xp[v.at(o, j, k)];
      gx[v.at(o, j, k)] =
          T(double(gp[v.at(o, j, k)]) / m - scale * sign(xj) * std::pow(std::fabs(xj), p.p - 1));
    }
  });
}

// ---- cdist ----

// d[b, i, r] = ||x1[b, i] - x2[b, r]||_p for p = 1 or 2. in: x1 [B, P, M], x2 [B, R, M];
// out: [B, P, R]. With `grad` set, in also holds g [B, P, R] first and out the two gradients:
//   p = 1: d d / d x1 = sign(x1 - x2);  p = 2: (x1 - x2) / d, taken as 0 where d = 0.
template <class T, bool grad>
void cdist_impl(const KernelArgs& a) {
  const auto& prm = a.p<DimNormParams>();
  const size_t first = grad ? 1 : 0;
  Tensor x1 = a.in[first].contiguous_raw(), x2 = a.in[first + 1].contiguous_raw();
  Tensor g = grad ? a.in[0].contiguous_raw() : Tensor();
  const int64_t B = x1.size(0), P = x1.size(1), R = x2.size(1), M = x1.size(2);
  const T *p1 = x1.data<T>(), *p2 = x2.data<T>();
  if (grad) a.out[0].fill_raw_(0.0), a.out[1].fill_raw_(0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < P; ++i)
      for (int64_t r = 0; r < R; ++r) {
        const T* u = p1 + (b * P + i) * M;
        const T* w = p2 + (b * R + r) * M;
        double d = 0;
        for (int64_t m = 0; m < M; ++m) {
          const double diff = double(u[m]) - double(w[m]);
          d += prm.p == 1 ? std::fabs(diff) : diff * diff;
        }
        if (prm.p == 2) d = std::sqrt(d);
        const int64_t o = (b * P + i) * R + r;
        if constexpr (!grad) {
          a.out[0].data<T>()[o] = T(d);
        } else {
          const double gi = double(g.data<T>()[o]);
          T* g1 = a.out[0].data<T>() + (b * P + i) * M;
          T* g2 = a.out[1].data<T>() + (b * R + r) * M;
          for (int64_t m = 0; m < M; ++m) {
            const double diff = double(u[m]) - double(w[m]);
            const double dd = prm.p == 1 ? sign(diff) : (d > 0 ? diff / d : 0.0);
            g1[m] = T(double(g1[m]) + gi * dd);
            g2[m] = T(double(g2[m]) - gi * dd);
          }
        }
      }
}

template <class T>
void cdist_kernel(const KernelArgs& a) {
  cdist_impl<T, false>(a);
}
template <class T>
void cdist_backward_kernel(const KernelArgs& a) {
  cdist_impl<T, true>(a);
}

}  // namespace

void register_losses() {
  register_pointwise<MseLoss>("mse_loss", "mse_loss_backward");
  register_pointwise<L1Loss>("l1_loss", "l1_loss_backward");
  register_pointwise<SmoothL1Loss>("smooth_l1_loss", "smooth_l1_loss_backward");
  register_pointwise<HuberLoss>("huber_loss", "huber_loss_backward");
  register_pointwise<BinaryCrossEntropy>("binary_cross_entropy", "binary_cross_entropy_backward");
  register_pointwise<BinaryCrossEntropyWithLogits>("binary_cross_entropy_with_logits",
                                                   "binary_cross_entropy_with_logits_backward");
  register_pointwise<KlDiv>("kl_div", "kl_div_backward");
  TUTOR_REGISTER_FLOATING("cross_entropy", cross_entropy_kernel);
  TUTOR_REGISTER_FLOATING("cross_entropy_backward", cross_entropy_backward_kernel);
  TUTOR_REGISTER_FLOATING("nll_loss", nll_loss_kernel);
  TUTOR_REGISTER_FLOATING("nll_loss_backward", nll_loss_backward_kernel);
  TUTOR_REGISTER_FLOATING("cosine_similarity", cosine_similarity_kernel);
  TUTOR_REGISTER_FLOATING("cosine_similarity_backward", cosine_similarity_backward_kernel);
  TUTOR_REGISTER_FLOATING("normalize", normalize_kernel);
  TUTOR_REGISTER_FLOATING("normalize_backward", normalize_backward_kernel);
  TUTOR_REGISTER_FLOATING("cdist", cdist_kernel);
  TUTOR_REGISTER_FLOATING("cdist_backward", cdist_backward_kernel);
}

}  // namespace tutor::kernels::reference
