// TGeo-KD: hand-worked fusion, the relation features and the class-mean buffer, gradients
// (finite differences with the ratio differentiated; the closed form with it held constant),
// parity with Chengming0501/TGeo-KD's CIFAR code (tools/golden/objectives/tgeo_kd.py), errors.
#include <doctest/doctest.h>

#include <cmath>

#include "distill/objective_check.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

Tensor f64(const Tensor& t) { return t.to(DType::f64); }

// f64 values that f32 would round (tensor({...}) builds f32).
Tensor exact(const std::vector<double>& v, const Shape& shape) {
  return from_vector(v, shape, DType::f64);
}

// A fusion network with one hidden unit reading relation feature `feature`:
// alpha = sigmoid(relu(r[feature]) * w2 + b2).
std::shared_ptr<distill::Objective> probe(std::map<std::string, std::string> params,
                                          int64_t classes, int64_t feature, double w2, double b2) {
  params["hidden"] = "1";
  params["classes"] = std::to_string(classes);
  auto objective = distill::make_objective("tgeo_kd", params);
  objective->to(DType::f64);
  Tensor w1 = zeros({1, 9 * classes}, TensorOptions(DType::f64));
  w1.data<double>()[feature] = 1.0;
  objective->load_state_dict({{"reweighting.0.weight", w1},
                              {"reweighting.0.bias", f64(tensor({0.0}))},
                              {"reweighting.2.weight", f64(tensor({{w2}}))},
                              {"reweighting.2.bias", f64(tensor({b2}))}},
                             /*strict=*/false);
  return objective;
}

double sigmoid_of(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

TEST_CASE("tgeo_kd: hand-worked fusion of CE and KL") {
  // One sample, two classes: z_s = [0, 0], z_t = [0, 2], y = 0, T = 1: CE = log 2,
  // KL = sum q log(2 q) with q = softmax([0, 2]). A network that outputs sigmoid(b2) = alpha.
  Tensor zs = f64(tensor({{0.0, 0.0}})), zt = f64(tensor({{0.0, 2.0}}));
  Tensor y = tensor({0}).to(DType::i64);
  const double q0 = 1 / (1 + std::exp(2.0)), q1 = 1 - q0;
  const double ce = std::log(2.0), kl = q0 * std::log(2 * q0) + q1 * std::log(2 * q1);
  for (double b2 : {0.0, 1.5, -3.0}) {
    const double a = sigmoid_of(b2);
    auto objective = probe({}, 2, 0, 0.0, b2);
    distill::Evaluation ev = distill::evaluate(*objective, logit_inputs(zs, zt, y));
    CHECK(ev.loss.item() == doctest::Approx((1 - a) * ce + a * kl).epsilon(1e-12));
    CHECK(ev.parts.at(0).second.item() == doctest::Approx(a).epsilon(1e-12));
  }
  // T = 2 with scale_t2: the KL at T = 2, times 4.
  const double p0 = 1 / (1 + std::exp(1.0)), p1 = 1 - p0;
  const double kl2 = p0 * std::log(2 * p0) + p1 * std::log(2 * p1);
  auto objective = probe({{"T", "2"}, {"scale_t2", "true"}}, 2, 0, 0.0, 0.0);
  CHECK(distill::evaluate(*objective, logit_inputs(zs, zt, y)).loss.item() ==
        doctest::Approx(0.5 * ce + 0.5 * 4 * kl2).epsilon(1e-12));
}

TEST_CASE("tgeo_kd: class means of the teacher's predictions, updated without grad") {
  // Labels [0, 0, 1]; teacher rows [0, 0], [ln 3, 0], [0, ln 3]: softmax [1/2, 1/2], [3/4, 1/4],
  // [1/4, 3/4]; class 0's mean [5/8, 3/8], class 1's [1/4, 3/4].
  const double l3 = std::log(3.0);
  Tensor zt = exact({0.0, 0.0, l3, 0.0, 0.0, l3}, {3, 2});
  Tensor zs = f64(tensor({{1.0, -1.0}, {0.5, 0.0}, {0.0, 2.0}}));
  Tensor y = tensor({0, 0, 1}).to(DType::i64);
  // Feature 2C + 1 is m_{.,1} = tbar_{y_i}[1]: alpha_i = sigmoid(relu(tbar_{y_i}[1])).
  auto objective = probe({}, 2, 5, 1.0, 0.0);
  distill::Evaluation ev = distill::evaluate(*objective, logit_inputs(zs, zt, y));
  const double expect = (2 * sigmoid_of(3.0 / 8) + sigmoid_of(0.75)) / 3;
  CHECK(ev.parts.at(0).second.item() == doctest::Approx(expect).epsilon(1e-12));
  check_close(objective->tensor_at("class_sum"), f64(tensor({{1.25, 0.75}, {0.25, 0.75}})), 1e-15, 0);
  check_close(objective->tensor_at("class_count"), f64(tensor({2.0, 1.0})), 0, 0);
  // The same batch again: the means stay, the counts double; in evaluation nothing moves.
  distill::evaluate(*objective, logit_inputs(zs, zt, y));
  check_close(objective->tensor_at("class_count"), f64(tensor({4.0, 2.0})), 0, 0);
  objective->eval();
  ev = distill::evaluate(*objective, logit_inputs(zs, zt, f64(tensor({1, 1, 1})).to(DType::i64)));
  check_close(objective->tensor_at("class_count"), f64(tensor({4.0, 2.0})), 0, 0);
  CHECK(ev.parts.at(0).second.item() == doctest::Approx(sigmoid_of(0.75)).epsilon(1e-12));
  // Fixed means: with update_class_mean = false a fresh objective reads zeros (classes unseen).
  auto fixed = probe({{"update_class_mean", "false"}}, 2, 5, 1.0, 0.0);
  CHECK(distill::evaluate(*fixed, logit_inputs(zs, zt, y)).parts.at(0).second.item() ==
        doctest::Approx(0.5).epsilon(1e-12));
}

TEST_CASE("tgeo_kd: the relation features") {
  // One sample, C = 2: s = softmax(z_s), t = softmax(z_t), m = t (its own class mean), g = e_1.
  Tensor zs = f64(tensor({{0.25, -0.5}})), zt = f64(tensor({{1.0, 0.125}}));
  Tensor y = tensor({1}).to(DType::i64);
  const double s1 = 1 / (1 + std::exp(0.25 - -0.5)), t1 = 1 / (1 + std::exp(1.0 - 0.125));
  const double s0 = 1 - s1, t0 = 1 - t1;
  // r = [s, t, m, g, |s - g|, |s - t|, |s - m|, (g - m)(g - s), (g - t)(g - s)], 2 columns each.
  const std::vector<double> r = {s0, s1, t0, t1, t0, t1, 0, 1, s0, 1 - s1, std::abs(s0 - t0),
                                 std::abs(s1 - t1), std::abs(s0 - t0), std::abs(s1 - t1),
                                 t0 * s0, (1 - t1) * (1 - s1), t0 * s0, (1 - t1) * (1 - s1)};
  for (int64_t k = 0; k < 18; ++k) {
    INFO("feature ", k);
    auto objective = probe({}, 2, k, 1.0, 0.0);
    CHECK(distill::evaluate(*objective, logit_inputs(zs, zt, y)).parts.at(0).second.item() ==
          doctest::Approx(sigmoid_of(r[size_t(k)])).epsilon(1e-12));
  }
}

TEST_CASE("tgeo_kd: gradients") {
  Tensor zs = randn({6, 4}, TensorOptions(DType::f64)) * 2;
  Tensor zt = randn({6, 4}, TensorOptions(DType::f64)) * 2;
  Tensor y = tensor({0, 3, 1, 1, 2, 0}).to(DType::i64);
  // The ratio differentiated (the default): finite differences through the fusion network.
  check_objective_gradient("tgeo_kd", {{"hidden", "5"}, {"T", "2"}}, logit_inputs(zs, zt, y));
  check_objective_gradient("tgeo_kd", {{"hidden", "5"}, {"broadcast", "true"}},
                           logit_inputs(zs, zt, y));
  // The ratio held constant: dL/dz_s = (1/B) [(1 - a)(softmax(z_s) - g) + (a / T)(softmax(z_s/T)
  // - softmax(z_t/T))], and the fusion network gets no gradient.
  const double T = 2;
  auto objective = distill::make_objective(
      "tgeo_kd", {{"hidden", "5"}, {"T", "2"}, {"ratio_grad", "false"}},
      distill::shapes_of(logit_inputs(zs, zt, y)));
  objective->to(DType::f64);
  distill::Evaluation ev = distill::evaluate(*objective, logit_inputs(zs, zt, y));
  // alpha from the same network in evaluation mode (no second buffer update).
  objective->eval();
  Tensor g = one_hot(y, 4).to(DType::f64);
  Tensor s = softmax(zs, 1), t = softmax(zt, 1);
  Tensor mean = objective->tensor_at("class_sum") /
                clamp(objective->tensor_at("class_count"), 1.0, std::nullopt).unsqueeze(1);
  Tensor m = index_select(mean, 0, y);
  Tensor r = cat({s, t, m, g, abs(s - g), abs(s - t), abs(s - m), (g - m) * (g - s), (g - t) * (g - s)}, 1);
  Tensor h = relu(linear(r, objective->tensor_at("reweighting.0.weight"),
                         objective->tensor_at("reweighting.0.bias")));
  Tensor a = sigmoid(linear(h, objective->tensor_at("reweighting.2.weight"),
                            objective->tensor_at("reweighting.2.bias")));  // [B, 1]
  Tensor expected = ((1.0 - a) * (s - g) + a * ((softmax(zs / T, 1) - softmax(zt / T, 1)) / T)) / 6.0;
  check_close(ev.input_grads.at("student.logits"), expected, 1e-12, 1e-10);
  for (const auto& [name, grad] : ev.param_grads) {
    INFO(name);
    check_close(grad, zeros_like(grad), 0, 0);
  }
}

TEST_CASE("tgeo_kd: matches Chengming0501/TGeo-KD at T = 1, 2, 4, 8") {
  for (int T : {1, 2, 4, 8}) {
    check_fixture("tgeo_kd_T" + std::to_string(T));
    check_fixture("tgeo_kd_T" + std::to_string(T) + "_detached");
    check_fixture("tgeo_kd_T" + std::to_string(T) + "_broadcast");
  }
}

TEST_CASE("tgeo_kd: errors name the objective and the shapes") {
  distill::Shapes shapes{{"student.logits", {2, 3}}};
  auto objective = distill::make_objective("tgeo_kd", {}, shapes);
  CHECK(objective->tensor_at("reweighting.0.weight").sizes() == Shape{128, 27});
  CHECK(objective->tensor_at("reweighting.2.weight").sizes() == Shape{1, 128});
  Tensor y = tensor({0, 2}).to(DType::i64);
  check_error([&] { distill::evaluate(*objective, logit_inputs(randn({2, 3}), randn({2, 4}), y)); },
              {"tgeo_kd", "[2, 3]", "[2, 4]"});
  check_error([&] { distill::evaluate(*objective, logit_inputs(randn({2, 4}), randn({2, 4}), y)); },
              {"tgeo_kd", "3 classes", "[2, 4]"});
  check_error([&] {
    distill::evaluate(*objective, logit_inputs(randn({2, 3}), randn({2, 3}), y + 1));
  }, {"tgeo_kd", "labels", "[0, 3)"});
  check_error([&] {
    distill::evaluate(*distill::make_objective("tgeo_kd"), logit_inputs(randn({2, 3}), randn({2, 3}), y));
  }, {"tgeo_kd", "classes is unknown"});
  check_error([&] { distill::make_objective("tgeo_kd", {{"hidden", "0"}}); }, {"tgeo_kd", "hidden"});
}
