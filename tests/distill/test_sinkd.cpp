// SinKD-code: hand-worked values, f64 finite differences through all normalization rounds, and
// parity with 2018cx/SinKD loss.py::Sinkhorn (tools/golden/objectives/sinkd.py).
#include <doctest/doctest.h>

#include <cmath>

#include "distill/objective_check.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

TEST_CASE("sinkd: values") {
  // One sample: the 1x1 kernel normalizes to 1, so L = weight * sum_c |p_s - p_t|.
  // p_s = softmax([0, 0] / 2) = [1/2, 1/2], p_t = softmax([0, 2] / 2) = [a, b] below.
  Tensor zs = tensor({{0.0, 0.0}}).to(DType::f64), zt = tensor({{0.0, 2.0}}).to(DType::f64);
  double e = std::exp(1.0), a = 1 / (1 + e), b = e / (1 + e);
  double l1 = std::abs(0.5 - a) + std::abs(0.5 - b);
  CHECK(objective_loss("sinkd", {}, logit_inputs(zs, zt)) == doctest::Approx(0.001 * l1).epsilon(1e-12));
  CHECK(objective_loss("sinkd", {{"weight", "1"}}, logit_inputs(zs, zt)) ==
        doctest::Approx(l1).epsilon(1e-12));

  // Two samples whose student and teacher rows coincide: W = [[0, d], [d, 0]] with d the L1
  // distance of the two rows; K = [[1, k], [k, 1]], k = exp(-d / eps), is already doubly
  // stochastic after one row normalization, giving P = K / (1 + k) and L = 2 d k / (1 + k).
  Tensor z = tensor({{1.0, 0.0, -1.0}, {0.0, 0.5, 0.0}}).to(DType::f64);
  Tensor p = softmax(z / 2.0, 1);
  double d = sum(abs(p.select(0, 0) - p.select(0, 1))).item();
  double k = std::exp(-d / 0.1);
  CHECK(objective_loss("sinkd", {{"weight", "1"}}, logit_inputs(z, z)) ==
        doctest::Approx(2 * d * k / (1 + k)).epsilon(1e-12));
  // No normalization round: the raw kernel weights each distance.
  CHECK(objective_loss("sinkd", {{"weight", "1"}, {"iterations", "0"}}, logit_inputs(z, z)) ==
        doctest::Approx(2 * d * k).epsilon(1e-12));
}

TEST_CASE("sinkd: finite differences") {
  Tensor zs = randn({5, 6}, TensorOptions(DType::f64)) * 2;
  Tensor zt = randn({5, 6}, TensorOptions(DType::f64)) * 2;
  check_objective_gradient("sinkd", {{"weight", "1"}}, logit_inputs(zs, zt));
  check_objective_gradient("sinkd", {{"T", "4"}, {"iterations", "3"}, {"weight", "1"}},
                           logit_inputs(zs, zt));
}

TEST_CASE("sinkd: matches 2018cx/SinKD Sinkhorn at T = 1, 2, 4, 8") {
  for (int T : {1, 2, 4, 8}) check_fixture("sinkd_T" + std::to_string(T));
}

TEST_CASE("sinkd: errors name the objective and the shapes") {
  Tensor a = randn({2, 3}), b = randn({3, 3});
  check_error([&] { objective_loss("sinkd", {}, logit_inputs(a, b)); }, {"sinkd", "[2, 3]", "[3, 3]"});
  check_error(
      [&] {
        objective_loss("sinkd", {}, distill::Inputs({{"student.logits", a}}));
      },
      {"sinkd", "teacher.logits", "missing"});
  check_error([&] { distill::make_objective("sinkd", {{"epsilon", "0"}}); }, {"sinkd", "epsilon"});
  check_error(
      [&] {
        distill::make_objective("sinkd", {{"iterations", "2.5"}});
      },
      {"sinkd", "iterations"});
  check_error([&] { distill::make_objective("sinkd", {{"T", "-1"}}); }, {"sinkd", "T"});
}
