// LS-KD: the same class as KD with standardization on, invariance to each row's shift and
// scale, a hand-worked two-class value, finite differences, and parity with torchdistill's
// LogitStdKDLoss (tools/golden/objectives/ls_kd.py).
#include <doctest/doctest.h>

#include <cmath>

#include "distill/objective_check.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

TEST_CASE("ls_kd: is kd with standardize=true, T 2 by default") {
  Tensor zs = randn({4, 6}, TensorOptions(DType::f64)) * 3;
  Tensor zt = randn({4, 6}, TensorOptions(DType::f64)) * 3;
  CHECK(objective_loss("ls_kd", {}, logit_inputs(zs, zt)) ==
        doctest::Approx(objective_loss("kd", {{"T", "2"}, {"standardize", "true"}}, logit_inputs(zs, zt)))
            .epsilon(1e-14));
  CHECK(objective_loss("ls_kd", {}, logit_inputs(zs, zt)) !=
        doctest::Approx(objective_loss("kd", {{"T", "2"}}, logit_inputs(zs, zt))));
}

TEST_CASE("ls_kd: invariant to a shift and a positive scale of each logit row") {
  Tensor zs = randn({4, 6}, TensorOptions(DType::f64)) * 3;
  Tensor zt = randn({4, 6}, TensorOptions(DType::f64)) * 3;
  Tensor scale = tensor({{0.5}, {2.0}, {3.0}, {1.5}}, DType::f64);
  Tensor shift = tensor({{-4.0}, {1.0}, {10.0}, {0.0}}, DType::f64);
  double base = objective_loss("ls_kd", {{"T", "3"}}, logit_inputs(zs, zt));
  // Up to the 1e-7 in the denominator, relative to std about 3.
  CHECK(objective_loss("ls_kd", {{"T", "3"}}, logit_inputs(zs * scale + shift, zt + shift * 2)) ==
        doctest::Approx(base).epsilon(1e-6));
}

TEST_CASE("ls_kd: hand-worked two-class value") {
  // A row [a, b] standardizes to [-h, h] / (s + 1e-7), h = |b - a| / 2, s = |b - a| / sqrt 2
  // (unbiased std): student [0, 1] -> [-cs, cs], teacher [4, 0] -> [ct, -ct].
  double cs = 0.5 / (1 / std::sqrt(2.0) + 1e-7), ct = 2 / (4 / std::sqrt(2.0) + 1e-7);
  double T = 2;
  double ps = 1 / (1 + std::exp(-2 * cs / T));  // student's mass on class 1
  double pt = 1 / (1 + std::exp(2 * ct / T));   // teacher's
  double kl = (1 - pt) * std::log((1 - pt) / (1 - ps)) + pt * std::log(pt / ps);
  Tensor zs = tensor({{0.0, 1.0}}, DType::f64), zt = tensor({{4.0, 0.0}}, DType::f64);
  CHECK(objective_loss("ls_kd", {}, logit_inputs(zs, zt)) == doctest::Approx(T * T * kl).epsilon(1e-12));
  CHECK(objective_loss("ls_kd", {{"scale_t2", "false"}}, logit_inputs(zs, zt)) ==
        doctest::Approx(kl).epsilon(1e-12));
}

TEST_CASE("ls_kd: finite differences through the student's mean and std") {
  Tensor zs = randn({4, 6}, TensorOptions(DType::f64)) * 2;
  Tensor zt = randn({4, 6}, TensorOptions(DType::f64)) * 2;
  check_objective_gradient("ls_kd", {}, logit_inputs(zs, zt));
  check_objective_gradient("ls_kd", {{"T", "5"}}, logit_inputs(zs, zt));
}

TEST_CASE("ls_kd: matches torchdistill's LogitStdKDLoss at T = 1, 2, 4, 8") {
  for (int T : {1, 2, 4, 8}) {
    check_fixture("ls_kd_T" + std::to_string(T));
    check_fixture("ls_kd_T" + std::to_string(T) + "_bare");
  }
}

TEST_CASE("ls_kd: errors name the objective and the shapes") {
  Tensor a = randn({2, 3}), b = randn({2, 4});
  check_error([&] { objective_loss("ls_kd", {}, logit_inputs(a, b)); }, {"ls_kd", "[2, 3]", "[2, 4]"});
  check_error([&] { objective_loss("ls_kd", {}, distill::Inputs({{"student.logits", a}})); },
              {"ls_kd", "teacher.logits", "missing"});
  check_error([&] { distill::make_objective("ls_kd", {{"T", "0"}}); }, {"ls_kd", "T"});
  // Standardization is what ls_kd is: the switch belongs to kd only.
  check_error([&] { distill::make_objective("ls_kd", {{"standardize", "false"}}); },
              {"ls_kd", "standardize"});
}
