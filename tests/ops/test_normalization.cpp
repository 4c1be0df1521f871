#include <cmath>

#include "support/op_test.h"

using namespace tutor;
using testing::check_close;
using testing::check_error;
using testing::check_f32_backward;
using testing::check_gradient;
using testing::rand_leaf;

namespace {

// Each row of a 2-D tensor standardized by its own mean and biased variance, computed here on
// host values: the oracle the norms are compared with.
Tensor standardize_rows(const Tensor& x2d, double eps = 1e-5) {
  const int64_t rows = x2d.size(0), cols = x2d.size(1);
  std::vector<double> v = x2d.to_vector<double>(), out(v.size());
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t c = 0; c < cols; ++c) mean += v[size_t(r * cols + c)] / double(cols);
    for (int64_t c = 0; c < cols; ++c) {
      double d = v[size_t(r * cols + c)] - mean;
      var += d * d / double(cols);
    }
    for (int64_t c = 0; c < cols; ++c)
      out[size_t(r * cols + c)] = (v[size_t(r * cols + c)] - mean) / std::sqrt(var + eps);
  }
  return from_vector(out, x2d.sizes(), x2d.dtype());
}

// Batch-norm training output of x [N, C, L] by the oracle: rows = channels over (N, L).
Tensor batch_standardize(const Tensor& x) {
  Tensor per_channel = x.permute({1, 0, 2}).contiguous().reshape({x.size(1), -1});
  return standardize_rows(per_channel)
      .reshape({x.size(1), x.size(0), x.size(2)})
      .permute({1, 0, 2});
}

// Mean and biased variance of a host vector.
std::pair<double, double> moments(const std::vector<double>& v) {
  double mean = 0, var = 0;
  for (double e : v) mean += e / double(v.size());
  for (double e : v) var += (e - mean) * (e - mean) / double(v.size());
  return {mean, var};
}

Tensor channel_shaped(const Tensor& t) { return t.reshape({1, -1, 1}); }


}  // namespace

OP_TEST("batch_norm", "values") {
  // By hand: channel 0 holds 1, 2, 3 (mean 2, biased var 2/3, unbiased 1), channel 1 holds 2, 4, 6
  // (mean 4, biased var 8/3, unbiased 4).
  Tensor x = tensor({{1, 2}, {2, 4}, {3, 6}}, DType::f64);
  Tensor rm = zeros({2}, DType::f64), rv = ones({2}, DType::f64);
  Tensor y = batch_norm(x, rm, rv, Tensor(), Tensor(), /*training=*/true);
  double s0 = std::sqrt(2.0 / 3 + 1e-5), s1 = std::sqrt(8.0 / 3 + 1e-5);
  check_close(y, tensor({{-1 / s0, -2 / s1}, {0, 0}, {1 / s0, 2 / s1}}, DType::f64), 1e-12);
  // running = 0.9 running + 0.1 batch statistic (unbiased variance), after one and two steps
  check_close(rm, tensor({0.2, 0.4}, DType::f64), 1e-12);
  check_close(rv, tensor({0.9 + 0.1 * 1, 0.9 + 0.1 * 4}, DType::f64), 1e-12);
  batch_norm(x, rm, rv, Tensor(), Tensor(), true);
  check_close(rm, tensor({0.9 * 0.2 + 0.2, 0.9 * 0.4 + 0.4}, DType::f64), 1e-12);
  check_close(rv, tensor({0.9 * 1.0 + 0.1, 0.9 * 1.3 + 0.4}, DType::f64), 1e-12);
  // other momentum
  Tensor rm2 = zeros({2}, DType::f64), rv2 = ones({2}, DType::f64);
  batch_norm(x, rm2, rv2, Tensor(), Tensor(), true, /*momentum=*/0.5);
  check_close(rm2, tensor({1.0, 2.0}, DType::f64), 1e-12);
  check_close(rv2, tensor({1.0, 2.5}, DType::f64), 1e-12);

  // eval: running statistics, affine; running stats unchanged
  Tensor w = tensor({2, -1}, DType::f64), b = tensor({0.5, 1}, DType::f64);
  Tensor rm3 = tensor({1, -1}, DType::f64), rv3 = tensor({4, 0.25}, DType::f64);
  Tensor ye = batch_norm(x, rm3, rv3, w, b, /*training=*/false);
  auto e = [](double v, double m, double var, double wi, double bi) {
    return (v - m) / std::sqrt(var + 1e-5) * wi + bi;
  };
  check_close(ye,
              tensor({{e(1, 1, 4, 2, .5), e(2, -1, .25, -1, 1)},
                      {e(2, 1, 4, 2, .5), e(4, -1, .25, -1, 1)},
                      {e(3, 1, 4, 2, .5), e(6, -1, .25, -1, 1)}},
                     DType::f64),
              1e-12);
  check_close(rm3, tensor({1, -1}, DType::f64));
  check_close(rv3, tensor({4, 0.25}, DType::f64));

  // training with affine and spatial dims against the oracle; without running stats
  Tensor x3 = rand_leaf({2, 3, 4}, 3).detach();
  Tensor w3 = rand_leaf({3}, 4).detach(), b3 = rand_leaf({3}, 5).detach();
  check_close(batch_norm(x3, Tensor(), Tensor(), w3, b3, true),
              add(mul(batch_standardize(x3), channel_shaped(w3)), channel_shaped(b3)), 1e-10);
  // 4-D input [N, C, H, W] equals the 3-D one with H * W flattened
  Tensor x4 = rand_leaf({2, 3, 2, 2}, 6).detach();
  check_close(
      batch_norm(x4, Tensor(), Tensor(), w3, b3, true),
      batch_norm(x4.reshape({2, 3, 4}), Tensor(), Tensor(), w3, b3, true).reshape({2, 3, 2, 2}),
      1e-12);
  // non-contiguous input and running stats
  Tensor xt = rand_leaf({3, 4, 2}, 7).detach().permute({1, 0, 2});  // [4, 3, 2]
  Tensor rmt = zeros({3, 2}, DType::f64).t().select(0, 1), rvt = ones({3}, DType::f64);
  check_close(batch_norm(xt, rmt, rvt, Tensor(), Tensor(), true),
              batch_standardize(xt.contiguous()), 1e-10);
  std::vector<double> channel0;
  for (int64_t n = 0; n < 4; ++n)
    for (int64_t l = 0; l < 2; ++l)
      channel0.push_back(xt.select(0, n).select(0, 0).select(0, l).item());
  CHECK(rmt.to_vector<double>()[0] == doctest::Approx(0.1 * moments(channel0).first));
  // f32
  check_close(batch_norm(x.to(DType::f32), Tensor(), Tensor(), Tensor(), Tensor(), true),
              batch_standardize(x.reshape({3, 2, 1})).reshape({3, 2}), 1e-6);
  // size-1 batch with spatial dims; empty batch in eval and training (running stats unchanged)
  Tensor x1 = rand_leaf({1, 2, 3}, 8).detach();
  check_close(batch_norm(x1, Tensor(), Tensor(), Tensor(), Tensor(), true), batch_standardize(x1),
              1e-10);
  Tensor rme = tensor({0.5, 0.5}, DType::f64), rve = ones({2}, DType::f64);
  CHECK(batch_norm(zeros({0, 2}, DType::f64), rme, rve, Tensor(), Tensor(), false).sizes() ==
        Shape{0, 2});
  CHECK(batch_norm(zeros({0, 2}, DType::f64), rme, rve, Tensor(), Tensor(), true).sizes() ==
        Shape{0, 2});
  check_close(rme, tensor({0.5, 0.5}, DType::f64));
}

TEST_CASE("batch_norm: running stats and backward") {
  // The in-place update of the running statistics must not invalidate the recorded backward.
  Tensor x = rand_leaf({3, 2, 2}, 1), w = rand_leaf({2}, 2), b = rand_leaf({2}, 3);
  Tensor rm = zeros({2}, DType::f64), rv = ones({2}, DType::f64);
  Tensor y = batch_norm(x, rm, rv, w, b, true);
  batch_norm(x, rm, rv, w, b, true);  // a second step touches the same buffers
  sum(mul(y, y)).backward();
  CHECK(x.grad().defined());
  CHECK(w.grad().defined());
  CHECK(!rm.requires_grad());
  CHECK(!rv.requires_grad());
  // d sum(y) / d bias = number of elements per channel; d sum(y) / dx = 0 in training
  Tensor x2 = rand_leaf({3, 2, 2}, 4), b2 = rand_leaf({2}, 5);
  sum(batch_norm(x2, Tensor(), Tensor(), Tensor(), b2, true)).backward();
  check_close(b2.grad(), tensor({6, 6}, DType::f64), 1e-12);
  check_close(x2.grad(), zeros({3, 2, 2}, DType::f64), 1e-10);
}

OP_TEST("batch_norm", "gradient") {
  auto train = [](const TensorList& t) {
    Tensor rm = zeros({3}, DType::f64), rv = ones({3}, DType::f64);
    return TensorList{batch_norm(t[0], rm, rv, t[1], t[2], true)};
  };
  check_gradient(train, {rand_leaf({2, 3, 4}, 1), rand_leaf({3}, 2), rand_leaf({3}, 3)});
  check_gradient(train, {rand_leaf({4, 3}, 4), rand_leaf({3}, 5), rand_leaf({3}, 6)});
  check_gradient(train, {rand_leaf({1, 3, 2, 2}, 7), rand_leaf({3}, 8), rand_leaf({3}, 9)});
  // non-contiguous input, no affine, no running stats
  check_gradient(
      [](const TensorList& t) {
        return TensorList{
            batch_norm(t[0].permute({1, 2, 0}), Tensor(), Tensor(), Tensor(), Tensor(), true)};
      },
      {rand_leaf({3, 2, 3}, 10)});
  // eval: fixed running statistics
  auto eval = [](const TensorList& t) {
    Tensor rm = tensor({0.1, -0.2, 0.3}, DType::f64), rv = tensor({0.5, 1.5, 2.0}, DType::f64);
    return TensorList{batch_norm(t[0], rm, rv, t[1], t[2], false)};
  };
  check_gradient(eval, {rand_leaf({2, 3, 4}, 11), rand_leaf({3}, 12), rand_leaf({3}, 13)});
  check_gradient(eval, {rand_leaf({0, 3, 2}, 14), rand_leaf({3}, 15), rand_leaf({3}, 16)});
  // weight only, and the input only
  check_gradient(
      [](const TensorList& t) {
        return TensorList{batch_norm(t[0], Tensor(), Tensor(), t[1], Tensor(), true)};
      },
      {rand_leaf({3, 2, 2}, 17), rand_leaf({2}, 18)});
}

TEST_CASE("norms: f32 backward kernels agree with f64") {
  check_f32_backward(
      [](const TensorList& t) {
        return TensorList{batch_norm(t[0], Tensor(), Tensor(), t[1], t[2], true)};
      },
      {rand_leaf({2, 3, 4}, 1), rand_leaf({3}, 2), rand_leaf({3}, 3)});
  check_f32_backward(
      [](const TensorList& t) {
        Tensor rm = full({3}, 0.1, t[0].dtype()), rv = full({3}, 0.7, t[0].dtype());
        return TensorList{batch_norm(t[0], rm, rv, t[1], t[2], false)};
      },
      {rand_leaf({2, 3, 4}, 4), rand_leaf({3}, 5), rand_leaf({3}, 6)});
  check_f32_backward(
      [](const TensorList& t) {
        return TensorList{layer_norm(t[0], {2, 3}, t[1], t[2])};
      },
      {rand_leaf({4, 2, 3}, 7), rand_leaf({2, 3}, 8), rand_leaf({2, 3}, 9)});
  check_f32_backward(
      [](const TensorList& t) { return TensorList{group_norm(t[0], 2, t[1], t[2])}; },
      {rand_leaf({2, 4, 3}, 10), rand_leaf({4}, 11), rand_leaf({4}, 12)});
}

// batch_norm's gradients (dx, dweight, dbias) at a fixed input, as a function of the output
// gradient v, built with create_graph: their derivative in v is checked by finite differences.
OP_TEST("batch_norm", "double backward in the incoming gradient") {
  for (bool training : {true, false}) {
    INFO("training ", training);
    Tensor x = rand_leaf({3, 2, 4}, 1), w = rand_leaf({2}, 2), b = rand_leaf({2}, 3);
    Tensor rm = tensor({0.1, -0.2}, DType::f64), rv = tensor({0.5, 1.5}, DType::f64);
    check_gradient(
        [&](const TensorList& v) {
          EnableGradGuard grad_mode;
          Tensor y = batch_norm(x, rm.clone(), rv.clone(), w, b, training);
          return autograd::grad({y}, {x, w, b}, {v[0]}, false, /*create_graph=*/true);
        },
        {rand_leaf({3, 2, 4}, 4)});
  }
}

OP_TEST("batch_norm", "errors") {
  Tensor x = zeros({2, 3, 4});
  check_error([&] { batch_norm(x, Tensor(), Tensor(), zeros({4}), Tensor(), true); },
              {"batch_norm", "weight", "[4]", "[3]", "[2, 3, 4]"});
  check_error(
      [&] {
        batch_norm(x, Tensor(), Tensor(), Tensor(), zeros({2, 3}), true);
      },
      {"batch_norm", "bias", "[2, 3]", "[2, 3, 4]"});
  check_error([&] { batch_norm(x, zeros({2}), ones({3}), Tensor(), Tensor(), true); },
              {"batch_norm", "running_mean", "[2]", "[2, 3, 4]"});
  check_error([&] { batch_norm(x, zeros({3}), ones({5}), Tensor(), Tensor(), false); },
              {"batch_norm", "running_var", "[5]", "[2, 3, 4]"});
  check_error([&] { batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false); },
              {"batch_norm", "running_mean", "[2, 3, 4]"});
  check_error(
      [&] {
        batch_norm(zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true);
      },
      {"batch_norm", "more than 1 value", "[1, 3]"});
  check_error([&] { batch_norm(zeros({3}), zeros({3}), ones({3})); }, {"batch_norm", "[3]"});
  check_error([&] { batch_norm(x, zeros({3}, DType::f64), ones({3}), Tensor(), Tensor(), false); },
              {"batch_norm", "f32", "f64"});
  check_error(
      [&] {
        batch_norm(zeros({2, 3}, DType::i64), zeros({3}), ones({3}));
      },
      {"batch_norm"});
  // the backward is differentiable in the incoming gradient only: a second derivative in x says
  // so
  Tensor xl = rand_leaf({3, 2}, 1);
  Tensor y = batch_norm(xl, Tensor(), Tensor(), Tensor(), Tensor(), true);
  Tensor gx = autograd::grad({sum(mul(y, y))}, {xl}, {}, false, /*create_graph=*/true)[0];
  check_error([&] { autograd::grad({sum(mul(gx, gx))}, {xl}); },
              {"batch_norm", "double backward", "[3, 2]"});
}

OP_TEST("layer_norm", "values") {
  // rows of the normalized dims have mean 0 and variance var / (var + eps) ~ 1 before the affine
  Tensor x = rand_leaf({4, 5}, 1).detach();
  Tensor y = layer_norm(x, {5});
  for (int64_t r = 0; r < 4; ++r) {
    auto [mean, var] = moments(y.select(0, r).to_vector<double>());
    CHECK(std::abs(mean) < 1e-12);
    CHECK(var == doctest::Approx(1).epsilon(1e-3));
  }
  check_close(y, standardize_rows(x), 1e-12);
  // two normalized dims, with affine of shape normalized_shape
  Tensor x3 = rand_leaf({3, 2, 4}, 2).detach(), w = rand_leaf({2, 4}, 3).detach(),
         b = rand_leaf({2, 4}, 4).detach();
  check_close(layer_norm(x3, {2, 4}, w, b),
              add(mul(standardize_rows(x3.reshape({3, 8})).reshape({3, 2, 4}), w), b), 1e-12);
  check_close(layer_norm(x3, {4}, w.select(0, 0), Tensor()),
              mul(standardize_rows(x3.reshape({6, 4})).reshape({3, 2, 4}), w.select(0, 0)), 1e-12);
  // normalized_shape covering every dim; non-contiguous input; f32; a size-1 row; eps
  check_close(layer_norm(x3, {3, 2, 4}), standardize_rows(x3.reshape({1, 24})).reshape({3, 2, 4}),
              1e-12);
  Tensor xt = x.t();
  check_close(layer_norm(xt, {4}), standardize_rows(xt.contiguous()), 1e-12);
  check_close(layer_norm(x.to(DType::f32), {5}), standardize_rows(x), 1e-5);
  check_close(layer_norm(tensor({{3.0}}, DType::f64), {1}), tensor({{0.0}}, DType::f64));
  check_close(layer_norm(tensor({{1, 3}}, DType::f64), {2}, Tensor(), Tensor(), 1.0),
              tensor({{-1 / std::sqrt(2.0), 1 / std::sqrt(2.0)}}, DType::f64), 1e-12);
  CHECK(layer_norm(zeros({0, 5}), {5}).sizes() == Shape{0, 5});
}

OP_TEST("layer_norm", "gradient") {
  auto affine = [](const TensorList& t) { return TensorList{layer_norm(t[0], {4}, t[1], t[2])}; };
  check_gradient(affine, {rand_leaf({3, 4}, 1), rand_leaf({4}, 2), rand_leaf({4}, 3)});
  check_gradient(affine, {rand_leaf({2, 3, 4}, 4), rand_leaf({4}, 5), rand_leaf({4}, 6)});
  check_gradient(affine, {rand_leaf({0, 4}, 4), rand_leaf({4}, 5), rand_leaf({4}, 6)});
  check_gradient(
      [](const TensorList& t) {
        return TensorList{layer_norm(t[0], {2, 3}, t[1], t[2])};
      },
      {rand_leaf({2, 2, 3}, 7), rand_leaf({2, 3}, 8), rand_leaf({2, 3}, 9)});
  check_gradient([](const TensorList& t) { return TensorList{layer_norm(t[0].t(), {3})}; },
                 {rand_leaf({3, 4}, 10)});
  check_gradient(
      [](const TensorList& t) { return TensorList{layer_norm(t[0], {1}, t[1], Tensor())}; },
      {rand_leaf({3, 1}, 11), rand_leaf({1}, 12)});
}

OP_TEST("layer_norm", "errors") {
  check_error([] { layer_norm(zeros({2, 3}), {4}); }, {"layer_norm", "[4]", "[2, 3]"});
  check_error([] { layer_norm(zeros({2, 3}), {2, 3, 1}); }, {"layer_norm", "[2, 3, 1]", "[2, 3]"});
  check_error([] { layer_norm(zeros({2, 3}), {}); }, {"layer_norm", "[]", "[2, 3]"});
  check_error(
      [] {
        layer_norm(zeros({2, 3}), {3}, zeros({2}));
      },
      {"layer_norm", "weight", "[2]", "[3]"});
  check_error(
      [] {
        layer_norm(zeros({2, 3}), {3}, Tensor(), zeros({3, 1}));
      },
      {"layer_norm", "bias", "[3, 1]", "[2, 3]"});
}

OP_TEST("group_norm", "values") {
  Tensor x = rand_leaf({2, 4, 3}, 1).detach();
  // one group: layer_norm over (C, *) ; C groups: instance norm, each (n, c) over *
  check_close(group_norm(x, 1), layer_norm(x, {4, 3}), 1e-12);
  check_close(group_norm(x, 4), standardize_rows(x.reshape({8, 3})).reshape({2, 4, 3}), 1e-12);
  check_close(group_norm(x, 2), standardize_rows(x.reshape({4, 6})).reshape({2, 4, 3}), 1e-12);
  // affine per channel
  Tensor w = rand_leaf({4}, 2).detach(), b = rand_leaf({4}, 3).detach();
  check_close(group_norm(x, 2, w, b),
              add(mul(group_norm(x, 2), channel_shaped(w)), channel_shaped(b)), 1e-12);
  // 4-D; no spatial dims; non-contiguous; f32
  Tensor x4 = rand_leaf({2, 4, 2, 3}, 4).detach();
  check_close(group_norm(x4, 2), standardize_rows(x4.reshape({4, 12})).reshape({2, 4, 2, 3}),
              1e-12);
  check_close(group_norm(x.select(2, 0), 2),
              standardize_rows(x.select(2, 0).reshape({4, 2})).reshape({2, 4}), 1e-12);
  Tensor xp = rand_leaf({3, 2, 4}, 5).detach().permute({1, 2, 0});  // [2, 4, 3]
  check_close(group_norm(xp, 2),
              standardize_rows(xp.contiguous().reshape({4, 6})).reshape({2, 4, 3}), 1e-12);
  check_close(group_norm(x.to(DType::f32), 2), group_norm(x, 2), 1e-5);
  CHECK(group_norm(zeros({0, 4, 3}), 2).sizes() == Shape{0, 4, 3});
}

OP_TEST("group_norm", "gradient") {
  auto affine = [](const TensorList& t) { return TensorList{group_norm(t[0], 2, t[1], t[2])}; };
  check_gradient(affine, {rand_leaf({2, 4, 3}, 1), rand_leaf({4}, 2), rand_leaf({4}, 3)});
  check_gradient(affine, {rand_leaf({1, 4, 2, 2}, 4), rand_leaf({4}, 5), rand_leaf({4}, 6)});
  check_gradient(affine, {rand_leaf({3, 4}, 7), rand_leaf({4}, 8), rand_leaf({4}, 9)});
  check_gradient(
      [](const TensorList& t) {
        return TensorList{group_norm(t[0].permute({1, 2, 0}), 3)};
      },
      {rand_leaf({3, 2, 3}, 10)});
  check_gradient(
      [](const TensorList& t) { return TensorList{group_norm(t[0], 1, Tensor(), t[1])}; },
      {rand_leaf({2, 2, 3}, 11), rand_leaf({2}, 12)});
}

OP_TEST("group_norm", "errors") {
  check_error([] { group_norm(zeros({2, 3, 4}), 2); }, {"group_norm", "2", "3", "[2, 3, 4]"});
  check_error([] { group_norm(zeros({2, 4, 4}), 0); }, {"group_norm", "0", "[2, 4, 4]"});
  check_error([] { group_norm(zeros({4}), 2); }, {"group_norm", "[4]"});
  check_error(
      [] {
        group_norm(zeros({2, 4, 3}), 2, zeros({2}));
      },
      {"group_norm", "weight", "[2]", "[4]"});
  check_error(
      [] {
        group_norm(zeros({2, 4, 3}), 2, Tensor(), zeros({3}));
      },
      {"group_norm", "bias", "[3]"});
}

OP_TEST("dropout", "values") {
  const int64_t n = 10000;
  Generator gen(42);
  Tensor y = dropout(ones({n}), 0.3, true, &gen);
  std::vector<float> v = y.to_vector<float>();
  int64_t kept = 0;
  for (float e : v) {
    if (e != 0) {
      ++kept;
      CHECK(e == doctest::Approx(1 / 0.7).epsilon(1e-6));
    }
  }
  // kept ~ Binomial(n, 0.7): standard deviation sqrt(n * 0.21) ~ 46, so 200 is over 4 sigma
  CHECK(std::abs(double(kept) - 0.7 * double(n)) < 200);
  // a fixed generator gives the same mask; another seed a different one
  Generator g1(7), g2(7), g3(8);
  Tensor x = rand_leaf({50}, 1).detach();
  check_close(dropout(x, 0.5, true, &g1), dropout(x, 0.5, true, &g2), 0, 0);
  CHECK(dropout(x, 0.5, true, &g1).to_vector<double>() !=
        dropout(x, 0.5, true, &g3).to_vector<double>());
  // each element is either 0 or x / (1 - p); non-contiguous input
  Tensor xt = rand_leaf({4, 6}, 2).detach().t();
  Generator g4(3);
  std::vector<double> dv = dropout(xt, 0.25, true, &g4).to_vector<double>(),
                      xv = xt.to_vector<double>();
  for (size_t i = 0; i < dv.size(); ++i)
    CHECK((dv[i] == 0 || dv[i] == doctest::Approx(xv[i] / 0.75)));
  // eval and p = 0: the identity; p = 1: zeros
  CHECK(dropout(x, 0.5, false).is_same(x));
  CHECK(dropout(x, 0.0, true).is_same(x));
  check_close(dropout(x, 1.0, true), zeros({50}, DType::f64), 0, 0);
  CHECK(dropout(zeros({0, 3}), 0.5, true).sizes() == Shape{0, 3});
}

OP_TEST("dropout", "gradient") {
  // the gradient is the mask scaled by 1 / (1 - p): with x = 1, exactly the output
  Tensor x = ones({200}, DType::f64).requires_grad_();
  Generator gen(9);
  Tensor y = dropout(x, 0.4, true, &gen);
  sum(y).backward();
  check_close(x.grad(), y.detach(), 0, 0);
  // finite differences with the mask fixed by reseeding, in training and eval
  check_gradient(
      [](const TensorList& t) {
        Generator g(5);
        return TensorList{dropout(t[0], 0.4, true, &g)};
      },
      {rand_leaf({3, 4}, 1)});
  check_gradient(
      [](const TensorList& t) {
        Generator g(5);
        return TensorList{dropout(t[0].t(), 0.5, true, &g)};
      },
      {rand_leaf({3, 4}, 2)});
  check_gradient([](const TensorList& t) { return TensorList{dropout(t[0], 0.4, false)}; },
                 {rand_leaf({3, 4}, 3)});
  check_gradient([](const TensorList& t) { return TensorList{dropout(t[0], 1.0, true)}; },
                 {rand_leaf({2, 2}, 4)});
}

OP_TEST("dropout", "errors") {
  check_error([] { dropout(zeros({2, 3}), 1.5); }, {"dropout", "1.5", "[2, 3]"});
  check_error([] { dropout(zeros({2, 3}), -0.1); }, {"dropout", "-0.1", "[2, 3]"});
  check_error([] { dropout(zeros({2}, DType::i64), 0.5); }, {"dropout"});
}
