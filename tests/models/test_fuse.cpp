// models::fuse_for_inference on the ResNets: the folded eval forward equals the unfolded one within
// the f32 bound of DESIGN.md (normalized MSE <= 1e-7), the unfolded state dict is untouched, and
// a model in training is refused.
#include <doctest/doctest.h>

#include "engine/ops/ops.h"
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

void check_fused(const std::string& name, const models::ModelOptions& options, const Shape& input,
                 int64_t expected_pairs) {
  INFO(name);
  auto model = models::create_model(name, options);
  randomize_batch_norms(*model, 1);
  model->eval();
  const Tensor x = testing::randn_f32(input, 2);
  NoGradGuard no_grad;
  const Tensor expected = model->forward(x);
  NamedTensors before;
  for (const auto& [key, t] : model->state_dict()) before.emplace_back(key, t.clone());
  const NamedTensors shared = model->state_dict();

  CHECK(models::fuse_for_inference(*model) == expected_pairs);
  const Tensor folded = model->forward(x);
  CHECK(testing::nmse(folded, expected) <= testing::kBound);
  REQUIRE(shared.size() == before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    INFO(before[i].first);
    CHECK(testing::nmse(shared[i].second, before[i].second) == 0);
  }
}

}  // namespace

TEST_CASE("fuse_for_inference: resnet8 folds every conv -> BN and keeps its eval logits") {
  // stem + 3 stages x 1 block x 2 convs + 2 downsamples
  check_fused("resnet8", {.num_classes = 10, .in_channels = 1}, {3, 1, 28, 28}, 9);
}

TEST_CASE("fuse_for_inference: resnet18 folds every conv -> BN and keeps its eval logits") {
  // stem + 8 blocks x 2 convs + 3 downsamples
  check_fused("resnet18", {.num_classes = 10}, {1, 3, 64, 64}, 20);
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
