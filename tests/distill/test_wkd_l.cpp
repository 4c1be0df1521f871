// WKD-L and its offline cost matrix: a hand-worked Sinkhorn recursion (constant cost), the
// cosine decay, f64 finite differences through the unrolled iterations, parity with WKD.py and
// tools/generate_cost_matrix.py (tools/golden/objectives/wkd_l.py).
#include <doctest/doctest.h>

#include <cmath>

#include "distill/cost_matrix.h"
#include "distill/objective_check.h"
#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

distill::Inputs wkd_inputs(const Tensor& zs, const Tensor& zt, const Tensor& y, const Tensor& M) {
  return distill::Inputs(
      {{"student.logits", zs}, {"teacher.logits", zt}, {"labels", y}, {"cost_matrix", M}});
}

std::pair<double, double> target_and_wasserstein(const distill::Inputs& in,
                                                 const std::map<std::string, std::string>& p,
                                                 const distill::Context& ctx = {}) {
  auto objective = distill::make_objective("wkd_l", p);
  distill::Evaluation ev = distill::evaluate(*objective, in, ctx);
  REQUIRE(ev.parts.size() == 2);
  CHECK(ev.loss.item() ==
        doctest::Approx(ev.parts[0].second.item() + ev.parts[1].second.item()).epsilon(1e-12));
  return {ev.parts[0].second.item(), ev.parts[1].second.item()};
}

}  // namespace

TEST_CASE("wkd_l: values with a constant cost matrix") {
  // M = m everywhere: K = k 1 1^T with k = exp(-(m + 1e-8) / lambda), so the iterations only
  // move the sums s_u, s_v of u and v: s_v = 1 / (k s_u + 1e-8), s_u = 1 / (k s_v + 1e-8)
  // from s_u = 1, and WD = (m + 1e-8) k s_u s_v for every sample whatever its distributions.
  const double m = 0.3, lambda = 0.05, Mp = m + 1e-8, k = std::exp(-Mp / lambda);
  double su = 1, sv = 0;
  for (int i = 0; i < 10; ++i) {
    sv = 1 / (k * su + 1e-8);
    su = 1 / (k * sv + 1e-8);
  }
  const double wd = Mp * k * su * sv;
  Tensor zs = tensor({{1.0, -0.5, 2.0, 0.0}, {0.3, 0.2, -1.0, 1.5}}, TensorOptions(DType::f64));
  Tensor zt = tensor({{0.0, 1.0, 0.5, -2.0}, {2.0, 0.0, 0.0, 1.0}}, TensorOptions(DType::f64));
  Tensor y = tensor({2, 0}).to(DType::i64);
  Tensor M = full({4, 4}, m, TensorOptions(DType::f64));
  // Target term by hand: -(1/2) [p^t_0(2) log p^s_0(2) + p^t_1(0) log p^s_1(0)].
  auto lse = [](std::initializer_list<double> v) {
    double s = 0;
    for (double x : v) s += std::exp(x);
    return std::log(s);
  };
  double t0 = std::exp(0.5 - lse({0.0, 1.0, 0.5, -2.0})), ls0 = 2.0 - lse({1.0, -0.5, 2.0, 0.0});
  double t1 = std::exp(2.0 - lse({2.0, 0.0, 0.0, 1.0})), ls1 = 0.3 - lse({0.3, 0.2, -1.0, 1.5});
  double target = -0.5 * (t0 * ls0 + t1 * ls1);
  auto [t, w] = target_and_wasserstein(wkd_inputs(zs, zt, y, M), {{"gamma", "7"}, {"T", "2"}});
  CHECK(t == doctest::Approx(target).epsilon(1e-12));
  CHECK(w == doctest::Approx(7 * wd).epsilon(1e-10));
}

TEST_CASE("wkd_l: cosine decay of gamma after e0 (1-based epochs)") {
  Tensor zs = randn({4, 6}, TensorOptions(DType::f64)),
         zt = randn({4, 6}, TensorOptions(DType::f64));
  Tensor y = tensor({0, 5, 3, 3}).to(DType::i64);
  Tensor M = distill::cka_cost_matrix(randn({6, 8, 3}, TensorOptions(DType::f64)));
  distill::Inputs in = wkd_inputs(zs, zt, y, M);
  const double pi = std::acos(-1.0);
  auto w_at = [&](int64_t epoch) {
    distill::Context ctx;
    ctx.epoch = epoch;
    ctx.epochs = 240;
    return target_and_wasserstein(in, {}, ctx).second;
  };
  const double w0 = w_at(0);
  CHECK(w_at(149) == doctest::Approx(w0).epsilon(1e-14));  // reference epoch 150 = e0: no decay
  CHECK(w_at(150) == doctest::Approx(w0 * 0.5 * (1 + std::cos(pi / 90))).epsilon(1e-12));
  CHECK(w_at(199) == doctest::Approx(w0 * 0.5 * (1 + std::cos(pi * 50 / 90))).epsilon(1e-12));
  CHECK(w_at(239) == doctest::Approx(0).epsilon(1e-12));
}

TEST_CASE("wkd_l: finite differences through the unrolled Sinkhorn iterations") {
  Tensor zs = randn({3, 5}, TensorOptions(DType::f64)) * 2;
  Tensor zt = randn({3, 5}, TensorOptions(DType::f64)) * 2;
  Tensor y = tensor({4, 0, 2}).to(DType::i64);
  Tensor M = distill::cka_cost_matrix(randn({5, 7, 3}, TensorOptions(DType::f64)));
  check_objective_gradient("wkd_l", {{"gamma", "5"}, {"T", "2"}}, wkd_inputs(zs, zt, y, M));
  check_objective_gradient("wkd_l", {{"gamma", "1"}, {"T", "1"}, {"lambda", "0.2"}},
                           wkd_inputs(zs, zt, y, M));
}

TEST_CASE("wkd_l: matches WKD.py at T = 1, 2, 4, 8 and after the decay start") {
  for (int T : {1, 2, 4, 8}) check_fixture("wkd_l_T" + std::to_string(T));
  check_fixture("wkd_l_T8_decay");
}

TEST_CASE("wkd_l: the cost matrix matches generate_cost_matrix.py and is a CKA distance") {
  SafetensorsContents f =
      load_safetensors((fixture_path("distill") / "wkd_cost_matrix.safetensors").string());
  check_close(distill::cka_cost_matrix(f.tensors.at("features"), 1.0), f.tensors.at("cost_matrix"),
              1e-12, 1e-10);
  Tensor small = f.tensors.at("features_small");
  check_close(distill::cka_cost_matrix(small, 0.0), f.tensors.at("cost_matrix_small_unsharpened"),
              1e-12, 1e-10);
  check_close(distill::cka_cost_matrix(small, 2.0), f.tensors.at("cost_matrix_small_sharpen2"),
              1e-12, 1e-10);
  // Linear CKA ignores per-class scaling and shifts, and compares a class with itself as 1.
  Tensor scaled = small * tensor({{{2.0}}, {{0.5}}, {{3.0}}, {{1.0}}, {{7.0}}}).to(DType::f64) + 4;
  Tensor M = distill::cka_cost_matrix(small, 0.0);
  check_close(distill::cka_cost_matrix(scaled, 0.0), M, 1e-12, 1e-9);
  check_close(M, M.t(), 0, 0);
  for (int64_t i = 0; i < 5; ++i)
    CHECK(M.select(0, i).select(0, i).item() == doctest::Approx(0).epsilon(1e-12));
}

TEST_CASE("wkd_l: errors name the objective and the shapes") {
  Tensor z = randn({2, 3}), y = tensor({0, 2}).to(DType::i64), M = zeros({3, 3});
  check_error(
      [&] {
        objective_loss("wkd_l", {}, wkd_inputs(z, z, y, zeros({4, 4})));
      },
      {"wkd_l", "cost_matrix", "[4, 4]", "[2, 3]"});
  check_error([&] { objective_loss("wkd_l", {}, wkd_inputs(z, z, y + 1, M)); },
              {"wkd_l", "labels", "[0, 3)"});
  check_error(
      [&] {
        objective_loss("wkd_l", {}, wkd_inputs(z, randn({2, 4}), y, M));
      },
      {"wkd_l", "[2, 3]", "[2, 4]"});
  check_error(
      [&] {
        objective_loss(
            "wkd_l", {},
            distill::Inputs({{"student.logits", z}, {"teacher.logits", z}, {"labels", y}}));
      },
      {"wkd_l", "cost_matrix", "missing"});
  check_error([&] { distill::make_objective("wkd_l", {{"lambda", "0"}}); }, {"wkd_l", "lambda"});
  check_error(
      [&] {
        distill::make_objective("wkd_l", {{"iterations", "0"}});
      },
      {"wkd_l", "iterations"});
  check_error([&] { distill::cka_cost_matrix(zeros({3, 4})); }, {"cka_cost_matrix", "[3, 4]"});
}
