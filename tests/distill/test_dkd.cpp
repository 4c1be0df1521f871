// DKD: the KL decomposition it is built on, hand-worked values, the warm-up, log-space masses
// where mdistiller's log of summed probabilities underflows, finite differences, and parity with
// mdistiller's dkd_loss (tools/golden/objectives/dkd.py).
#include <doctest/doctest.h>

#include <cmath>

#include "distill/objective_check.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

Tensor f64(const NestedList& data) { return tensor(data, DType::f64); }

}  // namespace

TEST_CASE("dkd: KL(p_t || p_s) = KL(b_t || b_s) + (1 - p_t[y]) KL(p^_t || p^_s), each sample") {
  Tensor zs = randn({6, 9}, TensorOptions(DType::f64)) * 3;
  Tensor zt = randn({6, 9}, TensorOptions(DType::f64)) * 3;
  Tensor y = tensor({0, 8, 3, 3, 5, 1}).to(DType::i64);
  for (double T : {1.0, 2.5}) {
    Tensor pt = softmax(zt / T, 1);
    for (int64_t b = 0; b < 6; ++b) {
      INFO("T ", T, " sample ", b);
      Tensor s = zs.narrow(0, b, 1), t = zt.narrow(0, b, 1), label = y.narrow(0, b, 1);
      auto dkd = distill::make_objective("dkd", {{"T", std::to_string(T)}});
      distill::Evaluation ev = distill::evaluate(*dkd, logit_inputs(s, t, label));
      double full = objective_loss("kd", {{"T", std::to_string(T)}},
                                   distill::Inputs({{"student.logits", s}, {"teacher.logits", t}}));
      double other = 1 - pt.select(0, b).select(0, y.select(0, b).item<int64_t>()).item();
      // Every term carries the same T^2, so the identity holds for the scaled values too.
      CHECK(full == doctest::Approx(part(ev, "tckd") + other * part(ev, "nckd")).epsilon(1e-12));
    }
  }
}

TEST_CASE("dkd: hand-worked values and the warm-up") {
  // T = 1, label 0. Student uniform: p_s = [1/3, 1/3, 1/3], b_s = [1/3, 2/3], p^_s = [1/2, 1/2].
  // Teacher [0, log 3, 0]: p_t = [1/5, 3/5, 1/5], b_t = [1/5, 4/5], p^_t = [3/4, 1/4].
  Tensor zs = f64({{0.0, 0.0, 0.0}});
  Tensor zt = f64({{0.0, std::log(3.0), 0.0}});
  Tensor y = tensor({0}).to(DType::i64);
  double tckd = 0.2 * std::log(0.2 / (1.0 / 3)) + 0.8 * std::log(0.8 / (2.0 / 3));
  double nckd = 0.75 * std::log(0.75 / 0.5) + 0.25 * std::log(0.25 / 0.5);
  auto dkd = distill::make_objective("dkd", {{"T", "1"}, {"alpha", "1.5"}, {"beta", "8"}});
  distill::Context ctx;
  ctx.epoch = 19;  // mdistiller's epoch 20 = warmup: full weight
  distill::Evaluation ev = distill::evaluate(*dkd, logit_inputs(zs, zt, y), ctx);
  CHECK(part(ev, "tckd") == doctest::Approx(tckd).epsilon(1e-12));
  CHECK(part(ev, "nckd") == doctest::Approx(nckd).epsilon(1e-12));
  CHECK(ev.loss.item() == doctest::Approx(1.5 * tckd + 8 * nckd).epsilon(1e-12));
  // First epoch (0-based 0, mdistiller's 1): weight 1/20; epoch 4: 5/20; past the warm-up: 1.
  const std::pair<int, double> schedule[] = {{0, 0.05}, {4, 0.25}, {19, 1.0}, {100, 1.0}};
  for (auto [epoch, factor] : schedule) {
    ctx.epoch = epoch;
    CHECK(objective_loss("dkd", {{"T", "1"}, {"alpha", "1.5"}}, logit_inputs(zs, zt, y), ctx) ==
          doctest::Approx(factor * (1.5 * tckd + 8 * nckd)).epsilon(1e-12));
  }
  ctx.epoch = 0;
  CHECK(objective_loss("dkd", {{"T", "1"}, {"warmup", "0"}}, logit_inputs(zs, zt, y), ctx) ==
        doctest::Approx(tckd + 8 * nckd).epsilon(1e-12));
  // At temperature T every term is T^2 times the KL of the softened distributions: with
  // z / T held fixed the parts scale by T^2.
  auto dkd3 = distill::make_objective("dkd", {{"T", "3"}});
  distill::Evaluation ev3 = distill::evaluate(*dkd3, logit_inputs(zs * 3, zt * 3, y), ctx);
  CHECK(part(ev3, "tckd") == doctest::Approx(9 * tckd).epsilon(1e-12));
  CHECK(part(ev3, "nckd") == doctest::Approx(9 * nckd).epsilon(1e-12));
}

TEST_CASE("dkd: a saturated student stays finite in f32 (log-space binary masses)") {
  // The student puts all but ~1e-65 of its mass on the label: mdistiller's log(sum of
  // non-target probabilities) is log(0) = -inf in f32; the log-space form matches f64.
  Tensor zs = f64({{150.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 151.0, 0.5}});
  Tensor zt = f64({{2.0, 1.0, 0.0, -1.0}, {0.0, 1.0, 3.0, 0.0}});
  Tensor y = tensor({0, 2}).to(DType::i64);
  std::map<std::string, std::string> params{{"T", "1"}, {"warmup", "0"}};
  double exact = objective_loss("dkd", params, logit_inputs(zs, zt, y));
  double single = objective_loss("dkd", params,
                                 logit_inputs(zs.to(DType::f32), zt.to(DType::f32), y));
  CHECK(std::isfinite(single));
  CHECK(single == doctest::Approx(exact).epsilon(1e-4));
  CHECK(exact > 30);  // the teacher's non-target mass against a student log-mass near -150
}

TEST_CASE("dkd: finite differences") {
  Tensor zs = randn({5, 7}, TensorOptions(DType::f64)) * 2;
  Tensor zt = randn({5, 7}, TensorOptions(DType::f64)) * 2;
  Tensor y = tensor({6, 0, 2, 2, 4}).to(DType::i64);
  distill::Context ctx;
  ctx.epoch = 3;
  check_objective_gradient("dkd", {{"T", "2"}}, logit_inputs(zs, zt, y), ctx);
  check_objective_gradient("dkd", {{"T", "1"}, {"alpha", "0.5"}, {"beta", "2"}},
                           logit_inputs(zs, zt, y), ctx);
}

TEST_CASE("dkd: matches mdistiller's dkd_loss at T = 1, 2, 4, 8, in and after the warm-up") {
  for (int T : {1, 2, 4, 8})
    for (int i : {0, 1, 2}) check_fixture("dkd_T" + std::to_string(T) + "_" + std::to_string(i));
}

TEST_CASE("dkd: errors name the objective and the shapes") {
  Tensor a = randn({2, 3}), b = randn({2, 4});
  Tensor y = tensor({0, 1}).to(DType::i64);
  check_error([&] { objective_loss("dkd", {}, logit_inputs(a, b, y)); }, {"dkd", "[2, 3]", "[2, 4]"});
  check_error([&] {
    objective_loss("dkd", {}, distill::Inputs({{"student.logits", a}, {"teacher.logits", a}}));
  }, {"dkd", "labels", "missing"});
  check_error([&] { objective_loss("dkd", {}, logit_inputs(a, a, y + 2)); }, {"dkd", "labels", "[0, 3)"});
  check_error([&] { objective_loss("dkd", {}, logit_inputs(a, a, tensor({0}).to(DType::i64))); },
              {"dkd", "labels", "[2]"});
  Tensor one = randn({2, 1});
  check_error([&] { objective_loss("dkd", {}, logit_inputs(one, one, y * 0)); },
              {"dkd", "2 classes", "[2, 1]"});
  check_error([&] { distill::make_objective("dkd", {{"T", "0"}}); }, {"dkd", "T"});
  check_error([&] { distill::make_objective("dkd", {{"warmup", "-1"}}); }, {"dkd", "warmup"});
  check_error([&] { distill::make_objective("dkd", {{"gamma", "1"}}); }, {"dkd", "gamma", "beta"});
}
