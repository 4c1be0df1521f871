// MIX-KD: a hand-worked value, the scale invariance of std temperatures, f64 finite
// differences, parity with hchoi71/MIX-KD's MIXSTDLoss (tools/golden/objectives/mix_kd.py), errors.
#include <doctest/doctest.h>

#include <cmath>

#include "distill/objective_check.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

distill::Inputs mix_inputs(const Tensor& zs, const Tensor& zt, const Tensor& y) {
  return distill::Inputs({{"student.logits", zs}, {"teacher.logits", zt}, {"soft_labels", y}});
}

}  // namespace

TEST_CASE("mix_kd: hand-worked value") {
  // z_s = [0, 2]: unbiased std sqrt(2), scaled [0, sqrt 2]; z_t = [1, -1]: scaled
  // [1/sqrt 2, -1/sqrt 2]; y~ = [0.25, 0.75].
  Tensor zs = tensor({{0.0, 2.0}}).to(DType::f64), zt = tensor({{1.0, -1.0}}).to(DType::f64);
  Tensor y = tensor({{0.25, 0.75}}).to(DType::f64);
  const double r = std::sqrt(2.0);
  const double lp0 = -std::log(1 + std::exp(r)), lp1 = r + lp0;  // log softmax([0, r])
  const double q0 = 1 / (1 + std::exp(-2 / r)), q1 = 1 - q0;      // softmax([1/r, -1/r])
  const double cls = -(0.25 * lp0 + 0.75 * lp1);
  const double kl = q0 * (std::log(q0) - lp0) + q1 * (std::log(q1) - lp1);
  auto objective = distill::make_objective("mix_kd");
  distill::Evaluation ev = distill::evaluate(*objective, mix_inputs(zs, zt, y));
  CHECK(ev.loss.item() == doctest::Approx(0.1 * cls + 0.9 * kl).epsilon(1e-12));
  REQUIRE(ev.parts.size() == 2);
  CHECK(ev.parts[0].second.item() == doctest::Approx(0.1 * cls).epsilon(1e-12));
  CHECK(ev.parts[1].second.item() == doctest::Approx(0.9 * kl).epsilon(1e-12));
  CHECK(objective_loss("mix_kd", {{"gamma", "1"}, {"alpha", "0"}}, mix_inputs(zs, zt, y)) ==
        doctest::Approx(cls).epsilon(1e-12));
}

TEST_CASE("mix_kd: std temperatures make the loss invariant to each row's logit scale") {
  Tensor zs = randn({5, 7}, TensorOptions(DType::f64)) * 3;
  Tensor zt = randn({5, 7}, TensorOptions(DType::f64)) * 3;
  Tensor y = softmax(randn({5, 7}, TensorOptions(DType::f64)), 1);
  Tensor row_scale = tensor({{0.5}, {2.0}, {3.0}, {1.0}, {10.0}}).to(DType::f64);
  double base = objective_loss("mix_kd", {}, mix_inputs(zs, zt, y));
  double scaled = objective_loss("mix_kd", {}, mix_inputs(zs * row_scale, zt * 7.0, y));
  CHECK(scaled == doctest::Approx(base).epsilon(1e-12));
}

TEST_CASE("mix_kd: finite differences (the student's std is differentiated)") {
  Tensor zs = randn({4, 6}, TensorOptions(DType::f64)) * 2;
  Tensor zt = randn({4, 6}, TensorOptions(DType::f64)) * 2;
  Tensor y = softmax(randn({4, 6}, TensorOptions(DType::f64)), 1);
  check_objective_gradient("mix_kd", {}, mix_inputs(zs, zt, y));
  check_objective_gradient("mix_kd", {{"gamma", "1"}, {"alpha", "0.3"}}, mix_inputs(zs, zt, y));
}

TEST_CASE("mix_kd: matches hchoi71/MIX-KD at logit scales 1, 2, 4, 8") {
  for (int scale : {1, 2, 4, 8}) {
    check_fixture("mix_kd_scale" + std::to_string(scale));
    check_fixture("mix_kd_scale" + std::to_string(scale) + "_weights");
  }
}

TEST_CASE("mix_kd: errors name the objective and the shapes") {
  Tensor a = randn({2, 3}), b = randn({2, 4});
  check_error([&] { objective_loss("mix_kd", {}, mix_inputs(a, b, a)); },
              {"mix_kd", "[2, 3]", "[2, 4]"});
  check_error([&] { objective_loss("mix_kd", {}, mix_inputs(a, a, b)); },
              {"mix_kd", "soft_labels", "[2, 4]"});
  check_error([&] {
    objective_loss("mix_kd", {}, distill::Inputs({{"student.logits", a}, {"teacher.logits", a}}));
  }, {"mix_kd", "soft_labels", "missing"});
  check_error([&] { distill::make_objective("mix_kd", {{"beta", "1"}}); }, {"mix_kd", "beta"});
}
