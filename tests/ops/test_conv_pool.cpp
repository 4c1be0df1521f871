#include <cmath>
#include <functional>

#include "support/op_test.h"

using namespace tutor;
using testing::check_close;
using testing::check_error;
using testing::check_f32_backward;
using testing::check_gradient;
using testing::rand_leaf;

namespace {

Tensor rnd(const Shape& shape, uint64_t seed) { return rand_leaf(shape, seed).detach(); }

double dot(const Tensor& a, const Tensor& b) {
  std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += x[i] * y[i];
  return s;
}

Tensor f64(const std::vector<double>& v, const Shape& shape) { return from_vector(v, shape, DType::f64); }

// conv2d straight from its definition (PyTorch docs, torch.nn.Conv2d).
Tensor naive_conv2d(const Tensor& x, const Tensor& w, const Tensor& b, Size2 s, Size2 p, Size2 d,
                    int64_t groups) {
  std::vector<double> xv = x.to_vector<double>(), wv = w.to_vector<double>();
  std::vector<double> bv = b.defined() ? b.to_vector<double>() : std::vector<double>();
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = w.size(0), Cg = w.size(1), KH = w.size(2), KW = w.size(3);
  const int64_t OH = (H + 2 * p.h - d.h * (KH - 1) - 1) / s.h + 1;
  const int64_t OW = (W + 2 * p.w - d.w * (KW - 1) - 1) / s.w + 1;
  std::vector<double> y;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t i = 0; i < OH; ++i)
        for (int64_t j = 0; j < OW; ++j) {
          double acc = b.defined() ? bv[size_t(o)] : 0.0;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t a = 0; a < KH; ++a)
              for (int64_t e = 0; e < KW; ++e) {
                int64_t h = i * s.h - p.h + a * d.h, v = j * s.w - p.w + e * d.w;
                if (h < 0 || h >= H || v < 0 || v >= W) continue;
                int64_t ci = (o / (O / groups)) * Cg + c;
                acc += xv[size_t(((n * C + ci) * H + h) * W + v)] * wv[size_t(((o * Cg + c) * KH + a) * KW + e)];
              }
          y.push_back(acc);
        }
  return f64(y, {N, O, OH, OW});
}

// Pooling output size from PyTorch's docs: floor or ceil of (n + 2p - d(k-1) - 1)/s, plus 1; with
// ceil_mode a last window starting beyond the input and the left padding is dropped.
int64_t pool_out(int64_t n, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  double q = double(n + 2 * p - d * (k - 1) - 1) / double(s);
  int64_t o = int64_t(ceil_mode ? std::ceil(q) : std::floor(q)) + 1;
  if (ceil_mode && (o - 1) * s >= n + p) --o;
  return o;
}

struct PoolCase {
  PoolCase(Size2 k_, Size2 s_, Size2 p_, Size2 d_ = 1, bool ceil = false, bool include_pad = true,
           std::optional<int64_t> div = {})
      : k(k_), s(s_), p(p_), d(d_), ceil_mode(ceil), count_include_pad(include_pad), divisor(div) {}
  Size2 k, s, p, d;
  bool ceil_mode, count_include_pad;
  std::optional<int64_t> divisor;
};

// max or avg pooling by the formulas, window by window.
Tensor naive_pool(const Tensor& x, const PoolCase& c, bool max) {
  std::vector<double> xv = x.to_vector<double>();
  const int64_t NC = x.size(0) * x.size(1), H = x.size(2), W = x.size(3);
  const int64_t OH = pool_out(H, c.k.h, c.s.h, c.p.h, c.d.h, c.ceil_mode);
  const int64_t OW = pool_out(W, c.k.w, c.s.w, c.p.w, c.d.w, c.ceil_mode);
  std::vector<double> y;
  for (int64_t pl = 0; pl < NC; ++pl)
    for (int64_t i = 0; i < OH; ++i)
      for (int64_t j = 0; j < OW; ++j) {
        const int64_t h0 = i * c.s.h - c.p.h, w0 = j * c.s.w - c.p.w;
        double best = -INFINITY, sum = 0;
        int64_t inside = 0;
        for (int64_t a = 0; a < c.k.h; ++a)
          for (int64_t e = 0; e < c.k.w; ++e) {
            int64_t h = h0 + a * c.d.h, v = w0 + e * c.d.w;
            if (h < 0 || h >= H || v < 0 || v >= W) continue;
            double val = xv[size_t((pl * H + h) * W + v)];
            best = std::max(best, val);
            sum += val;
            ++inside;
          }
        const double padded = double((std::min(h0 + c.k.h, H + c.p.h) - h0) * (std::min(w0 + c.k.w, W + c.p.w) - w0));
        const double divisor = c.divisor ? double(*c.divisor) : c.count_include_pad ? padded : double(inside);
        y.push_back(max ? best : sum / divisor);
      }
  return f64(y, {x.size(0), x.size(1), OH, OW});
}

// Adaptive pooling with windows [floor(i*n/out), ceil((i+1)*n/out)).
Tensor naive_adaptive(const Tensor& x, Size2 out, bool max) {
  std::vector<double> xv = x.to_vector<double>();
  const int64_t NC = x.size(0) * x.size(1), H = x.size(2), W = x.size(3);
  auto lo = [](int64_t i, int64_t n, int64_t o) { return int64_t(std::floor(double(i * n) / double(o))); };
  auto hi = [](int64_t i, int64_t n, int64_t o) { return int64_t(std::ceil(double((i + 1) * n) / double(o))); };
  std::vector<double> y;
  for (int64_t pl = 0; pl < NC; ++pl)
    for (int64_t i = 0; i < out.h; ++i)
      for (int64_t j = 0; j < out.w; ++j) {
        double best = -INFINITY, sum = 0, count = 0;
        for (int64_t h = lo(i, H, out.h); h < hi(i, H, out.h); ++h)
          for (int64_t v = lo(j, W, out.w); v < hi(j, W, out.w); ++v) {
            best = std::max(best, xv[size_t((pl * H + h) * W + v)]);
            sum += xv[size_t((pl * H + h) * W + v)];
            ++count;
          }
        y.push_back(max ? best : sum / count);
      }
  return f64(y, {x.size(0), x.size(1), out.h, out.w});
}

struct ConvCase {
  Shape x, w;
  bool bias;
  Size2 s, p, d;
  int64_t groups;
};

// stride, padding, dilation, groups (depthwise too), bias or not, batch 1, odd sizes
const std::vector<ConvCase> kConvCases = {
    {{2, 3, 7, 6}, {4, 3, 3, 3}, true, 1, 0, 1, 1},
    {{1, 2, 7, 9}, {3, 2, 3, 2}, false, {2, 3}, {1, 2}, 1, 1},
    {{2, 4, 9, 8}, {6, 2, 3, 3}, true, 2, 1, {2, 1}, 2},
    {{1, 3, 6, 7}, {3, 1, 3, 3}, true, 1, 1, 1, 3},   // depthwise
    {{1, 2, 5, 5}, {4, 1, 2, 2}, false, 3, 2, 2, 2},  // depthwise with multiplier 2
    {{3, 1, 4, 4}, {2, 1, 1, 1}, true, 1, 0, 1, 1},   // 1x1
    {{1, 1, 3, 3}, {1, 1, 3, 3}, true, 1, 0, 1, 1},   // kernel = input
};

// The output_padding that makes conv_transpose2d return x's spatial shape from conv2d's output.
Size2 adjoint_output_padding(const ConvCase& c) {
  int64_t r[2];
  const int64_t s[2] = {c.s.h, c.s.w}, p[2] = {c.p.h, c.p.w}, d[2] = {c.d.h, c.d.w};
  for (size_t i = 0; i < 2; ++i) r[i] = (c.x[2 + i] + 2 * p[i] - d[i] * (c.w[2 + i] - 1) - 1) % s[i];
  return {r[0], r[1]};
}

// <f(t[0..n)), t[n]>'s gradients w.r.t. t[0..n), kept differentiable: gradchecking this checks the
// backward's own backward. Grad mode is forced on because gradcheck evaluates under NoGradGuard.
autograd::GradcheckFn double_backward(std::function<Tensor(const TensorList&)> f, size_t n) {
  return [f = std::move(f), n](const TensorList& t) {
    EnableGradGuard on;
    TensorList wrt(t.begin(), t.begin() + int64_t(n));
    return autograd::grad({f(wrt)}, wrt, {t[n]}, true, true);
  };
}


}  // namespace

// ---- conv2d ----

OP_TEST("conv2d", "values") {
  // by hand: y[i][j] = sum_ab x[i+a][j+b] w[a][b] + 1
  Tensor x = tensor({{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}});
  Tensor w = tensor({{{{1, 2}, {3, 4}}}});
  check_close(conv2d(x, w, tensor({1})), tensor({{{{38, 48}, {68, 78}}}}));
  // padding 1, stride 2: windows at rows/cols -1 and 1
  check_close(conv2d(x, w, Tensor(), 2, 1), tensor({{{{4, 18}, {36, 77}}}}));
  // dilation 2 with a 2x2 kernel reads the four corners
  check_close(conv2d(x, w, Tensor(), 1, 0, 2), tensor({{{{1 + 6 + 21 + 36}}}}));
  // against the definition, f64 and f32
  uint64_t seed = 10;
  for (const ConvCase& c : kConvCases) {
    CAPTURE(shape_str(c.x));
    Tensor xi = rnd(c.x, seed++), wi = rnd(c.w, seed++), bi = c.bias ? rnd({c.w[0]}, seed++) : Tensor();
    Tensor expected = naive_conv2d(xi, wi, bi, c.s, c.p, c.d, c.groups);
    check_close(conv2d(xi, wi, bi, c.s, c.p, c.d, c.groups), expected, 1e-12, 1e-12);
    check_close(conv2d(xi.to(DType::f32), wi.to(DType::f32), c.bias ? bi.to(DType::f32) : Tensor(), c.s, c.p,
                       c.d, c.groups),
                expected, 1e-5, 1e-5);
  }
  // non-contiguous input and weight
  Tensor xt = rnd({1, 2, 6, 5}, 1).transpose(2, 3), wt = rnd({3, 2, 4, 2}, 2).slice(2, 0, 4, 2).permute({0, 1, 3, 2});
  check_close(conv2d(xt, wt, Tensor(), 1, 1), naive_conv2d(xt, wt, Tensor(), 1, 1, 1, 1), 1e-12);
  // empty batch
  CHECK(conv2d(zeros({0, 2, 5, 5}), zeros({3, 2, 3, 3})).sizes() == Shape{0, 3, 3, 3});
}

OP_TEST("conv2d", "gradient") {
  check_gradient([](const TensorList& t) { return TensorList{conv2d(t[0], t[1], t[2])}; },
                 {rand_leaf({2, 2, 4, 4}, 1), rand_leaf({3, 2, 2, 2}, 2), rand_leaf({3}, 3)});
  check_gradient([](const TensorList& t) { return TensorList{conv2d(t[0], t[1], Tensor(), {2, 1}, {1, 2}, {1, 2})}; },
                 {rand_leaf({1, 2, 5, 6}, 4), rand_leaf({2, 2, 3, 2}, 5)});
  check_gradient([](const TensorList& t) { return TensorList{conv2d(t[0], t[1], t[2], 1, 1, 1, 2)}; },
                 {rand_leaf({1, 4, 4, 3}, 6), rand_leaf({4, 2, 2, 2}, 7), rand_leaf({4}, 8)});
  // depthwise on a non-contiguous input
  check_gradient([](const TensorList& t) { return TensorList{conv2d(t[0].transpose(2, 3), t[1], t[2], 2, 1, 1, 3)}; },
                 {rand_leaf({1, 3, 5, 4}, 9), rand_leaf({3, 1, 3, 3}, 10), rand_leaf({3}, 11)});
  // second order: the backward is differentiable (gx and gw through conv_in and conv_w)
  check_gradient(
      double_backward([](const TensorList& t) { return conv2d(t[0], t[1], Tensor(), 2, 1, 1, 2); }, 2),
      {rand_leaf({1, 2, 4, 5}, 12), rand_leaf({2, 1, 2, 3}, 13), rand_leaf({1, 2, 3, 3}, 14)});
  // empty batch
  check_gradient([](const TensorList& t) { return TensorList{conv2d(t[0], t[1], t[2], 1, 1)}; },
                 {rand_leaf({0, 2, 3, 3}, 15), rand_leaf({2, 2, 2, 2}, 16), rand_leaf({2}, 17)});
  check_f32_backward([](const TensorList& t) { return conv2d(t[0], t[1], t[2], 2, 1, 1, 2); },
                     {rnd({2, 4, 5, 5}, 18), rnd({4, 2, 3, 3}, 19), rnd({4}, 20)});
}

OP_TEST("conv2d", "errors") {
  check_error([] { conv2d(zeros({3, 5, 5}), zeros({2, 3, 3, 3})); }, {"conv2d", "[3, 5, 5]", "4-D"});
  check_error([] { conv2d(zeros({1, 3, 5, 5}), zeros({2, 3, 3})); }, {"conv2d", "[2, 3, 3]", "4-D"});
  check_error([] { conv2d(zeros({2, 4, 8, 8}), zeros({8, 3, 3, 3})); },
              {"conv2d", "[8, 3, 3, 3]", "[2, 4, 8, 8]", "expects 3 input channels"});
  check_error([] { conv2d(zeros({1, 4, 5, 5}), zeros({6, 2, 3, 3}), Tensor(), 1, 0, 1, 3); },
              {"conv2d", "[6, 2, 3, 3]", "[1, 4, 5, 5]", "groups=3"});
  check_error([] { conv2d(zeros({1, 4, 5, 5}), zeros({5, 2, 3, 3}), Tensor(), 1, 0, 1, 2); },
              {"conv2d", "[5, 2, 3, 3]", "groups=2"});
  check_error([] { conv2d(zeros({1, 1, 2, 2}), zeros({1, 1, 3, 3})); },
              {"conv2d", "[1, 1, 2, 2]", "[1, 1, 3, 3]", "smaller than the kernel"});
  check_error([] { conv2d(zeros({1, 1, 4, 4}), zeros({1, 1, 2, 2}), Tensor(), 1, 0, 4); },
              {"conv2d", "[1, 1, 4, 4]", "dilation [4, 4]"});
  check_error([] { conv2d(zeros({1, 1, 4, 4}), zeros({2, 1, 2, 2}), zeros({3})); },
              {"conv2d", "bias", "[3]", "[2, 1, 2, 2]"});
  check_error([] { conv2d(zeros({1, 1, 4, 4}), zeros({1, 1, 2, 2}), Tensor(), 0); }, {"conv2d", "stride"});
  check_error([] { conv2d(zeros({1, 1, 4, 4}), zeros({1, 1, 2, 2}, DType::f64)); }, {"conv2d", "f32", "f64"});
}

// ---- conv_transpose2d ----

OP_TEST("conv_transpose2d", "values") {
  // by hand: every input element stamps x[i][j] * w at (i, j)
  Tensor x = tensor({{{{1, 2}, {3, 4}}}}), w = tensor({{{{1, 2}, {3, 4}}}});
  check_close(conv_transpose2d(x, w), tensor({{{{1, 4, 4}, {6, 20, 16}, {9, 24, 16}}}}));
  // stride 2 places the stamps apart; bias on every element
  check_close(conv_transpose2d(x, ones({1, 1, 2, 2}), tensor({0.5}), 2),
              tensor({{{{1.5, 1.5, 2.5, 2.5}, {1.5, 1.5, 2.5, 2.5}, {3.5, 3.5, 4.5, 4.5}, {3.5, 3.5, 4.5, 4.5}}}}));
  // H_out = (H - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1
  CHECK(conv_transpose2d(zeros({1, 1, 2, 3}), zeros({1, 1, 3, 3}), Tensor(), 2, 1, {1, 0}).sizes() ==
        Shape{1, 1, 4, 5});
  CHECK(conv_transpose2d(zeros({2, 4, 3, 3}), zeros({4, 3, 2, 2}), Tensor(), 1, 0, 0, 2, 2).sizes() ==
        Shape{2, 6, 5, 5});
  // the adjoint of conv2d: <conv2d(x, w), y> = <x, conv_transpose2d(y, w)>, same arguments
  uint64_t seed = 100;
  for (const ConvCase& c : kConvCases) {
    CAPTURE(shape_str(c.x));
    Tensor xi = rnd(c.x, seed++), wi = rnd(c.w, seed++);
    Tensor y = conv2d(xi, wi, Tensor(), c.s, c.p, c.d, c.groups);
    Tensor yi = rnd(y.sizes(), seed++);
    Tensor xt = conv_transpose2d(yi, wi, Tensor(), c.s, c.p, adjoint_output_padding(c), c.groups, c.d);
    REQUIRE(xt.sizes() == xi.sizes());
    CHECK(dot(y, yi) == doctest::Approx(dot(xi, xt)).epsilon(1e-12));
    // the bias adds bias[o] to channel o
    Tensor b = rnd({c.x[1]}, seed++);
    Tensor xb = conv_transpose2d(yi, wi, b, c.s, c.p, adjoint_output_padding(c), c.groups, c.d);
    check_close(xb, xt + b.view({1, c.x[1], 1, 1}), 1e-12);
  }
  // non-contiguous input
  Tensor yt = rnd({1, 2, 4, 3}, 1).transpose(2, 3), wt = rnd({2, 1, 2, 2}, 2);
  check_close(conv_transpose2d(yt, wt), conv_transpose2d(yt.contiguous(), wt), 0);
}

OP_TEST("conv_transpose2d", "gradient") {
  check_gradient([](const TensorList& t) { return TensorList{conv_transpose2d(t[0], t[1], t[2])}; },
                 {rand_leaf({2, 2, 3, 3}, 1), rand_leaf({2, 3, 2, 2}, 2), rand_leaf({3}, 3)});
  check_gradient(
      [](const TensorList& t) { return TensorList{conv_transpose2d(t[0], t[1], t[2], {2, 3}, 1, {1, 2}, 2, 1)}; },
      {rand_leaf({1, 4, 3, 2}, 4), rand_leaf({4, 1, 3, 3}, 5), rand_leaf({2}, 6)});
  check_gradient(
      [](const TensorList& t) { return TensorList{conv_transpose2d(t[0].transpose(2, 3), t[1], Tensor(), 1, 1, 1, 1, 2)}; },
      {rand_leaf({1, 2, 4, 3}, 7), rand_leaf({2, 2, 2, 2}, 8)});
  // second order
  check_gradient(
      double_backward([](const TensorList& t) { return conv_transpose2d(t[0], t[1], Tensor(), 2, 0, 1); }, 2),
      {rand_leaf({1, 2, 2, 2}, 9), rand_leaf({2, 1, 2, 2}, 10), rand_leaf({1, 1, 5, 5}, 11)});
  check_gradient([](const TensorList& t) { return TensorList{conv_transpose2d(t[0], t[1], t[2])}; },
                 {rand_leaf({0, 2, 2, 2}, 12), rand_leaf({2, 1, 2, 2}, 13), rand_leaf({1}, 14)});
  check_f32_backward([](const TensorList& t) { return conv_transpose2d(t[0], t[1], t[2], 2, 1, 1); },
                     {rnd({2, 3, 4, 4}, 15), rnd({3, 2, 3, 3}, 16), rnd({2}, 17)});
}

OP_TEST("conv_transpose2d", "errors") {
  check_error([] { conv_transpose2d(zeros({2, 3, 3}), zeros({2, 1, 2, 2})); },
              {"conv_transpose2d", "[2, 3, 3]", "4-D"});
  check_error([] { conv_transpose2d(zeros({1, 3, 3, 3}), zeros({2, 1, 2, 2})); },
              {"conv_transpose2d", "[1, 3, 3, 3]", "[2, 1, 2, 2]"});
  check_error([] { conv_transpose2d(zeros({1, 3, 3, 3}), zeros({3, 1, 2, 2}), Tensor(), 1, 0, 0, 2); },
              {"conv_transpose2d", "[3, 1, 2, 2]", "groups=2"});
  check_error([] { conv_transpose2d(zeros({1, 1, 3, 3}), zeros({1, 1, 2, 2}), Tensor(), 2, 0, 2); },
              {"conv_transpose2d", "output_padding [2, 2]", "stride [2, 2]"});
  check_error([] { conv_transpose2d(zeros({1, 1, 1, 1}), zeros({1, 1, 1, 1}), Tensor(), 1, 1); },
              {"conv_transpose2d", "[1, 1, 1, 1]", "empty output"});
  check_error([] { conv_transpose2d(zeros({1, 1, 3, 3}), zeros({1, 2, 2, 2}), zeros({3})); },
              {"conv_transpose2d", "bias", "[3]"});
}

// ---- max_pool2d ----

OP_TEST("max_pool2d", "values") {
  Tensor x4 = arange(16, DType::f32).view({1, 1, 4, 4});
  auto [y, idx] = max_pool2d_with_indices(x4, 2);
  check_close(y, tensor({{{{5, 7}, {13, 15}}}}));
  CHECK(idx.dtype() == DType::i64);
  check_close(idx, tensor({{{{5, 7}, {13, 15}}}}));
  // dilation 2 reads every other row and column
  check_close(max_pool2d(x4, 2, 1, 0, 2), tensor({{{{10, 11}, {14, 15}}}}));
  // ceil_mode keeps a partial last window
  Tensor x5 = arange(25, DType::f32).view({1, 1, 5, 5});
  check_close(max_pool2d(x5, 2), tensor({{{{6, 8}, {16, 18}}}}));
  check_close(max_pool2d(x5, 2, 2, 0, 1, true), tensor({{{{6, 8, 9}, {16, 18, 19}, {21, 23, 24}}}}));
  // ceil_mode with padding 1: a third window would start at 5 = H + left padding, so it is dropped
  auto [yc, ic] = max_pool2d_with_indices(x5, 2, 3, 1, 1, true);
  check_close(yc, tensor({{{{0, 3}, {15, 18}}}}));
  check_close(ic, tensor({{{{0, 3}, {15, 18}}}}));
  // padding never wins, even over negative values
  check_close(max_pool2d(full({1, 1, 2, 2}, -3), 2, 1, 1), full({1, 1, 3, 3}, -3));
  // NaN propagates
  CHECK(std::isnan(max_pool2d(tensor({{{{1, NAN}, {2, 3}}}}), 2).item()));
  // against the formulas, random shapes; non-contiguous input
  const std::vector<PoolCase> cases = {
      {3, 2, 1}, {{3, 2}, {1, 2}, {1, 0}}, {2, 2, 0, 1, true}, {3, 2, 1, 2, true}, {{2, 3}, 3, {1, 1}, {2, 1}, true}};
  uint64_t seed = 1;
  for (const PoolCase& c : cases)
    for (Tensor x : {rnd({2, 3, 7, 6}, seed), rnd({1, 2, 6, 9}, seed + 1).transpose(2, 3)}) {
      ++seed;
      check_close(max_pool2d(x, c.k, c.s, c.p, c.d, c.ceil_mode), naive_pool(x, c, true), 0);
      check_close(max_pool2d(x.to(DType::f32), c.k, c.s, c.p, c.d, c.ceil_mode), naive_pool(x, c, true), 1e-6);
    }
  CHECK(max_pool2d(zeros({0, 3, 4, 4}), 2).sizes() == Shape{0, 3, 2, 2});
  // dilation can step over a whole 1x1 input: windows with no tap give -inf, index -1, no gradient
  Tensor lone = ones({1, 1, 1, 1}, DType::f64).requires_grad_();
  auto [ye, ie] = max_pool2d_with_indices(lone, 2, 1, 2, 3);
  check_close(ye, full({1, 1, 2, 2}, -INFINITY));
  check_close(ie, full({1, 1, 2, 2}, -1));
  ye.backward(ones({1, 1, 2, 2}, DType::f64));
  check_close(lone.grad(), zeros({1, 1, 1, 1}));
  // the indices point at the maxima
  Tensor xr = rnd({2, 2, 5, 5}, 3);
  auto [yr, ir] = max_pool2d_with_indices(xr, 3, 2, 1);
  std::vector<double> xv = xr.to_vector<double>(), yv = yr.to_vector<double>();
  std::vector<int64_t> iv = ir.to_vector<int64_t>();
  for (size_t o = 0; o < yv.size(); ++o) CHECK(xv[(o / 9) * 25 + size_t(iv[o])] == yv[o]);
}

OP_TEST("max_pool2d", "gradient") {
  check_gradient([](const TensorList& t) { return TensorList{max_pool2d(t[0], 2)}; }, {rand_leaf({2, 2, 4, 4}, 1)});
  check_gradient([](const TensorList& t) { return TensorList{max_pool2d(t[0], 3, 1, 1)}; },  // overlapping
                 {rand_leaf({1, 2, 4, 5}, 2)});
  check_gradient([](const TensorList& t) { return TensorList{max_pool2d(t[0].transpose(2, 3), {2, 3}, 2, {1, 0}, {2, 1}, true)}; },
                 {rand_leaf({1, 2, 6, 5}, 3)});
  check_gradient([](const TensorList& t) { return TensorList{max_pool2d(t[0], 2, 3, 1, 1, true)}; },
                 {rand_leaf({1, 1, 5, 5}, 4)});
  // second order
  check_gradient(
      double_backward([](const TensorList& t) { return max_pool2d(t[0], 2, 1); }, 1),
      {rand_leaf({1, 2, 3, 3}, 5), rand_leaf({1, 2, 2, 2}, 6)});
  check_gradient([](const TensorList& t) { return TensorList{max_pool2d(t[0], 2)}; }, {rand_leaf({0, 2, 4, 4}, 7)});
  check_f32_backward([](const TensorList& t) { return max_pool2d(t[0], 3, 2, 1); }, {rnd({2, 3, 7, 6}, 8)});
}

OP_TEST("max_pool2d", "errors") {
  check_error([] { max_pool2d(zeros({4, 4}), 2); }, {"max_pool2d", "[4, 4]", "4-D"});
  check_error([] { max_pool2d(zeros({1, 1, 2, 2}), 3); }, {"max_pool2d", "[1, 1, 2, 2]", "kernel_size [3, 3]"});
  check_error([] { max_pool2d(zeros({1, 1, 4, 4}), 2, 2, 2); }, {"max_pool2d", "padding [2, 2]", "half"});
  check_error([] { max_pool2d(zeros({1, 1, 4, 4}), 2, 0); }, {"max_pool2d", "stride [0, 0]"});
  check_error([] { max_pool2d(zeros({1, 1, 0, 4}), 2); }, {"max_pool2d", "[1, 1, 0, 4]"});
}

// ---- avg_pool2d ----

OP_TEST("avg_pool2d", "values") {
  check_close(avg_pool2d(arange(16, DType::f32).view({1, 1, 4, 4}), 2), tensor({{{{2.5, 4.5}, {10.5, 12.5}}}}));
  // padding: count_include_pad divides by 9, otherwise by the taps inside; divisor_override by 2
  Tensor o = ones({1, 1, 3, 3});
  check_close(avg_pool2d(o, 3, 1, 1), tensor({{{{4. / 9, 6. / 9, 4. / 9}, {6. / 9, 1, 6. / 9}, {4. / 9, 6. / 9, 4. / 9}}}}));
  check_close(avg_pool2d(o, 3, 1, 1, false, false), ones({1, 1, 3, 3}));
  check_close(avg_pool2d(o, 3, 1, 1, false, true, 2), tensor({{{{2, 3, 2}, {3, 4.5, 3}, {2, 3, 2}}}}));
  // ceil_mode: the partial windows past the input divide by their size inside it (PyTorch)
  Tensor x5 = arange(25, DType::f32).view({1, 1, 5, 5});
  check_close(avg_pool2d(x5, 2, 2, 0, true), tensor({{{{3, 5, 6.5}, {13, 15, 16.5}, {20.5, 22.5, 24}}}}));
  // against the formulas
  const std::vector<PoolCase> cases = {
      {3, 2, 1},           {{3, 2}, {1, 2}, {1, 0}},       {2, 2, 0, 1, true},
      {3, 2, 1, 1, true},  {3, 2, 1, 1, true, false},       {{2, 3}, 3, {1, 1}, 1, true, true, 5},
      {3, 3, 1, 1, false, false, 4}};
  uint64_t seed = 1;
  for (const PoolCase& c : cases)
    for (Tensor x : {rnd({2, 3, 7, 6}, seed), rnd({1, 2, 6, 9}, seed + 1).transpose(2, 3)}) {
      ++seed;
      CAPTURE(seed);
      check_close(avg_pool2d(x, c.k, c.s, c.p, c.ceil_mode, c.count_include_pad, c.divisor),
                  naive_pool(x, c, false), 1e-12);
      check_close(avg_pool2d(x.to(DType::f32), c.k, c.s, c.p, c.ceil_mode, c.count_include_pad, c.divisor),
                  naive_pool(x, c, false), 1e-6);
    }
}

OP_TEST("avg_pool2d", "gradient") {
  check_gradient([](const TensorList& t) { return TensorList{avg_pool2d(t[0], 2)}; }, {rand_leaf({2, 2, 4, 4}, 1)});
  check_gradient([](const TensorList& t) { return TensorList{avg_pool2d(t[0], 3, 2, 1, true)}; },
                 {rand_leaf({1, 2, 5, 6}, 2)});
  check_gradient([](const TensorList& t) { return TensorList{avg_pool2d(t[0].transpose(2, 3), {3, 2}, 1, {1, 1}, false, false)}; },
                 {rand_leaf({1, 1, 4, 5}, 3)});
  check_gradient([](const TensorList& t) { return TensorList{avg_pool2d(t[0], 2, 2, 1, true, true, 3)}; },
                 {rand_leaf({1, 2, 5, 5}, 4)});
  check_gradient(
      double_backward([](const TensorList& t) { return avg_pool2d(t[0], 2, 1, 1); }, 1),
      {rand_leaf({1, 1, 3, 3}, 5), rand_leaf({1, 1, 4, 4}, 6)});
  check_gradient([](const TensorList& t) { return TensorList{avg_pool2d(t[0], 2)}; }, {rand_leaf({1, 0, 4, 4}, 7)});
  check_f32_backward([](const TensorList& t) { return avg_pool2d(t[0], 3, 2, 1, true, false); }, {rnd({2, 3, 7, 6}, 8)});
}

OP_TEST("avg_pool2d", "errors") {
  check_error([] { avg_pool2d(zeros({1, 4, 4}), 2); }, {"avg_pool2d", "[1, 4, 4]", "4-D"});
  check_error([] { avg_pool2d(zeros({1, 1, 2, 3}), 3); }, {"avg_pool2d", "[1, 1, 2, 3]", "kernel_size [3, 3]"});
  check_error([] { avg_pool2d(zeros({1, 1, 4, 4}), 3, 1, 2); }, {"avg_pool2d", "padding [2, 2]", "half"});
  check_error([] { avg_pool2d(zeros({1, 1, 4, 4}), 2, 2, 0, false, true, 0); }, {"avg_pool2d", "divisor_override"});
}

// ---- adaptive pooling ----

OP_TEST("adaptive_avg_pool2d", "values") {
  // 3 -> 2: windows [0, 2) and [1, 3)
  Tensor x = arange(9, DType::f32).view({1, 1, 3, 3});
  check_close(adaptive_avg_pool2d(x, 2), tensor({{{{2, 3}, {5, 6}}}}));
  check_close(adaptive_avg_pool2d(x, 1), tensor({{{{4}}}}));
  check_close(adaptive_avg_pool2d(x, 3), x);
  CHECK(adaptive_avg_pool2d(zeros({0, 2, 3, 3}), 2).sizes() == Shape{0, 2, 2, 2});
  uint64_t seed = 1;
  for (Size2 out : {Size2(2, 3), Size2(4), Size2(1, 5), Size2(7, 9)})
    for (Tensor xi : {rnd({2, 2, 7, 5}, seed), rnd({1, 3, 6, 4}, seed + 1).transpose(2, 3)}) {
      ++seed;
      check_close(adaptive_avg_pool2d(xi, out), naive_adaptive(xi, out, false), 1e-12);
      check_close(adaptive_avg_pool2d(xi.to(DType::f32), out), naive_adaptive(xi, out, false), 1e-6);
    }
}

OP_TEST("adaptive_avg_pool2d", "gradient") {
  check_gradient([](const TensorList& t) { return TensorList{adaptive_avg_pool2d(t[0], {2, 3})}; },
                 {rand_leaf({2, 2, 5, 4}, 1)});
  check_gradient([](const TensorList& t) { return TensorList{adaptive_avg_pool2d(t[0].transpose(2, 3), 4)}; },
                 {rand_leaf({1, 2, 3, 5}, 2)});
  check_gradient(
      double_backward([](const TensorList& t) { return adaptive_avg_pool2d(t[0], 2); }, 1),
      {rand_leaf({1, 1, 3, 3}, 3), rand_leaf({1, 1, 2, 2}, 4)});
  check_f32_backward([](const TensorList& t) { return adaptive_avg_pool2d(t[0], {3, 2}); }, {rnd({2, 3, 7, 6}, 5)});
}

OP_TEST("adaptive_avg_pool2d", "errors") {
  check_error([] { adaptive_avg_pool2d(zeros({2, 3}), 1); }, {"adaptive_avg_pool2d", "[2, 3]", "4-D"});
  check_error([] { adaptive_avg_pool2d(zeros({1, 1, 3, 3}), {0, 2}); },
              {"adaptive_avg_pool2d", "[0, 2]", "[1, 1, 3, 3]"});
}

OP_TEST("adaptive_max_pool2d", "values") {
  Tensor x = arange(9, DType::f32).view({1, 1, 3, 3});
  auto [y, idx] = adaptive_max_pool2d_with_indices(x, 2);
  check_close(y, tensor({{{{4, 5}, {7, 8}}}}));
  check_close(idx, tensor({{{{4, 5}, {7, 8}}}}));
  check_close(adaptive_max_pool2d(x, 1), tensor({{{{8}}}}));
  uint64_t seed = 1;
  for (Size2 out : {Size2(2, 3), Size2(4), Size2(1, 5), Size2(7, 9)})
    for (Tensor xi : {rnd({2, 2, 7, 5}, seed), rnd({1, 3, 6, 4}, seed + 1).transpose(2, 3)}) {
      ++seed;
      check_close(adaptive_max_pool2d(xi, out), naive_adaptive(xi, out, true), 0);
    }
}

OP_TEST("adaptive_max_pool2d", "gradient") {
  check_gradient([](const TensorList& t) { return TensorList{adaptive_max_pool2d(t[0], {2, 3})}; },
                 {rand_leaf({2, 2, 5, 4}, 1)});
  check_gradient([](const TensorList& t) { return TensorList{adaptive_max_pool2d(t[0].transpose(2, 3), 4)}; },
                 {rand_leaf({1, 2, 3, 5}, 2)});
  check_gradient(
      double_backward([](const TensorList& t) { return adaptive_max_pool2d(t[0], 2); }, 1),
      {rand_leaf({1, 1, 3, 3}, 3), rand_leaf({1, 1, 2, 2}, 4)});
  check_f32_backward([](const TensorList& t) { return adaptive_max_pool2d(t[0], {3, 2}); }, {rnd({2, 3, 7, 6}, 5)});
}

OP_TEST("adaptive_max_pool2d", "errors") {
  check_error([] { adaptive_max_pool2d(zeros({1, 1, 3}), 1); }, {"adaptive_max_pool2d", "[1, 1, 3]", "4-D"});
  check_error([] { adaptive_max_pool2d(zeros({1, 1, 3, 3}), -1); }, {"adaptive_max_pool2d", "[-1, -1]"});
}
