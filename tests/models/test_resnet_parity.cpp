// Whole-model parity with PyTorch 1.13 (DESIGN.md, numerics: step-0 logits 1e-4, every parameter
// gradient 1e-4 abs + 1e-3 rel, 10-step SGD losses 1e-4). The golden files come from
// tools/golden/make_resnet_fixtures.py (its docstring lists the tensors):
//   resnet8  (1x28x28, 10 classes)  tests/fixtures/models/resnet8_parity.safetensors, committed
//   resnet18 (2x3x48x48, 10 classes)  91 MB, not committed: made by
//            /usr/bin/python3 tools/golden/make_resnet_fixtures.py --resnet18 build/fixtures
//            and read from $TUTOR_RESNET18_FIXTURE_DIR, else <build dir>/fixtures; the test says
//            it is skipped when the file is absent.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <map>

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

void check_parity(const std::filesystem::path& path, const std::string& model,
                  const models::ModelOptions& options) {
  const auto file = load_safetensors(path.string()).tensors;
  const Tensor& x = get(file, "input");
  const Tensor& labels = get(file, "labels");
  const nn::NamedTensors init = with_prefix(file, "init");
  auto m = models::create_model(model, options);
  m->load_state_dict(init);  // strict: every key of PyTorch's state dict, and no other

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
    CHECK(params.size() == with_prefix(file, "grad").size());
    for (const auto& [name, p] : params) {
      CAPTURE(name);
      REQUIRE(p.grad().defined());
      testing::check_close(p.grad(), get(file, "grad." + name), kGradAtol, kGradRtol);
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
  const auto path = testing::fixture_path("models") /
                    "resnet8_parity.safetensors";
  check_parity(path, "resnet8", {.num_classes = 10, .in_channels = 1});
}

TEST_CASE("models: torchvision resnet18 (2x3x48x48) matches PyTorch, eval and train, 10 SGD steps") {
  const char* dir = std::getenv("TUTOR_RESNET18_FIXTURE_DIR");
  const auto path = std::filesystem::path(dir != nullptr ? dir : TUTOR_BINARY_DIR "/fixtures") /
                    "resnet18_parity.safetensors";
  if (!std::filesystem::exists(path)) {
    MESSAGE("skipped: no ", path.string(),
            " (make it with /usr/bin/python3 tools/golden/make_resnet_fixtures.py --resnet18 "
            "<build dir>/fixtures, or set TUTOR_RESNET18_FIXTURE_DIR)");
    return;
  }
  check_parity(path, "resnet18", {.num_classes = 10});
}
