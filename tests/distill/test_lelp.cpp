// LELP: the offline fit (against a PyTorch transcription and by its defining properties), the
// pseudo-subclass logits, the objective (k = 1 identity with KD + CE, f64 finite differences,
// fixtures from tools/golden/objectives/lelp.py, a transcription of the recipe), errors.
#include <doctest/doctest.h>

#include <filesystem>

#include "distill/lelp.h"
#include "distill/objective_check.h"
#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

struct FitCase {
  Tensor h, y, W;
};

FitCase fit_case(int64_t C, int64_t D, int64_t per_class) {
  Tensor y = repeat_interleave(arange(double(C)), per_class);
  Tensor centers = randn({C, D}, TensorOptions(DType::f64)) * 2;
  Tensor h = index_select(centers, 0, y) + randn({C * per_class, D}, TensorOptions(DType::f64));
  return {h, y, randn({C, D}, TensorOptions(DType::f64))};
}

std::string saved_projection(const distill::LelpProjection& p, const std::string& name) {
  auto path = std::filesystem::temp_directory_path() / ("tutor_test_lelp_" + name + ".safetensors");
  distill::save_lelp_projection(path.string(), p);
  return path.string();
}

}  // namespace

TEST_CASE("lelp: the fit matches the PyTorch transcription") {
  SafetensorsContents f =
      load_safetensors((fixture_path("distill") / "lelp_fit.safetensors").string());
  const int64_t k = std::stoll(f.metadata.at("k"));
  distill::LelpProjection p = distill::lelp_fit(f.tensors.at("embeddings"), f.tensors.at("labels"),
                                                f.tensors.at("classifier_weight"), k);
  check_close(p.null_projector, f.tensors.at("expected.null_projector"), 1e-9, 1e-7);
  check_close(p.means, f.tensors.at("expected.means"), 1e-9, 1e-7);
  check_close(p.directions, f.tensors.at("expected.directions"), 1e-9, 1e-7);
  check_close(p.scales, f.tensors.at("expected.scales"), 1e-9, 1e-7);
}

TEST_CASE("lelp: the fit's directions are orthonormal, in the null space of W, leading") {
  const int64_t C = 3, D = 8, k = 2;
  FitCase c = fit_case(C, D, 12);
  distill::LelpProjection p = distill::lelp_fit(c.h, c.y, c.W, k);
  // P is a symmetric idempotent matrix with W P = 0.
  check_close(matmul(c.W, p.null_projector), zeros({C, D}, DType::f64), 1e-10, 0);
  check_close(matmul(p.null_projector, p.null_projector), p.null_projector, 1e-10, 0);
  for (int64_t cls = 0; cls < C; ++cls) {
    Tensor v = p.directions.select(0, cls);  // [k, D]
    check_close(matmul(v, v.t()), eye(k, {}, DType::f64), 1e-10, 0);
    check_close(matmul(c.W, v.t()), zeros({C, k}, DType::f64), 1e-10, 0);
    // v_1 maximizes the variance of the projected class samples: its variance is s_1^2 and no
    // other unit vector in the null space beats it (checked against v_2 and random ones).
    Tensor u = matmul(c.h.narrow(0, cls * 12, 12), p.null_projector);
    Tensor centered = u - u.mean({0}, true);
    auto variance = [&](const Tensor& dir) {
      return (matmul(centered, dir.reshape({D, 1})).square().sum() / 11.0).item<double>();
    };
    double s1 = p.scales.select(0, cls).select(0, 0).item<double>();
    CHECK(variance(v.select(0, 0)) == doctest::Approx(s1 * s1).epsilon(1e-9));
    CHECK(variance(v.select(0, 0)) >= variance(v.select(0, 1)));
    for (int trial = 0; trial < 5; ++trial) {
      Tensor r = matmul(p.null_projector, randn({D}, TensorOptions(DType::f64)).reshape({D, 1}));
      r = r / r.square().sum().sqrt();
      CHECK(variance(r) <= variance(v.select(0, 0)) + 1e-12);
    }
  }
}

TEST_CASE("lelp: pseudo-subclass logits split each class's probability mass") {
  const int64_t C = 3, D = 6, k = 3;
  FitCase c = fit_case(C, D, 10);
  distill::LelpProjection p = distill::lelp_fit(c.h, c.y, c.W, k);
  Tensor h = randn({5, D}, TensorOptions(DType::f64));
  Tensor z = matmul(h, c.W.t());
  Tensor sub = distill::lelp_subclass_logits(p, z, h);
  REQUIRE(sub.sizes() == Shape{5, C * k});
  // sum_j exp(z_(c, j)) = exp(z_c): the class probabilities of the teacher are kept at T = 1.
  check_close(logsumexp(sub.reshape({5, C, k}), {2}), z, 1e-12, 1e-12);
  // A sample at a class mean sits at the origin of every direction of that class: equal split.
  Tensor at_mean = p.means.select(0, 1).unsqueeze(0);
  Tensor s = distill::lelp_subclass_logits(p, matmul(at_mean, c.W.t()), at_mean);
  Tensor class1 = s.narrow(1, k, k);
  check_close(class1 - class1.mean({1}, true), zeros({1, k}, DType::f64), 1e-12, 0);
}

TEST_CASE("lelp: with k = 1 the objective is KD on the class logits plus CE") {
  const int64_t C = 4, D = 6;
  FitCase c = fit_case(C, D, 8);
  std::string path = saved_projection(distill::lelp_fit(c.h, c.y, c.W, 1), "k1");
  Tensor h = randn({6, D}, TensorOptions(DType::f64));
  Tensor zt = matmul(h, c.W.t()), zs = randn({6, C}, TensorOptions(DType::f64)) * 2;
  Tensor y = tensor({0, 1, 2, 3, 1, 0}).to(DType::i64);
  distill::Inputs in(
      {{"student.logits", zs}, {"teacher.logits", zt}, {"teacher.pooled", h}, {"labels", y}});
  double kd = objective_loss("kd", {{"T", "3"}},
                             distill::Inputs({{"student.logits", zs}, {"teacher.logits", zt}}));
  double ce = objective_loss("ce", {}, distill::Inputs({{"student.logits", zs}, {"labels", y}}));
  CHECK(objective_loss("lelp", {{"T", "3"}, {"k", "1"}, {"projection", path}}, in) ==
        doctest::Approx(kd + ce).epsilon(1e-12));
  CHECK(
      objective_loss(
          "lelp",
          {{"T", "3"}, {"k", "1"}, {"projection", path}, {"kd_weight", "0.5"}, {"ce_weight", "2"}},
          in) == doctest::Approx(0.5 * kd + 2 * ce).epsilon(1e-12));
}

TEST_CASE("lelp: finite differences and the PyTorch transcription at T = 1, 2, 4, 8") {
  const int64_t C = 3, D = 5, k = 2;
  FitCase c = fit_case(C, D, 9);
  std::string path = saved_projection(distill::lelp_fit(c.h, c.y, c.W, k), "k2");
  Tensor h = randn({4, D}, TensorOptions(DType::f64));
  distill::Inputs in({{"student.logits", randn({4, C * k}, TensorOptions(DType::f64)) * 2},
                      {"teacher.logits", matmul(h, c.W.t())},
                      {"teacher.pooled", h},
                      {"labels", tensor({2, 0, 1, 1}).to(DType::i64)}});
  check_objective_gradient("lelp", {{"T", "2"}, {"k", "2"}, {"projection", path}}, in);
  for (int T : {1, 2, 4, 8}) {
    check_fixture("lelp_T" + std::to_string(T));
    check_fixture("lelp_T" + std::to_string(T) + "_weighted");
  }
}

TEST_CASE("lelp: errors name lelp and the shapes") {
  const int64_t C = 3, D = 5;
  FitCase c = fit_case(C, D, 4);
  check_error([&] { distill::lelp_fit(c.h, c.y, c.W, 6); }, {"lelp_fit", "k", "6"});
  check_error(
      [&] {
        distill::lelp_fit(c.h, c.y, randn({C, D + 1}, TensorOptions(DType::f64)), 2);
      },
      {"lelp_fit", "[12, 5]", "[3, 6]"});
  Tensor one_each = tensor({0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}).to(DType::i64);
  check_error([&] { distill::lelp_fit(c.h, one_each, c.W, 2); },
              {"lelp_fit", "class 0", "1 samples"});
  Tensor h = randn({2, D}, TensorOptions(DType::f64));
  distill::Inputs in({{"student.logits", randn({2, C * 2}, TensorOptions(DType::f64))},
                      {"teacher.logits", matmul(h, c.W.t())},
                      {"teacher.pooled", h},
                      {"labels", tensor({0, 1}).to(DType::i64)}});
  check_error([&] { objective_loss("lelp", {}, in); }, {"lelp", "no fitted projection"});
  std::string path = saved_projection(distill::lelp_fit(c.h, c.y, c.W, 2), "err");
  in.set("student.logits", randn({2, C * 3}, TensorOptions(DType::f64)));
  check_error(
      [&] {
        objective_loss("lelp", {{"projection", path}}, in);
      },
      {"lelp", "[B, 6]", "[2, 9]"});
  check_error(
      [&] {
        distill::make_objective("lelp", {{"projection", path}, {"k", "3"}});
      },
      {"lelp", "k = 3"});
}
