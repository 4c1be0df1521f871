// DHO: hand-worked values with a labeled/unlabeled split, f64 finite differences, parity with
// erjui/DHO's train_student (tools/golden/objectives/dho.py), errors; and the dual-head inference
// blend with its grid search on a case worked by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "distill/dual_head_inference.h"
#include "distill/objective_check.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

distill::Inputs dho_inputs(const Tensor& pooled, const Tensor& zt, const Tensor& mask = {}) {
  distill::Inputs in({{"student.pooled", pooled}, {"teacher.logits", zt}});
  if (mask.defined()) in.set("unlabeled_mask", mask);
  return in;
}

// kd_head with zero weight and zero bias over two classes: the student is uniform, so each
// row's KL is sum_c q_c log(2 q_c) with q = softmax(z_t / T).
std::shared_ptr<distill::Objective> uniform_student(const std::string& T) {
  auto objective = distill::make_objective("dho", {{"T", T}, {"features", "3"}, {"classes", "2"}});
  objective->to(DType::f64);
  objective->load_state_dict({{"kd_head.weight", zeros({2, 3}, TensorOptions(DType::f64))},
                              {"kd_head.bias", zeros({2}, TensorOptions(DType::f64))}});
  return objective;
}

double kl_to_uniform(double a, double b, double T) {
  const double q0 = 1 / (1 + std::exp((b - a) / T)), q1 = 1 - q0;
  return q0 * std::log(2 * q0) + q1 * std::log(2 * q1);
}

}  // namespace

TEST_CASE("dho: hand-worked labeled and unlabeled terms") {
  Tensor pooled = randn({3, 3}, TensorOptions(DType::f64));
  Tensor zt = tensor({{0.0, 2.0}, {1.0, -1.0}, {3.0, 0.0}}).to(DType::f64);
  const double T = 2;
  const double k0 = kl_to_uniform(0, 2, T), k1 = kl_to_uniform(1, -1, T),
               k2 = kl_to_uniform(3, 0, T);
  // Row 1 unlabeled: L = 1/2 T^2 [(k0 + k2) / 2 + k1].
  Tensor mask = tensor({0, 1, 0}).to(DType::i64);
  auto objective = uniform_student("2");
  distill::Evaluation ev = distill::evaluate(*objective, dho_inputs(pooled, zt, mask));
  CHECK(ev.loss.item() == doctest::Approx(0.5 * T * T * ((k0 + k2) / 2 + k1)).epsilon(1e-12));
  REQUIRE(ev.parts.size() == 2);
  CHECK(ev.parts[0].second.item() == doctest::Approx(T * T * (k0 + k2) / 2).epsilon(1e-12));
  CHECK(ev.parts[1].second.item() == doctest::Approx(T * T * k1).epsilon(1e-12));
  // A bool mask reads the same.
  Tensor bool_mask = tensor({0, 1, 0}).to(DType::b8);
  CHECK(distill::evaluate(*objective, dho_inputs(pooled, zt, bool_mask)).loss.item() ==
        doctest::Approx(ev.loss.item()).epsilon(1e-14));
  // No mask: every row labeled, the unlabeled term is 0.
  distill::Evaluation all = distill::evaluate(*objective, dho_inputs(pooled, zt));
  CHECK(all.loss.item() == doctest::Approx(0.5 * T * T * (k0 + k1 + k2) / 3).epsilon(1e-12));
  CHECK(all.parts[1].second.item() == 0);
}

TEST_CASE("dho: the rows' order does not matter, only the mask") {
  Tensor pooled = randn({5, 4}, TensorOptions(DType::f64));
  Tensor zt = randn({5, 6}, TensorOptions(DType::f64)) * 3;
  Tensor mask = tensor({1, 0, 0, 1, 0}).to(DType::i64);
  Tensor order = tensor({1, 2, 4, 0, 3}).to(DType::i64);  // labeled rows first, as the reference
  distill::Shapes shapes{{"student.pooled", {5, 4}}, {"teacher.logits", {5, 6}}};
  auto objective = distill::make_objective("dho", {}, shapes);
  objective->to(DType::f64);
  double a = distill::evaluate(*objective, dho_inputs(pooled, zt, mask)).loss.item();
  double b = distill::evaluate(*objective, dho_inputs(index_select(pooled, 0, order),
                                                      index_select(zt, 0, order),
                                                      index_select(mask, 0, order)))
                 .loss.item();
  CHECK(a == doctest::Approx(b).epsilon(1e-13));
}

TEST_CASE("dho: finite differences") {
  Tensor pooled = randn({6, 4}, TensorOptions(DType::f64));
  Tensor zt = randn({6, 5}, TensorOptions(DType::f64)) * 2;
  check_objective_gradient("dho", {}, dho_inputs(pooled, zt, tensor({0, 0, 1, 0, 1, 1}).to(DType::i64)));
  check_objective_gradient("dho", {{"T", "1"}}, dho_inputs(pooled, zt));
}

TEST_CASE("dho: matches erjui/DHO at T = 1, 2, 4, 8") {
  for (int T : {1, 2, 4, 8}) check_fixture("dho_T" + std::to_string(T));
}

TEST_CASE("dho: errors name the objective and the shapes") {
  distill::Shapes shapes{{"student.pooled", {2, 5}}, {"teacher.logits", {2, 3}}};
  auto objective = distill::make_objective("dho", {}, shapes);
  CHECK(objective->named_parameters().size() == 2);
  CHECK(objective->named_parameters()[0].first == "kd_head.weight");
  check_error([&] { distill::evaluate(*objective, dho_inputs(randn({2, 4}), randn({2, 3}))); },
              {"dho", "[2, 4]", "[2, 3]"});
  check_error([&] {
    distill::evaluate(*objective, dho_inputs(randn({2, 5}), randn({2, 3}), tensor({0, 1, 1}).to(DType::i64)));
  }, {"dho", "unlabeled_mask", "[3]"});
  check_error([&] {
    distill::evaluate(*objective, dho_inputs(randn({2, 5}), randn({2, 3}), tensor({0.0, 1.0})));
  }, {"dho", "unlabeled_mask", "f32"});
  check_error([&] {
    distill::evaluate(*distill::make_objective("dho"), dho_inputs(randn({2, 5}), randn({2, 3})));
  }, {"dho", "sizes are unknown"});
  check_error([&] { distill::make_objective("dho", {{"T", "-1"}}); }, {"dho", "T"});
}

TEST_CASE("dho: inference blend and grid search on a hand-worked case") {
  // Labels [0, 1, 0]. The CE head gets sample 0 right and 1, 2 wrong; the KD head 1, 2 right and
  // 0 wrong. With beta = 4, p_kd = softmax(kd / 4) gives class-0 probabilities 0.4073 (s0),
  // 0.2689 (s1), 0.6225 (s2), and p_ce gives 0.8808, 0.7311, 0.0474. All three are right when
  //   s0: (1-a) 0.8808 + a 0.4073 > 1/2  <=>  a < 0.804
  //   s1: (1-a) 0.2689 + a 0.7311 > 1/2  <=>  a > 0.5
  //   s2: (1-a) 0.0474 + a 0.6225 > 1/2  <=>  a > 0.787
  // so only a = 0.80 on the grid; every smaller beta makes s0 and s2 incompatible (checked by
  // the search below visiting them first).
  Tensor ce = tensor({{2.0, 0.0}, {1.0, 0.0}, {0.0, 3.0}}).to(DType::f64);
  Tensor kd = tensor({{0.0, 1.5}, {0.0, 4.0}, {2.0, 0.0}}).to(DType::f64);
  Tensor y = tensor({0, 1, 0}).to(DType::i64);
  Tensor p = distill::dual_head_blend(ce, kd, 0.8, 4.0);
  Tensor expected = softmax(ce, 1) * 0.2 + softmax(kd / 4.0, 1) * 0.8;
  check_close(p, expected, 1e-15, 0);
  CHECK(p.sum({1}).to_vector<double>() == std::vector<double>{1.0, 1.0, 1.0});
  distill::DualHeadChoice best = distill::dual_head_search(ce, kd, y);
  CHECK(best.accuracy == doctest::Approx(100));
  CHECK(best.beta == 4.0);
  CHECK(best.alpha == doctest::Approx(0.8).epsilon(1e-15));
  // With beta = 1 only, the best is 2 of 3, first reached at the smallest such alpha.
  distill::DualHeadChoice one = distill::dual_head_search(ce, kd, y, distill::dual_head_alphas(), {1.0});
  CHECK(one.accuracy == doctest::Approx(200.0 / 3));
  CHECK(one.alpha == doctest::Approx(0.35));
  // Nothing right: the reference's initial choice (alpha 0, beta 1, 0%).
  distill::DualHeadChoice none = distill::dual_head_search(ce, ce, tensor({1, 1, 0}).to(DType::i64));
  CHECK(none.accuracy == 0);
  CHECK(none.alpha == 0);
  CHECK(none.beta == 1);
  check_error([&] { distill::dual_head_blend(ce, kd, 1.5, 1); }, {"dual_head_blend", "alpha"});
  check_error([&] { distill::dual_head_search(ce, kd, tensor({0, 1}).to(DType::i64)); },
              {"dual_head_search", "labels", "[2]"});
  check_error([&] { distill::dual_head_blend(ce, randn({3, 4}), 0.5, 1); },
              {"dual_head_blend", "[3, 2]", "[3, 4]"});
}
