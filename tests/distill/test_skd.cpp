// SKD: the instance term against the kd objective, the direction term worked by hand for B = 2,
// f64 finite differences through the covariance and the Cholesky inverse, parity with
// torchdistill's SKDInstanceLoss + SKDDirectionLoss (tools/golden/objectives/skd.py).
#include <doctest/doctest.h>

#include <cmath>

#include "distill/objective_check.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

TEST_CASE("skd: the instance term is KD without T^2") {
  Tensor zs = randn({5, 7}, TensorOptions(DType::f64)) * 3;
  Tensor zt = randn({5, 7}, TensorOptions(DType::f64)) * 3;
  double kd = objective_loss("kd", {{"T", "4"}, {"scale_t2", "false"}}, logit_inputs(zs, zt));
  CHECK(objective_loss("skd", {{"direction_weight", "0"}}, logit_inputs(zs, zt)) ==
        doctest::Approx(kd).epsilon(1e-12));
}

TEST_CASE("skd: direction term for two samples") {
  // B = 2: D = [[0, d], [d, 0]] with d = cos(z^s_0, z^s_1) - cos(z^t_0, z^t_1). The covariance of
  // D's columns over its two rows is (d^2 / 2) [[1, -1], [-1, 1]]; with lambda I added, its
  // eigenvalues are d^2 + lambda on (1, -1) and lambda on (1, 1), and each row (0, d) or (d, 0)
  // has squared components d^2 / 2 on both, so each Mahalanobis norm is
  // sqrt(d^2 / (2 lambda) + d^2 / (2 (d^2 + lambda))).
  Tensor zs = tensor({{1.0, 2.0, 0.0}, {0.0, 1.0, 3.0}}, TensorOptions(DType::f64));
  Tensor zt = tensor({{2.0, 0.0, 1.0}, {1.0, 1.0, -1.0}}, TensorOptions(DType::f64));
  auto cosine = [](double a0, double a1, double a2, double b0, double b1, double b2) {
    return (a0 * b0 + a1 * b1 + a2 * b2) /
           std::sqrt((a0 * a0 + a1 * a1 + a2 * a2) * (b0 * b0 + b1 * b1 + b2 * b2));
  };
  const double d = cosine(1, 2, 0, 0, 1, 3) - cosine(2, 0, 1, 1, 1, -1), lambda = 0.1;
  const double expected = std::sqrt(d * d / (2 * lambda) + d * d / (2 * (d * d + lambda)));
  CHECK(objective_loss("skd", {{"instance_weight", "0"}}, logit_inputs(zs, zt)) ==
        doctest::Approx(expected).epsilon(1e-12));
  CHECK(objective_loss("skd", {{"instance_weight", "0"}, {"direction_weight", "3"}},
                       logit_inputs(zs, zt)) == doctest::Approx(3 * expected).epsilon(1e-12));
  // Scaling a logit row leaves the normalized Gram, hence the direction term, unchanged.
  Tensor scaled = zs * tensor({{2.0}, {0.25}}, TensorOptions(DType::f64));
  CHECK(objective_loss("skd", {{"instance_weight", "0"}}, logit_inputs(scaled, zt)) ==
        doctest::Approx(expected).epsilon(1e-12));
  // Equal logits: both terms vanish.
  CHECK(objective_loss("skd", {}, logit_inputs(zt, zt)) == doctest::Approx(0).epsilon(1e-12));
}

TEST_CASE("skd: finite differences through the covariance and the Cholesky inverse") {
  Tensor zs = randn({5, 4}, TensorOptions(DType::f64)) * 2;
  Tensor zt = randn({5, 4}, TensorOptions(DType::f64)) * 2;
  check_objective_gradient("skd", {}, logit_inputs(zs, zt));
  check_objective_gradient("skd", {{"T", "2"}, {"tikhonov", "0.5"}, {"instance_weight", "0"}},
                           logit_inputs(zs, zt));
}

TEST_CASE("skd: matches torchdistill SKDInstanceLoss + SKDDirectionLoss at T = 1, 2, 4, 8") {
  for (int T : {1, 2, 4, 8}) check_fixture("skd_T" + std::to_string(T));
  check_fixture("skd_weighted");
}

TEST_CASE("skd: errors name the objective and the shapes") {
  Tensor a = randn({2, 3}), b = randn({2, 4});
  check_error([&] { objective_loss("skd", {}, logit_inputs(a, b)); }, {"skd", "[2, 3]", "[2, 4]"});
  check_error(
      [&] {
        objective_loss("skd", {}, logit_inputs(randn({1, 3}), randn({1, 3})));
      },
      {"skd", "at least 2", "[1, 3]"});
  check_error(
      [&] {
        objective_loss("skd", {}, distill::Inputs({{"student.logits", a}}));
      },
      {"skd", "teacher.logits", "missing"});
  check_error([&] { distill::make_objective("skd", {{"tikhonov", "0"}}); }, {"skd", "tikhonov"});
  check_error([&] { distill::make_objective("skd", {{"T", "-2"}}); }, {"skd", "T"});
}
