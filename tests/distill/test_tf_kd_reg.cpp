// Tf-KD_reg: a hand-worked value, the closed-form gradient, f64 finite differences, parity with
// the reference's loss_kd_regularization (tools/golden/objectives/tf_kd_reg.py), and errors.
#include <doctest/doctest.h>

#include <cmath>

#include "distill/objective_check.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

distill::Inputs reg_inputs(const Tensor& z, const Tensor& y) {
  return distill::Inputs({{"student.logits", z}, {"labels", y}});
}

}  // namespace

TEST_CASE("tf_kd_reg: values") {
  // One sample, two classes, label 0, z = [0, 0], a = 0.99, T = 2, m = 3:
  // u = [0.99, 0.01], q = softmax(u / 2) = [1, e^-0.49] / (1 + e^-0.49), log p_s = -ln 2;
  // the 'mean' reduction divides the summed KL by B C = 2.
  Tensor z = tensor({{0.0, 0.0}}).to(DType::f64);
  Tensor y = tensor({0}).to(DType::i64);
  double e = std::exp(-0.49), q0 = 1 / (1 + e), q1 = e / (1 + e);
  double kl = q0 * (std::log(q0) + std::log(2.0)) + q1 * (std::log(q1) + std::log(2.0));
  CHECK(objective_loss("tf_kd_reg", {{"T", "2"}, {"multiplier", "3"}}, reg_inputs(z, y)) ==
        doctest::Approx(3 * kl / 2).epsilon(1e-12));
  // correct_prob = 1 / C makes the virtual teacher uniform: zero loss on constant logit rows.
  Tensor zc = tensor({{2.0, 2.0, 2.0, 2.0}, {-1.0, -1.0, -1.0, -1.0}}).to(DType::f64);
  Tensor yc = tensor({3, 1}).to(DType::i64);
  CHECK(objective_loss("tf_kd_reg", {{"correct_prob", "0.25"}, {"T", "1"}}, reg_inputs(zc, yc)) ==
        doctest::Approx(0).epsilon(1e-12));
}

TEST_CASE("tf_kd_reg: gradient is (m / (B C)) (softmax(z) - softmax(u / T))") {
  Tensor z = randn({5, 7}, TensorOptions(DType::f64)) * 3;
  Tensor y = tensor({0, 6, 3, 3, 1}).to(DType::i64);
  double T = 4, a = 0.9, m = 50, other = (1 - a) / 6;
  auto objective = distill::make_objective(
      "tf_kd_reg", {{"T", "4"}, {"correct_prob", "0.9"}, {"multiplier", "50"}});
  distill::Evaluation ev = distill::evaluate(*objective, reg_inputs(z, y));
  Tensor u = one_hot(y, 7).to(DType::f64) * (a - other) + other;
  Tensor expected = (softmax(z, 1) - softmax(u / T, 1)) * (m / 35);
  check_close(ev.input_grads.at("student.logits"), expected, 1e-12, 1e-10);
}

TEST_CASE("tf_kd_reg: finite differences") {
  Tensor z = randn({4, 6}, TensorOptions(DType::f64)) * 2;
  Tensor y = tensor({5, 0, 2, 2}).to(DType::i64);
  check_objective_gradient("tf_kd_reg", {}, reg_inputs(z, y));
  check_objective_gradient("tf_kd_reg", {{"T", "1"}, {"correct_prob", "0.7"}}, reg_inputs(z, y));
}

TEST_CASE("tf_kd_reg: matches loss_kd_regularization at T = 1, 2, 4, 8 and the defaults") {
  for (int T : {1, 2, 4, 8}) check_fixture("tf_kd_reg_T" + std::to_string(T));
  check_fixture("tf_kd_reg_T20_m100");
  check_fixture("tf_kd_reg_T2_a90_m50");
}

TEST_CASE("tf_kd_reg: errors name the objective and the shapes") {
  Tensor z = randn({3, 4});
  Tensor y = tensor({0, 1, 2}).to(DType::i64);
  check_error([&] { objective_loss("tf_kd_reg", {}, reg_inputs(randn({3, 4, 2}), y)); },
              {"tf_kd_reg", "[3, 4, 2]"});
  check_error([&] { objective_loss("tf_kd_reg", {}, reg_inputs(z, tensor({0, 1}).to(DType::i64))); },
              {"tf_kd_reg", "labels", "[2]"});
  check_error([&] { objective_loss("tf_kd_reg", {}, reg_inputs(z, y + 2)); },
              {"tf_kd_reg", "labels", "[0, 4)"});
  check_error([&] { objective_loss("tf_kd_reg", {}, reg_inputs(randn({3, 1}), y * 0)); },
              {"tf_kd_reg", "2 classes", "[3, 1]"});
  check_error([&] { objective_loss("tf_kd_reg", {}, distill::Inputs({{"student.logits", z}})); },
              {"tf_kd_reg", "labels", "missing"});
  check_error([&] { distill::make_objective("tf_kd_reg", {{"T", "0"}}); }, {"tf_kd_reg", "T"});
  check_error([&] { distill::make_objective("tf_kd_reg", {{"correct_prob", "1.5"}}); },
              {"tf_kd_reg", "correct_prob", "1.5"});
  check_error([&] { distill::make_objective("tf_kd_reg", {{"alpha", "0.1"}}); },
              {"tf_kd_reg", "alpha"});
}
