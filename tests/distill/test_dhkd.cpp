// DHKD: hand-worked BinaryKL values, f64 finite differences, parity with penghui-yang/DHKD's
// BinaryKLNorm / BinaryKL and its heads (tools/golden/objectives/dhkd.py), errors; and the
// gradient alignment against a transcription of its OptimGradAlign.
#include <doctest/doctest.h>

#include <cmath>

#include "distill/gradient_alignment.h"
#include "distill/objective_check.h"
#include "engine/io/safetensors.h"
#include "engine/nn/nn.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

distill::Inputs dhkd_inputs(const Tensor& pooled, const Tensor& zt) {
  return distill::Inputs({{"student.pooled", pooled}, {"teacher.logits", zt}});
}

// A linear head with zero weight and the given bias: z2 = bias for every sample.
std::shared_ptr<distill::Objective> constant_head(std::map<std::string, std::string> params,
                                                  const Tensor& bias, int64_t features) {
  const int64_t classes = bias.size(0);
  params["head"] = "linear";
  params["features"] = std::to_string(features);
  params["classes"] = std::to_string(classes);
  auto objective = distill::make_objective("dhkd", params);
  objective->to(DType::f64);
  objective->load_state_dict({{"fc2.weight", zeros({classes, features}, TensorOptions(DType::f64))},
                              {"fc2.bias", bias}});
  return objective;
}

double binary_kl(double t, double s) {
  return t * std::log(t / s) + (1 - t) * std::log((1 - t) / (1 - s));
}

double sigmoid_of(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

TEST_CASE("dhkd: hand-worked BinaryKL-Norm and BinaryKL") {
  // One sample, two classes, T = 2, z2 = [0, 0], z_t = [0, 2].
  Tensor bias = tensor({0.0, 0.0}).to(DType::f64);
  Tensor pooled = tensor({{1.0, -2.0, 0.5}}).to(DType::f64);
  Tensor zt = tensor({{0.0, 2.0}}).to(DType::f64);
  // Norm: s = sigmoid((z2 - z_t) / T) = [1/2, sigmoid(-1)]; l = KL(Bern(1/2) || Bern(s)).
  double norm = 4 * (binary_kl(0.5, 0.5) + binary_kl(0.5, sigmoid_of(-1)));
  auto a = constant_head({{"T", "2"}}, bias, 3);
  CHECK(distill::evaluate(*a, dhkd_inputs(pooled, zt)).loss.item() ==
        doctest::Approx(norm).epsilon(1e-12));
  // alpha scales the loss; the part is the unweighted BinaryKL-Norm.
  auto b = constant_head({{"T", "2"}, {"alpha", "0.1"}}, bias, 3);
  distill::Evaluation ev = distill::evaluate(*b, dhkd_inputs(pooled, zt));
  CHECK(ev.loss.item() == doctest::Approx(0.1 * norm).epsilon(1e-12));
  REQUIRE(ev.parts.size() == 1);
  CHECK(ev.parts[0].first == "binary_kl_norm");
  CHECK(ev.parts[0].second.item() == doctest::Approx(norm).epsilon(1e-12));
  // Plain: s = sigmoid(z2 / T) = [1/2, 1/2], t = sigmoid(z_t / T) = [1/2, sigmoid(1)].
  double plain = 4 * binary_kl(sigmoid_of(1), 0.5);
  auto c = constant_head({{"T", "2"}, {"loss", "binary_kl"}}, bias, 3);
  CHECK(distill::evaluate(*c, dhkd_inputs(pooled, zt)).loss.item() ==
        doctest::Approx(plain).epsilon(1e-12));
  // BinaryKL-Norm is zero when the auxiliary head reproduces the teacher's logits; two samples
  // average over the batch.
  Tensor bias2 = tensor({0.5, -1.5}).to(DType::f64);
  Tensor two = tensor({{0.5, -1.5}, {0.5, -1.5}}).to(DType::f64);
  auto d = constant_head({{"T", "3"}}, bias2, 3);
  CHECK(distill::evaluate(*d, dhkd_inputs(tensor({{1.0, 2.0, 3.0}, {0.0, 0.0, 1.0}}).to(DType::f64),
                                          two))
            .loss.item() == doctest::Approx(0).epsilon(1e-12));
}

TEST_CASE("dhkd: finite differences through both heads and both losses") {
  Tensor pooled = randn({6, 5}, TensorOptions(DType::f64));
  Tensor zt = randn({6, 4}, TensorOptions(DType::f64)) * 2;
  check_objective_gradient("dhkd", {{"head", "linear"}, {"T", "2"}}, dhkd_inputs(pooled, zt));
  check_objective_gradient("dhkd", {{"head", "linear"}, {"loss", "binary_kl"}, {"T", "1"}},
                           dhkd_inputs(pooled, zt));
  // Dropout 0: the MLP head (BatchNorm1d on batch statistics) is then deterministic.
  check_objective_gradient("dhkd", {{"head", "mlp"}, {"hidden", "7"}, {"dropout", "0"}},
                           dhkd_inputs(pooled, zt));
}

TEST_CASE("dhkd: matches penghui-yang/DHKD at T = 1, 2, 4, 8 (linear and MLP heads)") {
  for (int T : {1, 2, 4, 8}) {
    check_fixture("dhkd_linear_binary_kl_norm_T" + std::to_string(T));
    check_fixture("dhkd_mlp_binary_kl_norm_T" + std::to_string(T));
    check_fixture("dhkd_linear_binary_kl_T" + std::to_string(T));
  }
}

TEST_CASE("dhkd: the head's parameters carry the reference's names") {
  auto linear = distill::make_objective("dhkd", {{"head", "linear"}},
                                        {{"student.pooled", {4, 8}}, {"teacher.logits", {4, 3}}});
  std::vector<std::string> names;
  for (const auto& [name, t] : linear->named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"fc2.weight", "fc2.bias"});
  auto mlp = distill::make_objective("dhkd", {}, {{"student.pooled", {4, 8}},
                                                  {"teacher.logits", {4, 3}}});
  names.clear();
  for (const auto& [name, t] : mlp->state_dict()) names.push_back(name);
  CHECK(names == std::vector<std::string>{
                     "fc2.net.0.weight", "fc2.net.0.bias", "fc2.net.2.weight", "fc2.net.2.bias",
                     "fc2.net.2.running_mean", "fc2.net.2.running_var",
                     "fc2.net.2.num_batches_tracked", "fc2.net.4.weight", "fc2.net.4.bias"});
  CHECK(mlp->tensor_at("fc2.net.0.weight").sizes() == Shape{200, 8});
  CHECK(mlp->tensor_at("fc2.net.4.weight").sizes() == Shape{3, 200});
}

TEST_CASE("dhkd: errors name the objective and the shapes") {
  distill::Shapes shapes{{"student.pooled", {2, 5}}, {"teacher.logits", {2, 3}}};
  auto objective = distill::make_objective("dhkd", {{"head", "linear"}}, shapes);
  check_error([&] {
    distill::evaluate(*objective, dhkd_inputs(randn({2, 6}), randn({2, 3})));
  }, {"dhkd", "[2, 6]", "[2, 3]"});
  check_error([&] {
    distill::evaluate(*objective, dhkd_inputs(randn({2, 5}), randn({3, 3})));
  }, {"dhkd", "[2, 5]", "[3, 3]"});
  check_error([&] {
    distill::evaluate(*objective, distill::Inputs({{"student.pooled", randn({2, 5})}}));
  }, {"dhkd", "teacher.logits", "missing"});
  check_error([&] { distill::make_objective("dhkd", {{"head", "conv"}}); }, {"dhkd", "head", "conv"});
  check_error([&] { distill::make_objective("dhkd", {{"loss", "kl"}}); }, {"dhkd", "loss", "kl"});
  check_error([&] { distill::make_objective("dhkd", {{"T", "0"}}); }, {"dhkd", "T"});
  check_error([&] { distill::make_objective("dhkd", {{"features", "4"}}, shapes); },
              {"dhkd", "features", "student.pooled", "[2, 5]"});
  auto unsized = distill::make_objective("dhkd");
  check_error([&] {
    distill::evaluate(*unsized, dhkd_inputs(randn({2, 5}), randn({2, 3})));
  }, {"dhkd", "sizes are unknown"});
}

TEST_CASE("dhkd: gradient alignment matches OptimGradAlign on a two-head model") {
  for (const char* kind : {"conflict", "agree"}) {
    INFO(kind);
    SafetensorsContents f = load_safetensors(
        (fixture_path("distill") / (std::string("gradient_alignment_") + kind + ".safetensors"))
            .string());
    const Tensor& x = f.tensors.at("input.x");
    const Tensor& y = f.tensors.at("input.labels");
    const Tensor& zt = f.tensors.at("input.teacher_logits");
    const double gamma = std::stod(f.metadata.at("gamma")), alpha = std::stod(f.metadata.at("alpha"));
    const int64_t d_in = x.size(1), d = f.tensors.at("param.fc.weight").size(1),
                  c = zt.size(1);
    nn::Linear backbone(d_in, d), fc(d, c), unused(2, 2);
    auto objective = distill::make_objective(
        "dhkd", {{"head", "linear"}, {"T", f.metadata.at("T")}, {"alpha", "1"}},
        {{"student.pooled", {x.size(0), d}}, {"teacher.logits", zt.sizes()}});
    std::vector<std::pair<std::string, nn::Module*>> modules{
        {"backbone", &backbone}, {"fc", &fc}, {"", objective.get()}, {"unused", &unused}};
    std::vector<std::pair<std::string, Tensor>> params;
    for (auto& [prefix, m] : modules) {
      m->to(DType::f64);
      for (auto& [name, p] : m->named_parameters()) {
        std::string full = prefix.empty() ? name : prefix + "." + name;
        p.detach().copy_raw_(f.tensors.at("param." + full));
        params.emplace_back(full, p);
      }
    }
    Tensor h = relu(backbone(x));
    Tensor loss_ce = cross_entropy(fc(h), y) * gamma;
    Tensor loss_kd =
        objective->compute(distill::Inputs({{"student.pooled", h}, {"teacher.logits", zt}}), {})
            .loss * alpha;
    std::vector<Tensor> tensors;
    for (auto& [name, p] : params) tensors.push_back(p);
    distill::Alignment a = distill::align_gradients(tensors, loss_ce, loss_kd);
    CHECK(a.projected == (std::string(kind) == "conflict"));
    CHECK(a.dot == doctest::Approx(f.tensors.at("dot").item()).epsilon(1e-9));
    for (auto& [name, p] : params) {
      INFO("parameter ", name);
      REQUIRE(p.grad().defined());
      check_close(p.grad(), f.tensors.at("grad." + name), 1e-9, 1e-7);
    }
  }
}

TEST_CASE("dhkd: gradient alignment projects g_KD onto the normal plane of g_CE") {
  // One parameter w in R^2: L_CE = <(1, 0), w>, L_KD = <(-1, 1), w>: g_CE = (1, 0),
  // g_KD = (-1, 1), <g_KD, g_CE> = -1 < 0, so g_KD becomes (0, 1) and w.grad = (1, 1).
  Tensor w = tensor({0.3, -0.2}).to(DType::f64).requires_grad_();
  Tensor ce = (w * tensor({1.0, 0.0}).to(DType::f64)).sum();
  Tensor kd = (w * tensor({-1.0, 1.0}).to(DType::f64)).sum();
  distill::Alignment a = distill::align_gradients({w}, ce, kd);
  CHECK(a.projected);
  CHECK(a.dot == doctest::Approx(-1));
  check_close(w.grad(), tensor({1.0, 1.0}).to(DType::f64), 1e-12, 0);
  // No conflict: the plain sum.
  Tensor v = tensor({0.3, -0.2}).to(DType::f64).requires_grad_();
  distill::Alignment b = distill::align_gradients(
      {v}, (v * tensor({1.0, 0.0}).to(DType::f64)).sum(),
      (v * tensor({1.0, 2.0}).to(DType::f64)).sum());
  CHECK(!b.projected);
  check_close(v.grad(), tensor({2.0, 2.0}).to(DType::f64), 1e-12, 0);
  check_error([&] { distill::align_gradients({tensor({1.0})}, ce, kd); },
              {"align_gradients", "does not require grad"});
}
