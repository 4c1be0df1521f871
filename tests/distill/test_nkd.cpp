// NKD: hand-worked values, the non-target term's independence from the target logit, finite
// differences, and parity with cls_KD's NKDLoss (tools/golden/objectives/nkd.py).
#include <doctest/doctest.h>

#include <cmath>

#include "distill/objective_check.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

TEST_CASE("nkd: hand-worked values") {
  // Label 0, student uniform over 3 classes, teacher [log 2, 0, 0]: softmax = [1/2, 1/4, 1/4].
  //   L_t  = -(1/2) log(1/3)
  //   L_nt = -gamma T^2 sum_c q_t log q_s with q_t = q_s = [1/2, 1/2] at any T: gamma T^2 log 2
  Tensor zs = tensor({{0.0, 0.0, 0.0}}, DType::f64);
  Tensor zt = tensor({{std::log(2.0), 0.0, 0.0}}, DType::f64);
  Tensor y = tensor({0}).to(DType::i64);
  for (double T : {1.0, 2.0}) {
    auto nkd = distill::make_objective("nkd", {{"T", std::to_string(T)}});
    distill::Evaluation ev = distill::evaluate(*nkd, logit_inputs(zs, zt, y));
    CHECK(part(ev, "target") == doctest::Approx(0.5 * std::log(3.0)).epsilon(1e-12));
    CHECK(part(ev, "non_target") == doctest::Approx(1.5 * T * T * std::log(2.0)).epsilon(1e-12));
    CHECK(ev.loss.item() ==
          doctest::Approx(0.5 * std::log(3.0) + 1.5 * T * T * std::log(2.0)).epsilon(1e-12));
  }
  // Two samples, labels 1 and 2, gamma 3.5, T 1: the batch mean of the per-sample values.
  // Sample 2: student [0, log 3, 0] (softmax [1/5, 3/5, 1/5]), teacher uniform:
  //   L_t = -(1/3) log(1/5);  non-target classes {0, 1}: q_t = [1/2, 1/2], q_s = [1/4, 3/4].
  Tensor zs2 = tensor({{0.0, 0.0, 0.0}, {0.0, std::log(3.0), 0.0}}, DType::f64);
  Tensor zt2 = tensor({{0.0, std::log(2.0), 0.0}, {0.0, 0.0, 0.0}}, DType::f64);
  Tensor y2 = tensor({1, 2}).to(DType::i64);
  // Sample 1: teacher softmax [1/4, 1/2, 1/4]: L_t = -(1/2) log(1/3); q_t = q_s = [1/2, 1/2].
  double target = 0.5 * (0.5 * std::log(3.0) + std::log(5.0) / 3);
  double non_target =
      0.5 * 3.5 * (std::log(2.0) - 0.5 * std::log(0.25) - 0.5 * std::log(0.75));
  CHECK(objective_loss("nkd", {{"gamma", "3.5"}}, logit_inputs(zs2, zt2, y2)) ==
        doctest::Approx(target + non_target).epsilon(1e-12));
}

TEST_CASE("nkd: the non-target term ignores the target logits") {
  Tensor zs = randn({4, 6}, TensorOptions(DType::f64)) * 3;
  Tensor zt = randn({4, 6}, TensorOptions(DType::f64)) * 3;
  Tensor y = tensor({5, 0, 2, 2}).to(DType::i64);
  Tensor bump = one_hot(y, 6).to(DType::f64) * 7;
  auto nkd = distill::make_objective("nkd", {{"T", "2"}});
  distill::Evaluation a = distill::evaluate(*nkd, logit_inputs(zs, zt, y));
  distill::Evaluation b = distill::evaluate(*nkd, logit_inputs(zs + bump, zt - bump, y));
  CHECK(part(a, "non_target") == doctest::Approx(part(b, "non_target")).epsilon(1e-12));
  CHECK(part(a, "target") != doctest::Approx(part(b, "target")));
}

TEST_CASE("nkd: finite differences") {
  Tensor zs = randn({5, 7}, TensorOptions(DType::f64)) * 2;
  Tensor zt = randn({5, 7}, TensorOptions(DType::f64)) * 2;
  Tensor y = tensor({6, 0, 2, 2, 4}).to(DType::i64);
  check_objective_gradient("nkd", {}, logit_inputs(zs, zt, y));
  check_objective_gradient("nkd", {{"T", "3"}, {"gamma", "3.5"}}, logit_inputs(zs, zt, y));
}

TEST_CASE("nkd: matches cls_KD's NKDLoss at T = 1, 2, 4, 8") {
  for (int T : {1, 2, 4, 8}) {
    check_fixture("nkd_T" + std::to_string(T));
    check_fixture("nkd_T" + std::to_string(T) + "_gamma3.5");
  }
}

TEST_CASE("nkd: errors name the objective and the shapes") {
  Tensor a = randn({2, 3}), b = randn({3, 3});
  Tensor y = tensor({0, 1}).to(DType::i64);
  check_error([&] { objective_loss("nkd", {}, logit_inputs(a, b, y)); }, {"nkd", "[2, 3]", "[3, 3]"});
  check_error([&] {
    objective_loss("nkd", {}, distill::Inputs({{"student.logits", a}, {"teacher.logits", a}}));
  }, {"nkd", "labels", "missing"});
  check_error([&] { objective_loss("nkd", {}, logit_inputs(a, a, y + 2)); }, {"nkd", "labels", "[0, 3)"});
  Tensor one = randn({2, 1});
  check_error([&] { objective_loss("nkd", {}, logit_inputs(one, one, y * 0)); },
              {"nkd", "2 classes", "[2, 1]"});
  check_error([&] { distill::make_objective("nkd", {{"T", "-1"}}); }, {"nkd", "T"});
  check_error([&] { distill::make_objective("nkd", {{"temp", "1"}}); }, {"nkd", "temp", "gamma"});
}
