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
#include <stdexcept>

#include "engine/ops/ops.h"
#include "model_test.h"
#include "models/registry.h"
#include "support/op_test.h"

using namespace tutor;
using testing::FileTensors;
using testing::formula_hash;
using testing::get;

namespace {

// ---- the closed-form initial weights of the resnet18 fixture (the script's formula_state) ----

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
nn::NamedTensors formula_state(const nn::Module& model, const FileTensors& file) {
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
  CHECK(state.size() == testing::with_prefix(file, "initsum").size());
  return state;
}

}  // namespace

TEST_CASE("models: resnet8 (8x1x28x28) matches PyTorch, eval and train, 10 SGD steps") {
  const auto path = testing::fixture_path("models") / "resnet8_parity.safetensors";
  testing::check_parity(
      path, [] { return models::create_model("resnet8", {.num_classes = 10, .in_channels = 1}); });
}

TEST_CASE(
    "models: torchvision resnet18 (4x3x48x48) matches PyTorch, eval and train, 10 SGD steps") {
  const auto path = testing::fixture_path("models") / "resnet18_parity.safetensors";
  testing::check_parity(
      path, [] { return models::create_model("resnet18", {.num_classes = 10}); },
      {.initial_state = formula_state});
}
