// Whole-model parity with PyTorch 1.13 (DESIGN.md, numerics: step-0 logits 1e-4, parameter
// gradients 1e-4 abs + 1e-3 rel, 10-step SGD losses 1e-4), in eval and train mode, against the
// committed golden files of tools/golden/make_resnet_fixtures.py (its docstring lists the tensors):
//   resnet8  (8x1x28x28, 10 classes)   tests/fixtures/models/resnet8_parity.safetensors: the
//            initial weights and every parameter gradient in full.
//   resnet18 (4x3x48x48, 10 classes)   tests/fixtures/models/resnet18_parity.safetensors: no
//            weights, which both sides compute from a closed form of each key and flat index
//            (formula_state below, formula_state in the script); the full gradient of every
//            parameter of at most 10000 elements, and for the larger ones the gradient at 1024
//            formula-chosen elements (the elementwise bound) and its L1 and L2 norms (the bounds
//            the elementwise one implies).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "engine/optim/sgd.h"
#include "models/registry.h"
#include "support/op_test.h"

using namespace tutor;

namespace {

constexpr double kLogitsAtol = 1e-4;
constexpr double kGradAtol = 1e-4, kGradRtol = 1e-3;
constexpr double kLossAtol = 1e-4;

// The tensors under "prefix." with the prefix dropped, in file-name order.
nn::NamedTensors with_prefix(const std::map<std::string, Tensor>& file, const std::string& prefix) {
  nn::NamedTensors out;
  for (const auto& [name, t] : file)
    if (name.rfind(prefix + ".", 0) == 0) out.emplace_back(name.substr(prefix.size() + 1), t);
  return out;
}

const Tensor& get(const std::map<std::string, Tensor>& file, const std::string& name) {
  auto it = file.find(name);
  REQUIRE_MESSAGE(it != file.end(), "the fixture has no tensor ", name);
  return it->second;
}

// ---- the closed-form initial weights of the resnet18 fixture (the script's formula_state) ----

// Two multiply-xorshift rounds on 32 bits, as the script's mix32.
uint64_t mix32(uint64_t x) {
  x = (((x >> 16) ^ x) * 0x45D9F3Bu) & 0xFFFFFFFFu;
  x = (((x >> 16) ^ x) * 0x45D9F3Bu) & 0xFFFFFFFFu;
  return (x >> 16) ^ x;
}

uint64_t fnv1a32(const std::string& text) {
  uint64_t h = 2166136261u;
  for (unsigned char b : text) h = ((h ^ b) * 16777619u) & 0xFFFFFFFFu;
  return h;
}

uint64_t formula_hash(const std::string& key, uint64_t i) { return mix32(mix32(i) ^ fnv1a32(key)); }

// In [-1, 1), exact in f64.
double formula_uniform(const std::string& key, uint64_t i) {
  return (double(formula_hash(key, i)) - 2147483648.0) / 2147483648.0;
}

Tensor formula_value(const std::string& key, const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  auto ends_with = [&](const char* suffix) { return key.ends_with(suffix); };
  if (ends_with("num_batches_tracked")) return zeros(shape, DType::i64);
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double u = formula_uniform(key, uint64_t(i));
    double x;
    if (ends_with("running_mean"))
      x = u * 0.1;
    else if (ends_with("running_var"))
      x = 1.0 + u * 0.5;
    else if (shape.size() == 4)
      x = u * std::sqrt(6.0 / double(shape[1] * shape[2] * shape[3]));
    else if (shape.size() == 2)
      x = u * (1.0 / std::sqrt(double(shape[1])));
    else if (shape.size() == 1 && ends_with(".weight"))
      x = 1.0 + u * 0.25;
    else if (shape.size() == 1 && ends_with(".bias"))
      x = u * 0.1;
    else
      throw std::logic_error("no formula for " + key);
    v[size_t(i)] = float(x);
  }
  return from_vector(v, shape);
}

// Every entry of `model`'s state dict from the formula, checked against the fixture's f64 sums.
nn::NamedTensors formula_state(const nn::Module& model, const std::map<std::string, Tensor>& file) {
  nn::NamedTensors state;
  for (const auto& [key, t] : model.state_dict()) {
    CAPTURE(key);
    Tensor v = formula_value(key, t.sizes());
    double sum = 0;
    for (double x : v.to_vector<double>()) sum += x;
    const double expected = get(file, "initsum." + key).item<double>();
    CHECK(std::fabs(sum - expected) <= 1e-9 + 1e-12 * std::fabs(expected));
    state.emplace_back(key, v);
  }
  CHECK(state.size() == with_prefix(file, "initsum").size());
  return state;
}

// A parameter's gradient against whatever the fixture holds for it: the full gradient, or its
// values at the formula's sample indices; and its L1 and L2 norms, within the bounds that the
// elementwise bound |g - g_ref| <= atol + rtol |g_ref| implies:
//   |L1 - L1_ref| <= n atol + rtol L1_ref,   |L2 - L2_ref| <= sqrt(n) atol + rtol L2_ref.
void check_gradient(const std::map<std::string, Tensor>& file, const std::string& name,
                    const Tensor& grad) {
  CAPTURE(name);
  const std::vector<double> g = grad.to_vector<double>();
  const uint64_t n = g.size();
  if (file.count("grad." + name)) {
    testing::check_close(grad, get(file, "grad." + name), kGradAtol, kGradRtol);
  } else {
    const std::vector<double> expected = get(file, "gradsample." + name).to_vector<double>();
    std::vector<double> sampled;
    for (uint64_t j = 0; j < expected.size(); ++j)
      sampled.push_back(g[formula_hash(name + "#sample", j) % n]);
    testing::check_close(from_vector(sampled), from_vector(expected), kGradAtol, kGradRtol);
  }
  auto norms = file.find("gradnorms." + name);
  if (norms == file.end()) return;
  double l1 = 0, l2 = 0;
  for (double x : g) {
    l1 += std::fabs(x);
    l2 += x * x;
  }
  l2 = std::sqrt(l2);
  const std::vector<double> ref = norms->second.to_vector<double>();
  REQUIRE(ref.size() == 2);
  CHECK(std::fabs(l1 - ref[0]) <= double(n) * kGradAtol + kGradRtol * ref[0]);
  CHECK(std::fabs(l2 - ref[1]) <= std::sqrt(double(n)) * kGradAtol + kGradRtol * ref[1]);
}

// formula_init: the initial state dict from the closed form, else the fixture's init.*.
void check_parity(const std::filesystem::path& path, const std::string& model,
                  const models::ModelOptions& options, bool formula_init = false) {
  const auto file = load_safetensors(path.string()).tensors;
  const Tensor& x = get(file, "input");
  const Tensor& labels = get(file, "labels");
  auto m = models::create_model(model, options);
  // strict: every key of PyTorch's state dict, and no other
  m->load_state_dict(formula_init ? formula_state(*m, file) : with_prefix(file, "init"));

  SUBCASE("eval-mode logits and taps") {
    m->eval();
    NoGradGuard no_grad;
    testing::check_close(m->forward(x), get(file, "logits_eval"), kLogitsAtol, 0);
    const nn::NamedTensors expected = with_prefix(file, "taps");
    std::vector<std::string> names;
    for (const auto& [name, t] : expected) names.push_back(name);
    CHECK(names.size() == m->tap_names().size() - 1);  // every tap but logits
    models::Taps taps(names);
    const Tensor head = x.narrow(0, 0, expected.front().second.size(0));
    m->forward(head, &taps);
    for (const auto& [name, t] : expected) {
      CAPTURE(name);
      testing::check_close(taps.at(name), t, kGradAtol, kGradRtol);
    }
  }

  SUBCASE("train-mode logits, loss, every parameter gradient, running statistics") {
    m->train();
    Tensor logits = m->forward(x);
    testing::check_close(logits, get(file, "logits_train"), kLogitsAtol, 0);
    Tensor loss = cross_entropy(logits, labels);
    testing::check_close(loss, get(file, "loss"), kLossAtol, 0);
    loss.backward();
    const nn::NamedTensors params = m->named_parameters();
    CHECK(params.size() ==
          with_prefix(file, "grad").size() + with_prefix(file, "gradsample").size());
    for (const auto& [name, p] : params) {
      CAPTURE(name);
      REQUIRE(p.grad().defined());
      check_gradient(file, name, p.grad());
    }
    const nn::NamedTensors after = with_prefix(file, "after");
    CHECK(!after.empty());
    for (const auto& [name, t] : after) {
      CAPTURE(name);
      testing::check_close(m->tensor_at(name), t, 1e-5, 1e-4);
    }
  }

  SUBCASE("10 steps of SGD with momentum: the losses") {
    m->train();
    optim::SGD sgd(m->parameters(), {.lr = 0.01, .momentum = 0.9});
    const std::vector<double> expected = get(file, "sgd_losses").to_vector<double>();
    REQUIRE(expected.size() == 10);
    for (size_t step = 0; step < expected.size(); ++step) {
      CAPTURE(step);
      sgd.zero_grad();
      Tensor loss = cross_entropy(m->forward(x), labels);
      CHECK(std::fabs(loss.item<double>() - expected[step]) <= kLossAtol);
      loss.backward();
      sgd.step();
    }
  }
}

}  // namespace

TEST_CASE("models: resnet8 (8x1x28x28) matches PyTorch, eval and train, 10 SGD steps") {
  const auto path = testing::fixture_path("models") / "resnet8_parity.safetensors";
  check_parity(path, "resnet8", {.num_classes = 10, .in_channels = 1});
}

TEST_CASE(
    "models: torchvision resnet18 (4x3x48x48) matches PyTorch, eval and train, 10 SGD steps") {
  const auto path = testing::fixture_path("models") / "resnet18_parity.safetensors";
  check_parity(path, "resnet18", {.num_classes = 10}, /*formula_init=*/true);
}
