// MLP-Mixers: parameter counts against the spec (shared/spec/models-and-transformer-kd.md §A5)
// and state dicts against the PyTorch mirror's (tests/fixtures/models/transformer_state_dicts.txt);
// whole-model parity with PyTorch (tools/golden/make_transformer_fixtures.py, mixer_small28's
// path); taps against values recomputed from the layers; initialization; drop path; finite
// differences; options, errors, safetensors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/nn/nn.h"
#include "engine/ops/ops.h"
#include "model_test.h"
#include "models/mixer.h"
#include "models/registry.h"
#include "support/op_test.h"

using namespace tutor;
using models::MixerConfig;
using models::MlpMixer;
using models::VisionInit;

namespace {

MixerConfig small_config(std::string name, int64_t img, int64_t in, int64_t patch, int64_t dim,
                         int64_t depth, double ratio_channels, int64_t classes) {
  MixerConfig c;
  c.name = std::move(name);
  c.img_size = img;
  c.in_channels = in;
  c.patch_size = patch;
  c.embed_dim = dim;
  c.depth = depth;
  c.mlp_ratio_channels = ratio_channels;
  c.num_classes = classes;
  return c;
}

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

}  // namespace

TEST_CASE("models: every Mixer's parameter count is the spec's and its state dict PyTorch's") {
  const std::map<std::string, int64_t> spec{
      {"mixer_s16", 18528264},   // §A5, Mixer-S/16 at 1000 classes
      {"mixer_p4_32", 4384100},  // §A5, ours at 100 classes
      // benchmarks.md's mixer_small28, by hand: patch embedding 1*64*16 + 64 = 1088; per block
      // LayerNorms 2*128, token MLP 49*32 + 32 + 32*49 + 49, channel MLP 64*128 + 128 +
      // 128*64 + 64: 20049, times 4; final LayerNorm 128; head 64*10 + 10.
      {"mixer_small28", 1088 + 4 * 20049 + 128 + 650},
  };
  const auto pytorch = testing::pytorch_listings("transformer_state_dicts.txt");
  for (const auto& [name, count] : spec) {
    CAPTURE(name);
    auto m = models::create_model(name);
    CHECK(m->type_name() == "MlpMixer");
    CHECK(m->num_parameters() == count);
    REQUIRE(pytorch.count(name) == 1);
    testing::check_listing(*m, pytorch.at(name));
  }
  auto m = models::create_model("mixer_small28");
  std::vector<std::string> keys;
  for (const auto& [key, t] : m->state_dict()) keys.push_back(key);
  CHECK(std::vector<std::string>(keys.begin(), keys.begin() + 12) ==
        std::vector<std::string>{"stem.proj.weight", "stem.proj.bias", "blocks.0.norm1.weight",
                                 "blocks.0.norm1.bias", "blocks.0.mlp_tokens.fc1.weight",
                                 "blocks.0.mlp_tokens.fc1.bias", "blocks.0.mlp_tokens.fc2.weight",
                                 "blocks.0.mlp_tokens.fc2.bias", "blocks.0.norm2.weight",
                                 "blocks.0.norm2.bias", "blocks.0.mlp_channels.fc1.weight",
                                 "blocks.0.mlp_channels.fc1.bias"});
  CHECK(m->tensor_at("blocks.3.mlp_tokens.fc1.weight").sizes() == Shape{32, 49});
  CHECK(m->tensor_at("blocks.3.mlp_tokens.fc2.weight").sizes() == Shape{49, 32});
  CHECK(m->tensor_at("blocks.3.mlp_channels.fc1.weight").sizes() == Shape{128, 64});
  CHECK(keys.back() == "head.bias");
}

TEST_CASE("models: Mixer (mixer_small28's path) matches PyTorch, eval and train, 10 SGD steps") {
  MixerConfig c = small_config("mixer_parity", 16, 1, 4, 32, 2, 2, 10);
  c.norm_eps = 1e-5;
  c.init = VisionInit::pytorch;
  testing::check_parity(testing::fixture_path("models") / "mixer_parity.safetensors",
                        [&] { return std::make_shared<MlpMixer>(c); });
}

TEST_CASE("models: Mixer taps are the values the layers give") {
  MixerConfig c = small_config("tiny_mixer", 8, 2, 2, 6, 2, 2, 3);  // 16 tokens, token MLP 3
  manual_seed(3);
  MlpMixer m(c);
  m.eval();
  CHECK(m.tap_names() ==
        std::vector<std::string>{"stem", "blocks.0", "blocks.1", "tokens", "pooled", "logits"});
  models::Taps taps(m.tap_names());
  Tensor x = testing::randn_input({2, 2, 8, 8}, 4);
  Tensor logits = m.forward(x, &taps);
  auto expect = [&](const std::string& name, const Tensor& value) {
    CAPTURE(name);
    testing::check_close(taps.at(name), value, 1e-6, 1e-5);
  };
  expect("stem", m.stem->proj->forward(x).flatten(2).transpose(1, 2));
  Tensor tokens = taps.at("stem");
  for (int64_t i = 0; i < 2; ++i) {
    auto block = m.blocks->at<models::MixerBlock>(i);
    CHECK(block->mlp_tokens->fc1->weight.sizes() == Shape{3, 16});
    // token mixing by hand, one channel at a time: the token MLP maps that channel's 16 values
    Tensor normed = block->norm1->forward(tokens);
    std::vector<Tensor> channels;
    for (int64_t ch = 0; ch < 6; ++ch) {
      Tensor column = normed.select(2, ch);  // [B, 16]
      channels.push_back(block->mlp_tokens->forward(column));
    }
    tokens = tokens + stack(channels, 2);
    tokens = tokens + block->mlp_channels->fc2->forward(
                          gelu(block->mlp_channels->fc1->forward(block->norm2->forward(tokens))));
    expect(fmt::format("blocks.{}", i), tokens);
  }
  expect("tokens", m.norm->forward(tokens));
  expect("pooled", taps.at("tokens").mean({1}));
  expect("logits", m.head->forward(taps.at("pooled")));
  testing::check_close(logits, taps.at("logits"), 0, 0);
}

TEST_CASE("models: Mixer initialization is timm's, or PyTorch's defaults for benchmark models") {
  manual_seed(21);
  auto timm = models::create_model("mixer_p4_32");
  // head zero; other Linears xavier-uniform (bound sqrt(6 / (fan_in + fan_out))), mlp biases
  // normal std 1e-6
  for (const char* name : {"head.weight", "head.bias"}) {
    const std::vector<double> v = values(timm->tensor_at(name));
    CHECK(std::all_of(v.begin(), v.end(), [](double e) { return e == 0; }));
  }
  const std::vector<double> fc1 = values(timm->tensor_at("blocks.2.mlp_channels.fc1.weight"));
  const double bound = std::sqrt(6.0 / (256 + 1024));
  CHECK(*std::max_element(fc1.begin(), fc1.end()) <= bound);
  CHECK(*std::max_element(fc1.begin(), fc1.end()) > 0.99 * bound);
  const std::vector<double> bias = values(timm->tensor_at("blocks.2.mlp_tokens.fc2.bias"));
  const double bias_max = std::max(*std::max_element(bias.begin(), bias.end()),
                                   -*std::min_element(bias.begin(), bias.end()));
  CHECK(bias_max > 0);
  CHECK(bias_max < 1e-5);
  // stem LeCun-normal: std sqrt(1 / fan_in) after the truncation at +-2 std of the pre-scale
  const std::vector<double> stem = values(timm->tensor_at("stem.proj.weight"));  // fan_in 48
  double var = 0, max_abs = 0;
  for (double e : stem) {
    var += e * e;
    max_abs = std::max(max_abs, std::fabs(e));
  }
  var /= double(stem.size());
  CHECK(var == doctest::Approx(1.0 / 48).epsilon(0.05));
  CHECK(max_abs <= 2 * std::sqrt(1.0 / 48) / 0.87962566103423978);
  const std::vector<double> stem_bias = values(timm->tensor_at("stem.proj.bias"));
  CHECK(std::all_of(stem_bias.begin(), stem_bias.end(), [](double e) { return e == 0; }));

  // benchmarks.md: PyTorch's defaults; the head is not zero
  auto bench = models::create_model("mixer_small28");
  const std::vector<double> head = values(bench->tensor_at("head.weight"));
  CHECK(*std::max_element(head.begin(), head.end()) <= 1 / 8.0);
  CHECK(*std::max_element(head.begin(), head.end()) > 0.9 / 8.0);
}

TEST_CASE("models: Mixer drop path: the same rate in every block, identity in eval") {
  MixerConfig c = small_config("drop_mixer", 8, 1, 4, 8, 3, 2, 3);
  c.drop_path_rate = 0.3;
  c.init = VisionInit::pytorch;  // timm's zero head would hide every difference
  manual_seed(8);
  MlpMixer m(c);
  for (int64_t i = 0; i < 3; ++i)
    CHECK(m.blocks->at<models::MixerBlock>(i)->drop_path->drop_prob == doctest::Approx(0.3));
  c.drop_path_rate = 0;
  MlpMixer plain(c);
  plain.load_state_dict(m.state_dict());
  Tensor x = testing::randn_input({16, 1, 8, 8}, 9);
  m.eval();
  plain.eval();
  testing::check_close(m.forward(x), plain.forward(x), 0, 0);
  m.train();
  manual_seed(10);
  const std::vector<double> d = values((m.forward(x) - plain.forward(x)).abs().amax({1}));
  CHECK(std::count_if(d.begin(), d.end(), [](double v) { return v > 1e-6; }) > 0);
}

TEST_CASE("models: Mixer gradients by finite differences") {
  MixerConfig c = small_config("grad_mixer", 4, 1, 2, 4, 1, 1, 2);
  manual_seed(13);
  MlpMixer m(c);
  m.to(DType::f64);
  TensorList inputs{testing::rand_leaf({2, 1, 4, 4}, 14)};
  for (const Tensor& p : m.parameters()) inputs.push_back(p);
  models::Taps taps{"blocks.0"};
  testing::check_gradient(
      [&](const TensorList& in) {
        Tensor logits = m.forward(in[0], &taps);
        return TensorList{logits, taps.at("blocks.0")};
      },
      inputs);
}

TEST_CASE("models: Mixer options, registry names and bad input") {
  auto m = models::create_model("mixer_s16", {.num_classes = 10, .in_channels = 1});
  CHECK(m->tensor_at("stem.proj.weight").sizes() == Shape{512, 1, 16, 16});
  CHECK(m->tensor_at("head.weight").sizes() == Shape{10, 512});
  // 18,528,264 - 512*2*256 - 990*513
  CHECK(m->num_parameters() == 18528264 - 512 * 2 * 256 - 990 * 513);
  CHECK(models::mixer_config("mixer_s16").norm_eps == 1e-5);    // benchmarks.md
  CHECK(models::mixer_config("mixer_p4_32").norm_eps == 1e-6);  // timm
  const auto names = models::list_models();
  for (const char* n : {"mixer_small28", "mixer_s16", "mixer_p4_32"})
    CHECK_MESSAGE(std::find(names.begin(), names.end(), n) != names.end(), n);

  auto small = models::create_model("mixer_small28");
  testing::check_error(
      [&] {
        small->forward(testing::randn_input({2, 3, 28, 28}, 1));
      },
      {"mixer_small28", "expected an input [N, 1, 28, 28]", "[2, 3, 28, 28]"});
  testing::check_error(
      [&] {
        small->forward(testing::randn_input({2, 1, 32, 32}, 1));
      },
      {"mixer_small28", "[N, 1, 28, 28]", "[2, 1, 32, 32]"});
  MixerConfig c = small_config("bad_mixer", 8, 1, 4, 1, 1, 2, 3);  // token MLP int(0.5) = 0
  testing::check_error([&] { MlpMixer{c}; }, {"bad_mixer", "MLP widths 0 (tokens)"});
  testing::check_error([] { models::mixer_config("mixer_b16"); },
                       {"unknown MLP-Mixer 'mixer_b16'", "mixer_small28, mixer_s16"});
}

TEST_CASE("models: a Mixer's state dict exports to safetensors and loads into a new one") {
  manual_seed(15);
  auto from = models::create_model("mixer_small28");
  manual_seed(16);
  auto into = models::create_model("mixer_small28");
  testing::check_safetensors_round_trip(*from, *into, testing::randn_input({2, 1, 28, 28}, 17));
}
