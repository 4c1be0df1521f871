// models::fuse_for_inference on the ResNets: the folded (and conv2d_relu-fused) eval forward
// equals the unfolded one within the f32 bound of DESIGN.md (normalized MSE <= 1e-7) and 1e-5
// relative, channels-last and NCHW, the unfolded state dict is untouched, and a model in training
// is refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "engine/ops/kernel_profile.h"
#include "engine/ops/ops.h"
#include "engine/optim/sgd.h"
#include "models/registry.h"
#include "models/resnet.h"
#include "support/backend_compare.h"
#include "support/op_test.h"

using namespace tutor;

namespace {

// Every BatchNorm's statistics and affine parameters moved away from their init (weight 1, bias 0,
// mean 0, var 1), where folding would be nearly the identity.
void randomize_batch_norms(nn::Module& model, uint64_t seed) {
  NoGradGuard no_grad;
  Generator gen(seed);
  for (const auto& [name, m] : model.named_modules())
    if (auto* bn = dynamic_cast<nn::BatchNorm*>(m.get())) {
      const int64_t c = bn->num_features;
      bn->running_mean.copy_(mul(randn({c}, DType::f32, &gen), 0.1));
      bn->running_var.copy_(add(rand({c}, DType::f32, &gen), 0.5));
      bn->weight.copy_(add(mul(randn({c}, DType::f32, &gen), 0.2), 1.0));
      bn->bias.copy_(mul(randn({c}, DType::f32, &gen), 0.1));
    }
}

using ModelFactory = std::function<std::shared_ptr<models::Model>()>;

// Folds a model from `make` and checks its eval logits (and a pre-activation tap, which the fused
// blocks leave to the unfused path) against the unfolded model's: normalized MSE within DESIGN.md's
// f32 bound and every logit within rtol relative (1e-6 absolute near zero). The folded forward
// runs its BatchNorm-free blocks through conv2d_relu (conv -> ReLU, conv -> add -> ReLU). Once in
// the model's own layout (channels-last on the CPU), once kept NCHW.
void check_fused(const ModelFactory& make, const Shape& input, int64_t expected_pairs,
                 const std::string& preact_tap, double rtol = 1e-5) {
  for (bool nchw : {false, true}) {
    std::shared_ptr<models::Model> model = make();
    INFO(model->name(), nchw ? " (NCHW)" : " (channels-last)");
    randomize_batch_norms(*model, 1);
    model->eval();
    std::optional<ops::ContiguousOnlyGuard> contiguous;
    if (nchw) contiguous.emplace();
    const Tensor x = testing::randn_f32(input, 2);
    NoGradGuard no_grad;
    models::Taps expected_taps{preact_tap};
    const Tensor expected = model->forward(x, &expected_taps);
    NamedTensors before;
    for (const auto& [key, t] : model->state_dict()) before.emplace_back(key, t.clone());
    const NamedTensors shared = model->state_dict();

    CHECK(models::fuse_for_inference(*model) == expected_pairs);
    const Tensor folded = model->forward(x);
    CHECK(testing::nmse(folded, expected) <= testing::kBound);
    testing::check_close(folded, expected, 1e-6, rtol);
    models::Taps taps{preact_tap};
    testing::check_close(model->forward(x, &taps), expected, 1e-6, rtol);
    CHECK(testing::nmse(taps.at(preact_tap), expected_taps.at(preact_tap)) <= testing::kBound);
    REQUIRE(shared.size() == before.size());
    for (size_t i = 0; i < before.size(); ++i) {
      INFO(before[i].first);
      CHECK(testing::nmse(shared[i].second, before[i].second) == 0);
    }
  }
}

ModelFactory named(const std::string& name, const models::ModelOptions& options) {
  return [=] { return models::create_model(name, options); };
}

}  // namespace

TEST_CASE("fuse_for_inference: resnet8 folds every conv -> BN and keeps its eval logits") {
  // stem + 3 stages x 1 block x 2 convs + 2 downsamples
  check_fused(named("resnet8", {.num_classes = 10, .in_channels = 1}), {3, 1, 28, 28}, 9,
              "layer3_preact");
}

TEST_CASE("fuse_for_inference: resnet18 folds every conv -> BN and keeps its eval logits") {
  // stem + 8 blocks x 2 convs + 3 downsamples
  // 1e-4 relative: 18 layers of f32 rounding, folded and not (2e-5 seen)
  check_fused(named("resnet18", {.num_classes = 10}), {1, 3, 64, 64}, 20, "stem_preact", 1e-4);
}

TEST_CASE("fuse_for_inference: a bottleneck ResNet keeps its eval logits") {
  models::ResNetConfig c;
  c.name = "bottleneck_mini";
  c.block = models::ResNetConfig::Block::bottleneck;
  c.stem_width = 8;
  c.planes = {4, 8};
  c.blocks = {2, 1};
  c.num_classes = 7;
  // stem + 3 blocks x 3 convs + 2 downsamples (widths 8 -> 16, 16 -> 32)
  check_fused([c] { return std::make_shared<models::ResNet>(c); }, {2, 3, 37, 33}, 12,
              "layer1_preact");
}

TEST_CASE("fuse_for_inference: refuses a model in training mode; a folded model stays inference") {
  auto model = models::create_model("resnet8", {.num_classes = 10, .in_channels = 1});
  testing::check_error([&] { models::fuse_for_inference(*model); },
                       {"fuse_for_inference", "resnet8", "training mode"});
  model->eval();
  models::fuse_for_inference(*model);
  model->train();
  testing::check_error([&] { model->forward(zeros({2, 1, 28, 28})); }, {"folded", "training"});
}

TEST_CASE("fuse_for_inference: a model without conv -> BN pairs is left as it is") {
  auto model = models::create_model("vit_micro_p4_28");
  model->eval();
  CHECK(models::fuse_for_inference(*model) == 0);
}

// Training runs each BN -> ReLU as one batch_norm_relu: two SGD steps of resnet8 leave the same
// parameters and running statistics as with every fused op unfused (ops::UnfusedGuard:
// batch_norm then relu), channels-last and NCHW. On the CPU the fused kernel is batch_norm's with
// the ReLU applied in the pass that writes y and the mask in the passes that read g, the same
// float and double arithmetic in the same order, so the two runs agree bit for bit; the kernel
// profile shows which op ran (stem + 3 blocks: 4 per step, forward and backward).
TEST_CASE("resnet8 training with batch_norm_relu equals the unfused steps") {
  for (bool nchw : {false, true}) {
    INFO((nchw ? "NCHW" : "channels-last"));
    std::optional<ops::ContiguousOnlyGuard> contiguous;
    if (nchw) contiguous.emplace();
    const Tensor x = testing::randn_f32({16, 1, 28, 28}, 3);
    Generator gen(4);
    const Tensor labels = randint(0, 10, {16}, DType::i64, &gen);
    auto two_steps = [&](bool unfused, int64_t expected_calls) {
      std::optional<ops::UnfusedGuard> guard;
      if (unfused) guard.emplace();
      manual_seed(5);
      auto model = models::create_model("resnet8", {.num_classes = 10, .in_channels = 1});
      model->train();
      optim::SGD sgd(model->parameters(), {.lr = 0.05, .momentum = 0.9, .weight_decay = 5e-4});
      ops::KernelProfile profile;
      for (int step = 0; step < 2; ++step) {
        Tensor loss = cross_entropy(model->forward(x), labels);
        sgd.zero_grad();
        loss.backward();
        sgd.step();
      }
      std::map<std::string, int64_t> calls;
      for (const ops::KernelTime& t : profile.times()) calls[t.kernel] += t.calls;
      CHECK(calls["batch_norm_relu"] == expected_calls);
      CHECK(calls["batch_norm_relu_backward"] == expected_calls);
      return model->state_dict();
    };
    const NamedTensors fused = two_steps(false, 8), unfused = two_steps(true, 0);
    REQUIRE(fused.size() == unfused.size());
    for (size_t i = 0; i < fused.size(); ++i) {
      INFO(fused[i].first);
      if (!is_floating(fused[i].second.dtype())) continue;
      CHECK(testing::nmse(fused[i].second, unfused[i].second) == 0.0);
      testing::check_close(fused[i].second, unfused[i].second, 0.0, 0.0);
    }
  }
}
