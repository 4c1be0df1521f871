// KD and CE: hand-worked values, the closed-form gradient, f64 finite differences, and parity
// with mdistiller's kd_loss and F.cross_entropy (tools/golden/objectives/kd.py).
#include <doctest/doctest.h>

#include <cmath>

#include "distill/objective_check.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

TEST_CASE("kd: values") {
  // Equal logits: the KL is zero at every temperature.
  Tensor z = tensor({{1.0, 2.0, 3.0}, {0.5, -1.0, 0.0}}).to(DType::f64);
  CHECK(objective_loss("kd", {{"T", "3"}}, logit_inputs(z, z)) == doctest::Approx(0).epsilon(1e-12));
  // Two classes, T = 2, one sample: p_t = softmax([0, 2] / 2) = [1/(1+e), e/(1+e)],
  // p_s = softmax([0, 0]) = [1/2, 1/2]; KL = sum p_t log(2 p_t); times T^2 = 4.
  Tensor zs = tensor({{0.0, 0.0}}).to(DType::f64), zt = tensor({{0.0, 2.0}}).to(DType::f64);
  double e = std::exp(1.0), a = 1 / (1 + e), b = e / (1 + e);
  double kl = a * std::log(2 * a) + b * std::log(2 * b);
  CHECK(objective_loss("kd", {{"T", "2"}}, logit_inputs(zs, zt)) == doctest::Approx(4 * kl).epsilon(1e-12));
  CHECK(objective_loss("kd", {{"T", "2"}, {"scale_t2", "false"}}, logit_inputs(zs, zt)) ==
        doctest::Approx(kl).epsilon(1e-12));
}

TEST_CASE("kd: gradient is (T / B) (softmax(z_s / T) - softmax(z_t / T))") {
  Tensor zs = randn({5, 7}, TensorOptions(DType::f64)) * 3;
  Tensor zt = randn({5, 7}, TensorOptions(DType::f64)) * 3;
  double T = 4;
  auto objective = distill::make_objective("kd", {{"T", "4"}});
  distill::Evaluation ev = distill::evaluate(*objective, logit_inputs(zs, zt));
  Tensor expected = (softmax(zs / T, 1) - softmax(zt / T, 1)) * (T / 5);
  check_close(ev.input_grads.at("student.logits"), expected, 1e-12, 1e-10);
  check_close(ev.input_grads.at("teacher.logits"), zeros_like(zt), 0, 0);
}

TEST_CASE("kd: finite differences, plain and standardized") {
  Tensor zs = randn({4, 6}, TensorOptions(DType::f64)) * 2;
  Tensor zt = randn({4, 6}, TensorOptions(DType::f64)) * 2;
  check_objective_gradient("kd", {{"T", "2"}}, logit_inputs(zs, zt));
  check_objective_gradient("kd", {{"T", "3"}, {"standardize", "true"}}, logit_inputs(zs, zt));
}

TEST_CASE("kd: matches mdistiller at T = 1, 2, 4, 8, with and without standardization") {
  for (int T : {1, 2, 4, 8}) {
    check_fixture("kd_T" + std::to_string(T));
    check_fixture("kd_T" + std::to_string(T) + "_standardize");
  }
}

TEST_CASE("kd: errors name the objective and the shapes") {
  Tensor a = randn({2, 3}), b = randn({2, 4});
  check_error([&] { objective_loss("kd", {}, logit_inputs(a, b)); }, {"kd", "[2, 3]", "[2, 4]"});
  check_error([&] { objective_loss("kd", {}, distill::Inputs({{"student.logits", a}})); },
              {"kd", "teacher.logits", "missing"});
  check_error([&] { distill::make_objective("kd", {{"tau", "2"}}); }, {"kd", "tau", "T"});
  check_error([&] { distill::make_objective("kd", {{"T", "hot"}}); }, {"kd", "T", "hot"});
  check_error([&] { distill::make_objective("kd", {{"T", "0"}}); }, {"kd", "T"});
}

TEST_CASE("ce: matches F.cross_entropy, with label smoothing") {
  check_fixture("ce");
  check_fixture("ce_smoothing");
  Tensor z = randn({4, 5}, TensorOptions(DType::f64));
  Tensor y = tensor({0, 4, 2, 2}).to(DType::i64);
  check_objective_gradient("ce", {}, distill::Inputs({{"student.logits", z}, {"labels", y}}));
  check_error([&] {
    objective_loss("ce", {}, distill::Inputs({{"student.logits", z}, {"labels", y + 3}}));
  }, {"ce", "labels", "[0, 5)"});
}

TEST_CASE("objectives: registry lists every objective with its inputs and defaults") {
  CHECK(distill::objective_specs().size() >= 2);
  for (const distill::ObjectiveSpec& spec : distill::objective_specs()) {
    INFO(spec.name);
    CHECK(!spec.summary.empty());
    CHECK(!spec.source.empty());
    CHECK(!spec.inputs.empty());
    CHECK(spec.make);
    CHECK(distill::make_objective(spec.name)->name() == spec.name);
  }
  check_error([] { distill::objective_spec("kdd"); }, {"unknown objective", "kdd", "kd"});
}
