// ResNets: state dicts and parameter counts against PyTorch's (tests/fixtures/models/
// state_dicts.txt, written by tools/golden/make_resnet_fixtures.py) and the spec's §A7.1, output
// and tap shapes, taps against values recomputed from the layers, initialization, options, a
// gradient check through both block types, the registry, and a state dict through safetensors.
#include <doctest/doctest.h>

#include <map>

#include "engine/nn/nn.h"
#include "model_test.h"
#include "models/registry.h"
#include "models/resnet.h"
#include "support/op_test.h"

using namespace tutor;
using models::ModelOptions;

namespace {}  // namespace

TEST_CASE("models: every ResNet's state dict and parameter count equal PyTorch's") {
  // shared/spec/models-and-transformer-kd.md §A7.1 (torchvision at 1000 classes) and §A2.1 (CIFAR
  // at 100 classes).
  const std::map<std::string, int64_t> spec{
      {"resnet18", 11689512}, {"resnet34", 21797672}, {"resnet50", 25557032},
      {"resnet8", 83892},     {"resnet14", 181108},   {"resnet20", 278324},
      {"resnet32", 472756},   {"resnet44", 667188},   {"resnet56", 861620},
      {"resnet110", 1736564}, {"resnet8x4", 1233540}, {"resnet32x4", 7433860}};
  const auto pytorch = testing::pytorch_listings("state_dicts.txt");
  CHECK(pytorch.size() == spec.size());
  for (const auto& [name, count] : spec) {
    CAPTURE(name);
    REQUIRE(pytorch.count(name) == 1);
    auto m = models::create_model(name);
    CHECK(m->num_parameters() == count);
    CHECK(pytorch.at(name).num_parameters == count);
    testing::check_listing(*m, pytorch.at(name));
  }
}

TEST_CASE("models: ResNet options change the stem's input channels and the head's classes") {
  auto m = models::resnet18({.num_classes = 10, .in_channels = 1});
  CHECK(m->conv1->weight.sizes() == Shape{64, 1, 7, 7});
  CHECK(m->fc->weight.sizes() == Shape{10, 512});
  // 11,689,512 - 64*3*49 - 1000*513 + 64*1*49 + 10*513
  CHECK(m->num_parameters() == 11689512 - 64 * 2 * 49 - 990 * 513);
  auto w = models::cifar_resnet(8, true, {.num_classes = 10});
  CHECK(w->conv1->weight.sizes() == Shape{32, 3, 3, 3});
  CHECK(w->fc->weight.sizes() == Shape{10, 256});
  CHECK(w->feature_dim() == 256);
  testing::check_error(
      [&] {
        w->forward(testing::randn_input({2, 1, 32, 32}, 1));
      },
      {"resnet8x4", "expected an input [N, 3, H, W]", "[2, 1, 32, 32]"});
  testing::check_error(
      [&] {
        w->forward(testing::randn_input({3, 32, 32}, 1));
      },
      {"resnet8x4", "[3, 32, 32]"});
  testing::check_error([] { models::cifar_resnet(10, false); }, {"resnet10", "6n + 2", "10"});
  testing::check_error([] { models::resnet18({.num_classes = 0}); }, {"resnet18", "num_classes 0"});
}

TEST_CASE("models: ResNet output and tap shapes, torchvision and CIFAR stems") {
  struct Case {
    std::string name;
    ModelOptions options;
    Shape input;
    std::map<std::string, Shape> taps;
  };
  const std::vector<Case> cases{
      // 1x28x28 (shared/spec/benchmarks.md): 28 -> 28 -> 14 -> 7.
      {"resnet8",
       {10, 1},
       {2, 1, 28, 28},
       {{"stem_preact", {2, 16, 28, 28}},
        {"stem", {2, 16, 28, 28}},
        {"layer1_preact", {2, 16, 28, 28}},
        {"layer1", {2, 16, 28, 28}},
        {"layer2", {2, 32, 14, 14}},
        {"layer3_preact", {2, 64, 7, 7}},
        {"layer3", {2, 64, 7, 7}},
        {"pooled", {2, 64}},
        {"logits", {2, 10}}}},
      {"resnet8x4",
       {},
       {1, 3, 32, 32},
       {{"stem", {1, 32, 32, 32}},
        {"layer1", {1, 64, 32, 32}},
        {"layer2", {1, 128, 16, 16}},
        {"layer3", {1, 256, 8, 8}},
        {"pooled", {1, 256}},
        {"logits", {1, 100}}}},
      // 32 -> conv1 16 -> maxpool 8 -> 8, 4, 2, 1.
      {"resnet18",
       {10, 3},
       {2, 3, 32, 32},
       {{"stem_preact", {2, 64, 16, 16}},
        {"stem", {2, 64, 16, 16}},
        {"layer1", {2, 64, 8, 8}},
        {"layer2", {2, 128, 4, 4}},
        {"layer3", {2, 256, 2, 2}},
        {"layer4_preact", {2, 512, 1, 1}},
        {"layer4", {2, 512, 1, 1}},
        {"pooled", {2, 512}},
        {"logits", {2, 10}}}},
      {"resnet50",
       {},
       {1, 3, 32, 32},
       {{"layer1", {1, 256, 8, 8}},
        {"layer4", {1, 2048, 1, 1}},
        {"pooled", {1, 2048}},
        {"logits", {1, 1000}}}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    auto m = models::create_model(c.name, c.options);
    m->eval();
    std::vector<std::string> names;
    for (const auto& [name, shape] : c.taps) names.push_back(name);
    models::Taps taps(names);
    Tensor x = testing::randn_input(c.input, 3);
    Tensor logits = m->forward(x, &taps);
    CHECK(taps.tensors().size() == c.taps.size());  // only what was asked
    for (const auto& [name, shape] : c.taps) {
      CAPTURE(name);
      CHECK(taps.at(name).sizes() == shape);
    }
    testing::check_close(taps.at("logits"), logits, 0, 0);
    testing::check_close(m->forward(x), logits, 0, 0);  // the untapped forward is the same
  }
}

TEST_CASE("models: ResNet taps are the values the layers give") {
  // resnet8 has one block per stage, so each stage's taps follow from that block's layers.
  auto m = models::cifar_resnet(8, false, {.num_classes = 10, .in_channels = 1});
  m->eval();
  CHECK(m->tap_names() == std::vector<std::string>{"stem_preact", "stem", "layer1_preact", "layer1",
                                                   "layer2_preact", "layer2", "layer3_preact",
                                                   "layer3", "pooled", "logits"});
  models::Taps taps(m->tap_names());
  Tensor x = testing::randn_input({2, 1, 12, 12}, 5);
  Tensor logits = m->forward(x, &taps);
  auto expect = [&](const std::string& name, const Tensor& value) {
    CAPTURE(name);
    testing::check_close(taps.at(name), value, 1e-6, 1e-5);
  };
  expect("stem_preact", m->bn1->forward(m->conv1->forward(x)));
  expect("stem", taps.at("stem_preact").relu());
  Tensor in = taps.at("stem");
  for (int k = 1; k <= 3; ++k) {
    auto block = m->layers[size_t(k - 1)]->at<models::BasicBlock>(0);
    Tensor branch = block->bn2->forward(
        block->conv2->forward(block->bn1->forward(block->conv1->forward(in)).relu()));
    Tensor identity = block->downsample ? block->downsample->forward(in) : in;
    CHECK((block->downsample != nullptr) == (k > 1));
    expect(fmt::format("layer{}_preact", k), branch + identity);
    expect(fmt::format("layer{}", k), taps.at(fmt::format("layer{}_preact", k)).relu());
    in = taps.at(fmt::format("layer{}", k));
  }
  expect("pooled", in.mean({2, 3}));
  expect("logits", m->fc->forward(taps.at("pooled")));
  testing::check_close(logits, taps.at("logits"), 0, 0);
  CHECK(m->bn_before_relu().size() == 3);
  CHECK(m->bn_before_relu()[2].get() == m->layers[2]->at<models::BasicBlock>(-1)->bn2.get());
}

TEST_CASE("models: unknown taps are an error listing the valid ones") {
  auto m = models::create_model("resnet20", {.num_classes = 10, .in_channels = 1});
  models::Taps taps{"layer3", "layer4", "feats"};
  testing::check_error(
      [&] {
        m->forward(testing::randn_input({1, 1, 8, 8}, 1), &taps);
      },
      {"resnet20", "unknown taps layer4, feats", "valid taps:", "stem_preact, stem, layer1_preact",
       "pooled, logits"});
  testing::check_error([] { models::Taps{"pooled", "pooled"}; }, {"'pooled' is requested twice"});
  models::Taps asked{"pooled"};
  testing::check_error([&] { asked.at("pooled"); }, {"'pooled'", "has not run"});
  testing::check_error([&] { asked.at("stem"); }, {"'stem'", "not requested"});
}

TEST_CASE("models: ResNet initialization is the reference's") {
  manual_seed(11);
  auto m = models::resnet18();
  // kaiming_normal_(fan_out, relu): std = sqrt(2 / (out_channels * kH * kW)).
  for (const char* path : {"layer4.1.conv2.weight", "layer3.0.downsample.0.weight"}) {
    CAPTURE(path);
    Tensor w = m->tensor_at(path);
    const double fan_out = double(w.size(0) * w.size(2) * w.size(3));
    std::vector<double> v = w.to_vector<double>();
    double mean = 0, var = 0;
    for (double e : v) mean += e;
    mean /= double(v.size());
    for (double e : v) var += (e - mean) * (e - mean);
    var /= double(v.size());
    CHECK(std::fabs(mean) < 3 * std::sqrt(2 / fan_out / double(v.size())) + 1e-12);
    CHECK(var / (2 / fan_out) == doctest::Approx(1).epsilon(0.01));
  }
  for (const auto& [name, t] : m->state_dict()) {
    CAPTURE(name);
    if (name.find("bn") != std::string::npos || name.find("downsample.1") != std::string::npos) {
      const bool is_weight = name.ends_with(".weight") || name.ends_with("running_var");
      if (name.ends_with("num_batches_tracked")) continue;
      testing::check_close(t, full(t.sizes(), is_weight ? 1.0 : 0.0), 0, 0);
    }
  }
  // fc keeps Linear's U(-1/sqrt(512), 1/sqrt(512)).
  std::vector<double> fc = m->fc->weight.to_vector<double>();
  const double bound = 1 / std::sqrt(512.0);
  CHECK(*std::max_element(fc.begin(), fc.end()) <= bound);
  CHECK(*std::min_element(fc.begin(), fc.end()) >= -bound);
  CHECK(*std::max_element(fc.begin(), fc.end()) > 0.99 * bound);

  auto cfg = models::resnet_config("resnet50");
  cfg.zero_init_residual = true;
  models::ResNet zeroed(cfg);
  testing::check_close(zeroed.tensor_at("layer2.3.bn3.weight"), zeros({512}), 0, 0);
  testing::check_close(zeroed.tensor_at("layer2.3.bn2.weight"), ones({128}), 0, 0);
}

TEST_CASE("models: ResNet gradients by finite differences, basic and bottleneck blocks") {
  // Tiny configurations in f64, train mode (batch statistics): input and every parameter.
  for (auto block : {models::ResNetConfig::Block::basic, models::ResNetConfig::Block::bottleneck}) {
    CAPTURE(int(block));
    models::ResNetConfig c;
    c.name = "tiny";
    c.block = block;
    c.stem = models::ResNetConfig::Stem::cifar;
    c.stem_width = 3;
    c.planes = {2, 3};
    c.blocks = {2, 1};
    c.in_channels = 2;
    c.num_classes = 3;
    manual_seed(2);
    models::ResNet m(c);
    m.to(DType::f64);
    TensorList inputs{testing::rand_leaf({2, 2, 5, 5}, 9)};
    for (const Tensor& p : m.parameters()) inputs.push_back(p);
    models::Taps taps{"layer1_preact", "pooled"};
    testing::check_gradient(
        [&](const TensorList& in) {
          Tensor logits = m.forward(in[0], &taps);
          return TensorList{logits, taps.at("layer1_preact"), taps.at("pooled")};
        },
        inputs);
  }
}

TEST_CASE("models: the registry lists and creates the ResNets by name") {
  const std::vector<std::string> resnets{"resnet18", "resnet34",  "resnet50",  "resnet8",
                                         "resnet14", "resnet20",  "resnet32",  "resnet44",
                                         "resnet56", "resnet110", "resnet8x4", "resnet32x4"};
  const auto names = models::list_models();
  for (const std::string& n : resnets)
    CHECK_MESSAGE(std::find(names.begin(), names.end(), n) != names.end(), n);
  auto m = models::create_model("resnet56", {.num_classes = 10, .in_channels = 1});
  CHECK(m->name() == "resnet56");
  CHECK(m->type_name() == "ResNet");
  CHECK(m->tensor_at("layer3.8.conv2.weight").sizes() == Shape{64, 64, 3, 3});
  CHECK(m->tensor_at("conv1.weight").sizes() == Shape{16, 1, 3, 3});
  testing::check_error([] { models::create_model("resnet19"); },
                       {"create_model", "unknown model 'resnet19'", "resnet18, resnet34"});
}

TEST_CASE("models: a ResNet's state dict exports to safetensors and loads into a new one") {
  manual_seed(4);
  auto trained = models::create_model("resnet14", {.num_classes = 10, .in_channels = 1});
  trained->train();
  trained->forward(
      testing::randn_input({4, 1, 12, 12}, 8));  // moves the running statistics off 0 and 1
  manual_seed(5);
  auto loaded = models::create_model("resnet14", {.num_classes = 10, .in_channels = 1});
  testing::check_safetensors_round_trip(*trained, *loaded, testing::randn_input({2, 1, 12, 12}, 9));
}
