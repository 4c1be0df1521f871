// MLKD: identities against the KD objective (the mask fraction, the numpy-median threshold on
// odd and even batches, the weak-logit "strong" terms), f64 finite differences in both modes,
// and parity with KD_ours.py (tools/golden/objectives/mlkd.py).
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "distill/objective_check.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

distill::Inputs views(const Tensor& sw, const Tensor& tw, const Tensor& ss, const Tensor& ts) {
  return distill::Inputs({{"student.logits", sw},
                          {"teacher.logits", tw},
                          {"student.logits_strong", ss},
                          {"teacher.logits_strong", ts}});
}

std::map<std::string, double> parts(const std::string& mode, const distill::Inputs& in) {
  auto objective = distill::make_objective("mlkd", {{"T", "4"}, {"mode", mode}});
  distill::Evaluation ev = distill::evaluate(*objective, in);
  std::map<std::string, double> out{{"loss", ev.loss.item()}};
  for (const auto& [name, value] : ev.parts) out[name] = value.item();
  return out;
}

double kd(const Tensor& zs, const Tensor& zt, double T) {
  return objective_loss("kd", {{"T", std::to_string(T)}},
                        distill::Inputs({{"student.logits", zs}, {"teacher.logits", zt}}));
}

// Teacher weak logits whose max-softmax confidences increase with the row index.
Tensor confident_rows(int64_t batch, int64_t classes) {
  Tensor z = zeros({batch, classes}, TensorOptions(DType::f64));
  for (int64_t b = 0; b < batch; ++b) z.select(0, b).select(0, b % classes).fill_(double(b + 1));
  return z;
}

}  // namespace

TEST_CASE("mlkd: equal student and teacher give zero in both modes") {
  Tensor w = randn({6, 5}, TensorOptions(DType::f64)) * 3,
         s = randn({6, 5}, TensorOptions(DType::f64));
  for (const char* mode : {"faithful", "per_sample"}) {
    auto p = parts(mode, views(w, w, s, s));
    CHECK(p["loss"] == doctest::Approx(0).epsilon(1e-12));
  }
}

TEST_CASE("mlkd: kd part against the kd objective, odd and even batches") {
  // conf increases with the row, so the median mask keeps the lower half: with numpy's
  // interpolating median, 2 of 3 rows (odd: the middle row equals the threshold) and 2 of 4.
  for (int64_t batch : {3, 4}) {
    INFO("batch ", batch);
    Tensor tw = confident_rows(batch, 5);
    Tensor sw = randn({batch, 5}, TensorOptions(DType::f64)) * 2;
    Tensor ss = randn({batch, 5}, TensorOptions(DType::f64)) * 2;
    Tensor ts = randn({batch, 5}, TensorOptions(DType::f64)) * 2;
    const double frac = batch == 3 ? 2.0 / 3.0 : 0.5;
    double weak = 0;
    for (double T : {4.0, 3.0, 5.0, 2.0, 6.0}) weak += kd(sw, tw, T);
    // The code's "strong" sum takes the weak-view logits at temperatures 2 and 6.
    double strong = kd(ss, ts, 4) + kd(ss, ts, 3) + kd(ss, ts, 5) + kd(sw, tw, 2) + kd(sw, tw, 6);
    auto f = parts("faithful", views(sw, tw, ss, ts));
    CHECK(f["kd"] == doctest::Approx(frac * weak + strong).epsilon(1e-10));
    CHECK(f["loss"] == doctest::Approx(f["kd"] + f["cc"] + f["bc"]).epsilon(1e-12));
    // per_sample: the weak sum covers only the kept rows, (kept / B) * KD over those rows.
    Tensor kept = arange(2.0);  // the two least confident rows
    Tensor sk = index_select(sw, 0, kept), tk = index_select(tw, 0, kept);
    double weak_kept = 0;
    for (double T : {4.0, 3.0, 5.0, 2.0, 6.0}) weak_kept += kd(sk, tk, T);
    auto s = parts("per_sample", views(sw, tw, ss, ts));
    CHECK(s["kd"] == doctest::Approx(frac * weak_kept + strong).epsilon(1e-10));
  }
}

TEST_CASE("mlkd: the strong-view Gram terms are not part of the loss") {
  Tensor sw = randn({4, 5}, TensorOptions(DType::f64)),
         tw = randn({4, 5}, TensorOptions(DType::f64));
  Tensor ss = randn({4, 5}, TensorOptions(DType::f64)),
         ts = randn({4, 5}, TensorOptions(DType::f64));
  auto a = parts("faithful", views(sw, tw, ss, ts));
  auto b = parts("faithful", views(sw, tw, ss * 3 + 1, ts));
  CHECK(a["cc"] == doctest::Approx(b["cc"]).epsilon(1e-14));
  CHECK(a["bc"] == doctest::Approx(b["bc"]).epsilon(1e-14));
  CHECK(a["kd"] != doctest::Approx(b["kd"]));
}

TEST_CASE("mlkd: finite differences, both modes, both views") {
  Tensor sw = randn({5, 4}, TensorOptions(DType::f64)) * 2,
         tw = randn({5, 4}, TensorOptions(DType::f64)) * 2;
  Tensor ss = randn({5, 4}, TensorOptions(DType::f64)) * 2,
         ts = randn({5, 4}, TensorOptions(DType::f64)) * 2;
  check_objective_gradient("mlkd", {{"T", "2"}}, views(sw, tw, ss, ts));
  check_objective_gradient("mlkd", {{"T", "3"}, {"mode", "per_sample"}}, views(sw, tw, ss, ts));
}

TEST_CASE("mlkd: matches KD_ours.py at T = 1, 2, 4, 8, B = 15 and 16, both modes") {
  for (const char* mode : {"faithful", "per_sample"})
    for (int T : {1, 2, 4, 8})
      for (int B : {15, 16})
        check_fixture(std::string("mlkd_") + mode + "_T" + std::to_string(T) + "_B" +
                      std::to_string(B));
}

TEST_CASE("mlkd: errors name the objective and the shapes") {
  Tensor a = randn({2, 3}), b = randn({2, 4});
  check_error([&] { objective_loss("mlkd", {}, views(a, a, a, b)); }, {"mlkd", "[2, 3]", "[2, 4]"});
  check_error([&] { objective_loss("mlkd", {}, views(a, a, b, b)); }, {"mlkd", "[2, 3]", "[2, 4]"});
  check_error(
      [&] {
        objective_loss("mlkd", {}, distill::Inputs({{"student.logits", a}, {"teacher.logits", a}}));
      },
      {"mlkd", "student.logits_strong", "missing"});
  check_error(
      [&] {
        distill::make_objective("mlkd", {{"mode", "paper"}});
      },
      {"mlkd", "mode", "paper"});
  check_error([&] { distill::make_objective("mlkd", {{"T", "0"}}); }, {"mlkd", "T"});
}
