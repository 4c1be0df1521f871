// multi_teacher, knowledge_concentration, kl_dp and multi_aspect: hand-worked values and
// identities with KD, f64 finite differences, fixtures from PyTorch transcriptions of the
// formulas (tools/golden/objectives/{multi_teacher,kl_dp,multi_aspect}.py), errors.
#include <doctest/doctest.h>

#include <cmath>

#include "distill/objective_check.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

Tensor f64(const Tensor& t) { return t.to(DType::f64); }

Tensor rnd(int64_t b, int64_t c, double scale = 3) {
  return randn({b, c}, TensorOptions(DType::f64)) * scale;
}

double kd(const Tensor& zs, const Tensor& zt, double T) {
  return objective_loss("kd", {{"T", std::to_string(T)}},
                        distill::Inputs({{"student.logits", zs}, {"teacher.logits", zt}}));
}

double part(const std::string& name, const std::map<std::string, std::string>& params,
            const distill::Inputs& in, const std::string& key) {
  auto objective = distill::make_objective(name, params, distill::shapes_of(in));
  for (const auto& [k, v] : distill::evaluate(*objective, in).parts)
    if (k == key) return v.item<double>();
  FAIL("no part ", key);
  return 0;
}

}  // namespace

TEST_CASE("multi_teacher: values") {
  // One sample, two classes, T = 1: student uniform; teachers [1/4, 3/4] and [3/4, 1/4].
  Tensor zs = from_vector(std::vector<double>{0.0, 0.0}, {1, 2}, TensorOptions(DType::f64));
  Tensor z0 = from_vector(std::vector<double>{0.0, std::log(3.0)}, {1, 2},
                          TensorOptions(DType::f64));
  Tensor z1 = flip(z0, {1});
  distill::Inputs in({{"student.logits", zs}, {"teacher.logits", z0}, {"teacher1.logits", z1}});
  // The equal mixture is uniform: KL 0.
  CHECK(objective_loss("multi_teacher", {{"T", "1"}}, in) == doctest::Approx(0).epsilon(1e-12));
  // Each KL is 1/4 log(1/2) + 3/4 log(3/2); sum_kl with equal weights averages them.
  double kl = 0.25 * std::log(0.5) + 0.75 * std::log(1.5);
  CHECK(objective_loss("multi_teacher", {{"T", "1"}, {"mode", "sum_kl"}}, in) ==
        doctest::Approx(kl).epsilon(1e-12));
  CHECK(objective_loss("multi_teacher", {{"T", "1"}, {"mode", "sum_kl"}, {"weights", "2,1"}},
                       in) == doctest::Approx(3 * kl).epsilon(1e-12));
  // Mixture weights 3,1 (normalized to 3/4, 1/4): p = [3/8, 5/8] against [1/2, 1/2].
  double mix = 0.375 * std::log(0.75) + 0.625 * std::log(1.25);
  CHECK(objective_loss("multi_teacher", {{"T", "1"}, {"weights", "3,1"}}, in) ==
        doctest::Approx(mix).epsilon(1e-12));
  // Identical teachers: both modes reduce to KD (with T^2).
  Tensor a = rnd(5, 7), b = rnd(5, 7);
  distill::Inputs same({{"student.logits", a}, {"teacher.logits", b}, {"teacher1.logits", b},
                        {"teacher2.logits", b}});
  for (std::string mode : {"average_kl", "sum_kl"})
    CHECK(objective_loss("multi_teacher", {{"T", "3"}, {"teachers", "3"}, {"mode", mode}},
                         same) == doctest::Approx(kd(a, b, 3)).epsilon(1e-10));
}

TEST_CASE("multi_teacher: finite differences") {
  distill::Inputs in({{"student.logits", rnd(4, 6)}, {"teacher.logits", rnd(4, 6)},
                      {"teacher1.logits", rnd(4, 6)}, {"teacher2.logits", rnd(4, 6)}});
  check_objective_gradient("multi_teacher", {{"T", "2"}, {"teachers", "3"}}, in);
  check_objective_gradient("multi_teacher",
                           {{"T", "3"}, {"teachers", "3"}, {"mode", "sum_kl"},
                            {"weights", "0.2,1,0.5"}}, in);
}

TEST_CASE("multi_teacher: matches the PyTorch transcription at T = 1, 2, 4, 8") {
  for (int T : {1, 2, 4, 8}) {
    std::string t = "_T" + std::to_string(T);
    check_fixture("multi_teacher_average_kl_K2" + t);
    check_fixture("multi_teacher_sum_kl_K3" + t);
    check_fixture("multi_teacher_average_kl_K3_w" + t);
    check_fixture("multi_teacher_sum_kl_K2_w" + t);
  }
}

TEST_CASE("multi_teacher: reads teachers 0..K-1 and errors name the objective") {
  auto three = distill::make_objective("multi_teacher", {{"teachers", "3"}});
  CHECK(three->inputs() == std::vector<std::string>{"student.logits", "teacher.logits",
                                                    "teacher1.logits", "teacher2.logits"});
  Tensor a = randn({2, 3}), b = randn({2, 4});
  check_error([&] {
    objective_loss("multi_teacher", {},
                   distill::Inputs({{"student.logits", a}, {"teacher.logits", a},
                                    {"teacher1.logits", b}}));
  }, {"multi_teacher", "[2, 3]", "[2, 4]"});
  check_error([&] {
    objective_loss("multi_teacher", {},
                   distill::Inputs({{"student.logits", a}, {"teacher.logits", a}}));
  }, {"multi_teacher", "teacher1.logits", "missing"});
  check_error([&] { distill::make_objective("multi_teacher", {{"weights", "1,2,3"}}); },
              {"multi_teacher", "weights", "3", "2 teachers"});
  check_error([&] { distill::make_objective("multi_teacher", {{"weights", "1,-1"}}); },
              {"multi_teacher", "weights"});
  check_error([&] { distill::make_objective("multi_teacher", {{"mode", "max"}}); },
              {"multi_teacher", "mode", "max"});
  check_error([&] { distill::make_objective("multi_teacher", {{"teachers", "0"}}); },
              {"multi_teacher", "teachers"});
}

TEST_CASE("knowledge_concentration: values") {
  // One teacher over all classes with equal pace is KD.
  Tensor zs = rnd(5, 6), zt = rnd(5, 6);
  CHECK(objective_loss("knowledge_concentration",
                       {{"T", "2"}, {"teachers", "1"}, {"pace", "equal"}},
                       distill::Inputs({{"student.logits", zs}, {"teacher.logits", zt}})) ==
        doctest::Approx(kd(zs, zt, 2)).epsilon(1e-10));
  // Two specialists on {0, 2} and {1, 3, 4}: each term is KD on the gathered student columns.
  Tensor t0 = rnd(5, 2), t1 = rnd(5, 3);
  Tensor s0 = index_select(zs, 1, tensor({0, 2}).to(DType::i64));
  Tensor s1 = index_select(zs, 1, tensor({1, 3, 4}).to(DType::i64));
  double l0 = kd(s0, t0, 4), l1 = kd(s1, t1, 4);
  distill::Inputs in({{"student.logits", zs}, {"teacher.logits", t0}, {"teacher1.logits", t1}});
  std::map<std::string, std::string> p = {{"subsets", "0,2;1,3-4"}, {"pace", "equal"}};
  CHECK(objective_loss("knowledge_concentration", p, in) ==
        doctest::Approx((l0 + l1) / 2).epsilon(1e-10));
  // Self-paced: w_k = 2 L_k / (L_0 + L_1); the loss is (L_0^2 + L_1^2) / (L_0 + L_1).
  p["pace"] = "relative_loss";
  CHECK(objective_loss("knowledge_concentration", p, in) ==
        doctest::Approx((l0 * l0 + l1 * l1) / (l0 + l1)).epsilon(1e-10));
  CHECK(part("knowledge_concentration", p, in, "w0") ==
        doctest::Approx(2 * l0 / (l0 + l1)).epsilon(1e-10));
  CHECK(part("knowledge_concentration", p, in, "kl1") == doctest::Approx(l1).epsilon(1e-10));
  // A [B, C] teacher is read at its subset's columns.
  Tensor t1_full = rnd(5, 6);
  Tensor t1_sub = index_select(t1_full, 1, tensor({1, 3, 4}).to(DType::i64));
  distill::Inputs full({{"student.logits", zs}, {"teacher.logits", t0},
                        {"teacher1.logits", t1_full}});
  distill::Inputs sub({{"student.logits", zs}, {"teacher.logits", t0},
                       {"teacher1.logits", t1_sub}});
  CHECK(objective_loss("knowledge_concentration", p, full) ==
        doctest::Approx(objective_loss("knowledge_concentration", p, sub)).epsilon(1e-12));
}

TEST_CASE("knowledge_concentration: finite differences and the PyTorch transcription") {
  distill::Inputs in({{"student.logits", rnd(4, 7)}, {"teacher.logits", rnd(4, 4)},
                      {"teacher1.logits", rnd(4, 3)}});
  // Equal pace only: the self-paced weights are constants for the gradient (as in the fixtures),
  // so finite differences through them would not match by design.
  check_objective_gradient("knowledge_concentration", {{"T", "2"}, {"pace", "equal"}}, in);
  check_objective_gradient("knowledge_concentration",
                           {{"T", "3"}, {"pace", "equal"}, {"subsets", "0-3;4,6,5"}}, in);
  for (int T : {1, 2, 4, 8}) {
    std::string t = "_T" + std::to_string(T);
    check_fixture("knowledge_concentration_relative_loss" + t);
    check_fixture("knowledge_concentration_equal" + t);
    check_fixture("knowledge_concentration_subsets" + t);
  }
}

TEST_CASE("knowledge_concentration: errors name the objective") {
  Tensor zs = randn({2, 5}), t0 = randn({2, 3}), bad = randn({2, 4});
  check_error([&] {
    objective_loss("knowledge_concentration", {},
                   distill::Inputs({{"student.logits", zs}, {"teacher.logits", t0},
                                    {"teacher1.logits", bad}}));
  }, {"knowledge_concentration", "teacher1.logits", "[2, 2]", "[2, 4]"});
  check_error([&] {
    objective_loss("knowledge_concentration", {{"subsets", "0-2;3-9"}},
                   distill::Inputs({{"student.logits", zs}, {"teacher.logits", t0},
                                    {"teacher1.logits", bad}}));
  }, {"knowledge_concentration", "class 5", "5 classes"});
  check_error([&] { distill::make_objective("knowledge_concentration", {{"subsets", "0-4"}}); },
              {"knowledge_concentration", "1 subsets", "2 teachers"});
  check_error([&] {
    distill::make_objective("knowledge_concentration", {{"subsets", "0-x;1"}});
  }, {"knowledge_concentration", "0-x"});
  check_error([&] { distill::make_objective("knowledge_concentration", {{"pace", "fast"}}); },
              {"knowledge_concentration", "pace", "fast"});
}

TEST_CASE("kl_dp: picks the better teacher per sample") {
  // Sample 0: the external teacher is right (label 1); sample 1: the initial student is.
  Tensor zs = f64(tensor({{0.0, 0.5, 0.0}, {1.0, 0.0, -1.0}}));
  Tensor zt = f64(tensor({{0.0, 3.0, 0.0}, {0.0, 0.0, 3.0}}));
  Tensor z0 = f64(tensor({{2.0, 0.0, 0.0}, {2.5, 0.0, 0.0}}));
  Tensor y = tensor({1, 0}).to(DType::i64);
  distill::Inputs in({{"student.logits", zs}, {"teacher.logits", zt}, {"teacher1.logits", z0},
                      {"labels", y}});
  Tensor picked = f64(tensor({{0.0, 3.0, 0.0}, {2.5, 0.0, 0.0}}));
  CHECK(objective_loss("kl_dp", {{"T", "2"}}, in) ==
        doctest::Approx(kd(zs, picked, 2)).epsilon(1e-12));
  CHECK(part("kl_dp", {{"T", "2"}}, in, "teacher_share") == doctest::Approx(0.5));
  // By confidence the external teacher is the more confident one on both samples.
  distill::Inputs unsup({{"student.logits", zs}, {"teacher.logits", zt},
                         {"teacher1.logits", z0}});
  CHECK(objective_loss("kl_dp", {{"T", "2"}, {"mode", "confidence"}}, unsup) ==
        doctest::Approx(kd(zs, zt, 2)).epsilon(1e-12));
  // Ties go to the external teacher.
  distill::Inputs tie({{"student.logits", zs}, {"teacher.logits", zt}, {"teacher1.logits", zt},
                       {"labels", y}});
  CHECK(part("kl_dp", {}, tie, "teacher_share") == doctest::Approx(1.0));
  auto unsupervised = distill::make_objective("kl_dp", {{"mode", "confidence"}});
  CHECK(unsupervised->inputs().size() == 3);
}

TEST_CASE("kl_dp: finite differences, the PyTorch transcription, errors") {
  Tensor y = tensor({0, 3, 2, 5}).to(DType::i64);
  distill::Inputs in({{"student.logits", rnd(4, 6)}, {"teacher.logits", rnd(4, 6)},
                      {"teacher1.logits", rnd(4, 6)}, {"labels", y}});
  check_objective_gradient("kl_dp", {{"T", "2"}}, in);
  check_objective_gradient("kl_dp", {{"T", "4"}, {"mode", "confidence"}}, in);
  for (int T : {1, 2, 4, 8}) {
    check_fixture("kl_dp_label_T" + std::to_string(T));
    check_fixture("kl_dp_confidence_T" + std::to_string(T));
  }
  Tensor a = randn({2, 3}), b = randn({2, 4});
  check_error([&] {
    objective_loss("kl_dp", {{"mode", "confidence"}},
                   distill::Inputs({{"student.logits", a}, {"teacher.logits", a},
                                    {"teacher1.logits", b}}));
  }, {"kl_dp", "[2, 3]", "[2, 4]"});
  check_error([&] {
    objective_loss("kl_dp", {},
                   distill::Inputs({{"student.logits", a}, {"teacher.logits", a},
                                    {"teacher1.logits", a}}));
  }, {"kl_dp", "labels", "missing"});
  check_error([&] { distill::make_objective("kl_dp", {{"mode", "best"}}); },
              {"kl_dp", "mode", "best"});
}

TEST_CASE("multi_aspect: values") {
  // z = 0, q = 0.3: softplus(0) = log 2; z = 2, q = 1: softplus(2) - 2 = log(1 + e^-2).
  Tensor z = f64(tensor({{0.0, 2.0}})), q = f64(tensor({{0.3, 1.0}}));
  distill::Inputs in({{"student.aspect_logits", z}, {"aspect_targets", q}});
  double bce = (std::log(2.0) + std::log1p(std::exp(-2.0))) / 2;
  CHECK(objective_loss("multi_aspect", {}, in) == doctest::Approx(bce).epsilon(1e-12));
  CHECK(objective_loss("multi_aspect", {{"lambda", "0.5"}}, in) ==
        doctest::Approx(0.5 * bce).epsilon(1e-12));
  CHECK(part("multi_aspect", {{"lambda", "0.5"}}, in, "bce") == doctest::Approx(bce));
}

TEST_CASE("multi_aspect: finite differences, the PyTorch transcription, errors") {
  Tensor q = sigmoid(rnd(3, 5));
  check_objective_gradient("multi_aspect", {{"lambda", "0.7"}},
                           distill::Inputs({{"student.aspect_logits", rnd(3, 5)},
                                            {"aspect_targets", q}}));
  check_fixture("multi_aspect_l1.0");
  check_fixture("multi_aspect_l0.3");
  Tensor a = randn({2, 3});
  check_error([&] {
    objective_loss("multi_aspect", {},
                   distill::Inputs({{"student.aspect_logits", a},
                                    {"aspect_targets", full({2, 4}, 0.5)}}));
  }, {"multi_aspect", "[2, 3]", "[2, 4]"});
  check_error([&] {
    objective_loss("multi_aspect", {},
                   distill::Inputs({{"student.aspect_logits", a},
                                    {"aspect_targets", full({2, 3}, 1.5)}}));
  }, {"multi_aspect", "aspect_targets", "[0, 1]"});
  check_error([&] {
    objective_loss("multi_aspect", {}, distill::Inputs({{"student.aspect_logits", a}}));
  }, {"multi_aspect", "aspect_targets", "missing"});
  check_error([&] { distill::make_objective("multi_aspect", {{"lambda", "-1"}}); },
              {"multi_aspect", "lambda"});
}
