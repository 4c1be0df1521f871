// DIST and DIST+: hand-worked correlations, finite differences, parity with hunto's DIST,
// torchdistill's DISTLoss and DISTPlusLoss (tools/golden/objectives/dist.py, dist_plus.py).
#include <doctest/doctest.h>

#include <cmath>

#include "distill/objective_check.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

distill::Inputs plus_inputs(const Tensor& zs, const Tensor& zt, const Tensor& fs,
                            const Tensor& ft, const std::string& tap = "layer3") {
  return distill::Inputs({{"student.logits", zs}, {"teacher.logits", zt},
                          {"student." + tap, fs}, {"teacher." + tap, ft}});
}

}  // namespace

TEST_CASE("dist: hand-worked correlations on two classes") {
  // With two classes a centred row is +-(p - 1/2) [1, -1], so each row correlation is the sign
  // of (p_s - 1/2)(p_t - 1/2), each column correlation (B = 2) the sign of the two differences.
  // Rows: s [0, 1] / t [0, 2] agree (+1), s [1, 0] / t [0, 3] disagree (-1): inter = 1.
  // Columns: s's class-0 probability rises from row 1 to row 2, t's falls: intra = 1 + 1 = 2.
  Tensor zs = tensor({{0.0, 1.0}, {1.0, 0.0}}, DType::f64);
  Tensor zt = tensor({{0.0, 2.0}, {0.0, 3.0}}, DType::f64);
  for (const char* form : {"eps_on_product", "clamp_norms"}) {
    INFO(form);
    auto dist = distill::make_objective("dist", {{"beta", "1.5"}, {"gamma", "0.5"},
                                                 {"form", form}});
    distill::Evaluation ev = distill::evaluate(*dist, logit_inputs(zs, zt));
    CHECK(part(ev, "inter") == doctest::Approx(1).epsilon(1e-6));
    CHECK(part(ev, "intra") == doctest::Approx(2).epsilon(1e-6));
    CHECK(ev.loss.item() == doctest::Approx(1.5 * 1 + 0.5 * 2).epsilon(1e-6));
  }
  // tau^2 scales both terms; identical logits give zero at any temperature.
  CHECK(objective_loss("dist", {{"tau", "4"}}, logit_inputs(zs, zt)) ==
        doctest::Approx(16 * 3).epsilon(1e-6));
  Tensor z = randn({5, 7}, TensorOptions(DType::f64)) * 3;
  // Up to eps / ||centred column||^2: columns of small probabilities have small norms.
  CHECK(objective_loss("dist", {{"tau", "2"}}, logit_inputs(z, z)) == doctest::Approx(0).epsilon(1e-5));
}

TEST_CASE("dist: the two eps forms differ on a nearly constant student") {
  // Same layout as above with the student's rows d = 1e-6 apart: every centred two-vector is
  // x [1, -1], so rho = 2 x_s x_t / (2 |x_s x_t| + eps) (author) or sign(x_s x_t) (torchdistill,
  // both norms above eps). Here 2 |x_s x_t| is about 1e-8, so the author's form loses ~half.
  const double d = 1e-6, eps = 1e-8;
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  auto rho = [&](double xs, double xt) { return 2 * xs * xt / (2 * std::abs(xs * xt) + eps); };
  double inter = 1 - 0.5 * (rho(sig(-d) - 0.5, sig(-2) - 0.5) + rho(sig(d) - 0.5, sig(-3) - 0.5));
  double intra = 1 - rho((sig(-d) - sig(d)) / 2, (sig(-2) - sig(-3)) / 2);
  Tensor zs = tensor({{0.0, d}, {d, 0.0}}, DType::f64);
  Tensor zt = tensor({{0.0, 2.0}, {0.0, 3.0}}, DType::f64);
  auto author = distill::make_objective("dist");
  distill::Evaluation ev = distill::evaluate(*author, logit_inputs(zs, zt));
  CHECK(part(ev, "inter") == doctest::Approx(inter).epsilon(1e-6));
  CHECK(part(ev, "intra") == doctest::Approx(intra).epsilon(1e-6));
  CHECK(intra < 1.9);  // far from the exact correlation's 2
  auto clamped = distill::make_objective("dist", {{"form", "clamp_norms"}});
  distill::Evaluation ec = distill::evaluate(*clamped, logit_inputs(zs, zt));
  CHECK(part(ec, "inter") == doctest::Approx(1).epsilon(1e-6));
  CHECK(part(ec, "intra") == doctest::Approx(2).epsilon(1e-6));
}

TEST_CASE("dist: finite differences, both forms") {
  Tensor zs = randn({5, 7}, TensorOptions(DType::f64)) * 2;
  Tensor zt = randn({5, 7}, TensorOptions(DType::f64)) * 2;
  check_objective_gradient("dist", {}, logit_inputs(zs, zt));
  check_objective_gradient("dist", {{"tau", "4"}, {"form", "clamp_norms"}}, logit_inputs(zs, zt));
}

TEST_CASE("dist: matches hunto's DIST and torchdistill's DISTLoss at tau = 1, 2, 4, 8") {
  for (int T : {1, 2, 4, 8})
    for (const char* form : {"eps_on_product", "clamp_norms"})
      for (const char* suffix : {"", "_weighted"})
        check_fixture("dist_T" + std::to_string(T) + "_" + form + suffix);
}

TEST_CASE("dist: errors name the objective and the shapes") {
  Tensor a = randn({2, 3}), b = randn({2, 4});
  check_error([&] { objective_loss("dist", {}, logit_inputs(a, b)); }, {"dist", "[2, 3]", "[2, 4]"});
  Tensor one = randn({1, 3});
  check_error([&] { objective_loss("dist", {}, logit_inputs(one, one)); }, {"dist", "at least 2", "[1, 3]"});
  check_error([&] { distill::make_objective("dist", {{"form", "cosine"}}); },
              {"dist", "form", "cosine"});
  check_error([&] { distill::make_objective("dist", {{"tau", "0"}}); }, {"dist", "tau"});
  check_error([&] { distill::make_objective("dist", {{"T", "2"}}); }, {"dist", "T", "tau"});
}

TEST_CASE("dist_plus: reads the tap its parameter names") {
  auto plus = distill::make_objective("dist_plus", {{"tap", "layer4"}});
  CHECK(plus->inputs() == std::vector<std::string>{"student.logits", "teacher.logits",
                                                   "student.layer4", "teacher.layer4"});
  CHECK(plus->student_taps() == std::vector<std::string>{"layer4"});
  CHECK(plus->teacher_taps(0) == std::vector<std::string>{"layer4"});
  CHECK(distill::make_objective("dist_plus")->student_taps() ==
        std::vector<std::string>{"layer3"});
}

TEST_CASE("dist_plus: hand-worked channel and spatial terms") {
  // Equal logits: no DIST term. Student features equal to the teacher's: every channel
  // correlation is 1 (added as coded, +iota) and every spatial correlation 1 (spatial = 0);
  // negated: channel -1, spatial 1 - (-1) = 2.
  Tensor z = randn({4, 5}, TensorOptions(DType::f64));
  Tensor f = randn({4, 3, 2, 2}, TensorOptions(DType::f64));
  std::map<std::string, std::string> params{{"iota", "0.5"}, {"kappa", "2"}};
  auto plus = distill::make_objective("dist_plus", params);
  distill::Evaluation same = distill::evaluate(*plus, plus_inputs(z, z, f, f));
  CHECK(part(same, "inter") == doctest::Approx(0).epsilon(1e-7));
  CHECK(part(same, "channel") == doctest::Approx(1).epsilon(1e-7));
  CHECK(part(same, "spatial") == doctest::Approx(0).epsilon(1e-7));
  CHECK(same.loss.item() == doctest::Approx(0.5).epsilon(1e-7));
  distill::Evaluation opposite = distill::evaluate(*plus, plus_inputs(z, z, -f, f));
  CHECK(part(opposite, "channel") == doctest::Approx(-1).epsilon(1e-7));
  CHECK(part(opposite, "spatial") == doctest::Approx(2).epsilon(1e-7));
  CHECK(opposite.loss.item() == doctest::Approx(-0.5 + 4).epsilon(1e-7));
}

TEST_CASE("dist_plus: finite differences through logits and features") {
  Tensor zs = randn({4, 5}, TensorOptions(DType::f64)) * 2;
  Tensor zt = randn({4, 5}, TensorOptions(DType::f64)) * 2;
  Tensor fs = randn({4, 3, 2, 3}, TensorOptions(DType::f64));
  Tensor ft = randn({4, 3, 2, 3}, TensorOptions(DType::f64));
  check_objective_gradient("dist_plus", {{"tau", "2"}, {"iota", "0.5"}},
                           plus_inputs(zs, zt, fs, ft));
  check_objective_gradient("dist_plus", {{"tap", "pool"}, {"form", "eps_on_product"}},
                           plus_inputs(zs, zt, fs, ft, "pool"));
}

TEST_CASE("dist_plus: matches torchdistill's DISTPlusLoss at tau = 1, 2, 4, 8") {
  for (int T : {1, 2, 4, 8})
    for (const char* suffix : {"_layer3", "_layer4", "_layer3_weighted"})
      check_fixture("dist_plus_T" + std::to_string(T) + suffix);
}

TEST_CASE("dist_plus: errors name the objective, the tap and the shapes") {
  Tensor z = randn({2, 5});
  Tensor f = randn({2, 3, 2, 2}), g = randn({2, 4, 2, 2});
  check_error([&] { objective_loss("dist_plus", {}, logit_inputs(z, z)); },
              {"dist_plus", "student.layer3", "missing"});
  check_error([&] { objective_loss("dist_plus", {}, plus_inputs(z, z, f, g)); },
              {"dist_plus", "layer3", "[2, 3, 2, 2]", "[2, 4, 2, 2]"});
  Tensor flat = randn({2, 3});
  check_error([&] { objective_loss("dist_plus", {}, plus_inputs(z, z, flat, flat)); },
              {"dist_plus", "layer3", "[2, 3]"});
  check_error([&] { distill::make_objective("dist_plus", {{"tap", "logits"}}); },
              {"dist_plus", "tap", "logits"});
  check_error([&] { distill::make_objective("dist_plus", {{"form", "x"}}); },
              {"dist_plus", "form"});
}
