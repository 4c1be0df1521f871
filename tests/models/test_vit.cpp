// Vision Transformers: parameter counts against the spec (shared/spec/models-and-transformer-kd.md
// §A3.6, §A4) and state dicts against the PyTorch mirror's (tests/fixtures/models/
// transformer_state_dicts.txt); whole-model parity with PyTorch on three small configurations
// (tools/golden/make_transformer_fixtures.py: the no-class-token mean pooling of vit_small28, DeiT
// distilled with its two heads, class token with fc_norm); taps against values recomputed from
// the layers; initialization; drop path; finite differences; options, errors, safetensors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/nn/nn.h"
#include "engine/ops/ops.h"
#include "model_test.h"
#include "models/registry.h"
#include "models/vit.h"
#include "support/op_test.h"

using namespace tutor;
using models::VisionInit;
using models::VisionTransformer;
using models::ViTConfig;

namespace {

ViTConfig small_config(std::string name, int64_t img, int64_t in, int64_t patch, int64_t dim,
                       int64_t depth, int64_t heads, double mlp_ratio, int64_t classes) {
  ViTConfig c;
  c.name = std::move(name);
  c.img_size = img;
  c.in_channels = in;
  c.patch_size = patch;
  c.embed_dim = dim;
  c.depth = depth;
  c.num_heads = heads;
  c.mlp_ratio = mlp_ratio;
  c.num_classes = classes;
  return c;
}

// The configurations of tools/golden/make_transformer_fixtures.py.
ViTConfig fixture_config(const std::string& fixture) {
  if (fixture == "vit_avg_parity") {
    ViTConfig c = small_config(fixture, 16, 1, 4, 32, 2, 4, 2, 10);
    c.class_token = false;
    c.global_pool = ViTConfig::Pool::avg;
    c.norm_eps = 1e-5;
    c.init = VisionInit::pytorch;
    return c;
  }
  if (fixture == "deit_distilled_parity") {
    ViTConfig c = small_config(fixture, 16, 3, 4, 24, 2, 3, 4, 5);
    c.distilled = true;
    return c;
  }
  REQUIRE(fixture == "vit_fc_norm_parity");
  ViTConfig c = small_config(fixture, 8, 2, 4, 16, 1, 2, 2, 4);
  c.global_pool = ViTConfig::Pool::avg;
  c.fc_norm = true;
  return c;
}

void check_fixture(const std::string& fixture, const testing::ParityOptions& options = {}) {
  testing::check_parity(
      testing::fixture_path("models") / (fixture + ".safetensors"),
      [&] { return std::make_shared<VisionTransformer>(fixture_config(fixture)); }, options);
}

struct Moments {
  double mean = 0, std = 0, max_abs = 0;
};
Moments moments(const Tensor& t) {
  const std::vector<double> v = t.to_vector<double>();
  Moments m;
  for (double x : v) m.mean += x;
  m.mean /= double(v.size());
  for (double x : v) {
    m.std += (x - m.mean) * (x - m.mean);
    m.max_abs = std::max(m.max_abs, std::fabs(x));
  }
  m.std = std::sqrt(m.std / double(v.size()));
  return m;
}

}  // namespace

TEST_CASE("models: every ViT's parameter count is the spec's and its state dict PyTorch's") {
  const std::map<std::string, int64_t> spec{
      // §A3.6 and §A4 (DeiT-Ti = ViT-Ti/16 at 1000 classes; the small configs as listed).
      {"deit_tiny", 5717416},
      {"deit_tiny_distilled", 5910800},
      {"vit_ti_p4_32", 5380132},
      {"vit_ti_p4_32_d6", 2710948},
      {"deit_ti_dist_p4_32", 5399816},
      {"vit_micro_p4_28", 205962},
      // benchmarks.md's vit_small28, by hand: patch embedding 1*64*16 + 64 = 1088, pos_embed
      // 49*64 = 3136; per block LayerNorms 2*128, qkv 64*192 + 192, proj 64*64 + 64, fc1
      // 64*128 + 128, fc2 128*64 + 64 = 33472, times 4; final LayerNorm 128; head 64*10 + 10.
      {"vit_small28", 1088 + 3136 + 4 * 33472 + 128 + 650},
  };
  const auto pytorch = testing::pytorch_listings("transformer_state_dicts.txt");
  for (const auto& [name, count] : spec) {
    CAPTURE(name);
    auto m = models::create_model(name);
    CHECK(m->type_name() == "VisionTransformer");
    CHECK(m->num_parameters() == count);
    REQUIRE(pytorch.count(name) == 1);
    testing::check_listing(*m, pytorch.at(name));
  }
  // §A3.5's key layout, spelled out for the distilled model.
  auto deit = models::create_model("deit_ti_dist_p4_32");
  const auto state = deit->state_dict();
  std::vector<std::string> keys;
  for (const auto& [key, t] : state) keys.push_back(key);
  CHECK(std::vector<std::string>(keys.begin(), keys.begin() + 17) ==
        std::vector<std::string>{
            "cls_token", "pos_embed", "dist_token", "patch_embed.proj.weight",
            "patch_embed.proj.bias", "blocks.0.norm1.weight", "blocks.0.norm1.bias",
            "blocks.0.attn.qkv.weight", "blocks.0.attn.qkv.bias", "blocks.0.attn.proj.weight",
            "blocks.0.attn.proj.bias", "blocks.0.norm2.weight", "blocks.0.norm2.bias",
            "blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc1.bias", "blocks.0.mlp.fc2.weight",
            "blocks.0.mlp.fc2.bias"});
  CHECK(std::vector<std::string>(keys.end() - 6, keys.end()) ==
        std::vector<std::string>{"norm.weight", "norm.bias", "head.weight", "head.bias",
                                 "head_dist.weight", "head_dist.bias"});
  CHECK(deit->tensor_at("pos_embed").sizes() == Shape{1, 66, 192});
  CHECK(deit->tensor_at("blocks.11.mlp.fc1.weight").sizes() == Shape{768, 192});
}

TEST_CASE("models: ViT with mean pooling and no class token (vit_small28's path) matches PyTorch") {
  check_fixture("vit_avg_parity");
}

TEST_CASE("models: DeiT distilled matches PyTorch: both heads, eval average, hard-KD step") {
  // The script's train step: 0.5 CE(cls_logits, labels) + 0.5 CE(dist_logits, labels_dist).
  check_fixture(
      "deit_distilled_parity",
      {.loss_taps = {"cls_logits", "dist_logits"},
       .loss = [](const Tensor&, const models::Taps& taps, const testing::FileTensors& file) {
         return mul(cross_entropy(taps.at("cls_logits"), testing::get(file, "labels")) +
                        cross_entropy(taps.at("dist_logits"), testing::get(file, "labels_dist")),
                    0.5);
       }});
}

TEST_CASE("models: ViT with a class token, mean pooling and fc_norm matches PyTorch") {
  check_fixture("vit_fc_norm_parity");
}

TEST_CASE("models: ViT taps are the values the layers give") {
  for (bool distilled : {false, true}) {
    CAPTURE(distilled);
    ViTConfig c = small_config("tiny_vit", 8, 2, 4, 8, 2, 2, 2, 3);
    c.distilled = distilled;
    manual_seed(3);
    VisionTransformer m(c);
    NoGradGuard no_grad;
    nn::init::normal_(m.cls_token, 0, 1);  // a visible class token
    m.eval();
    const int64_t t = distilled ? 6 : 5;  // 4 patches + prefix tokens
    std::vector<std::string> expected_names{"patch_embed", "blocks.0.attn_weights",
                                            "blocks.0",    "blocks.1.attn_weights",
                                            "blocks.1",    "tokens",
                                            "pooled"};
    if (distilled) expected_names.insert(expected_names.end(), {"cls_logits", "dist_logits"});
    expected_names.push_back("logits");
    CHECK(m.tap_names() == expected_names);
    models::Taps taps(m.tap_names());
    Tensor x = testing::randn_input({2, 2, 8, 8}, 4);
    Tensor logits = m.forward(x, &taps);
    auto expect = [&](const std::string& name, const Tensor& value) {
      CAPTURE(name);
      testing::check_close(taps.at(name), value, 1e-6, 1e-5);
    };
    // patch (r, c) of sample b is conv(x)[b, :, r, c]: tokens row-major over (row, col)
    Tensor conv = m.patch_embed->proj->forward(x);
    CHECK(taps.at("patch_embed").sizes() == Shape{2, 4, 8});
    expect("patch_embed", conv.flatten(2).transpose(1, 2));
    testing::check_close(taps.at("patch_embed").select(1, 2), conv.select(3, 0).select(2, 1), 0, 0);
    std::vector<Tensor> parts{m.cls_token.expand({2, 1, 8})};
    if (distilled) parts.push_back(m.dist_token.expand({2, 1, 8}));
    parts.push_back(taps.at("patch_embed"));
    Tensor tokens = cat(parts, 1) + m.pos_embed;
    for (int64_t i = 0; i < 2; ++i) {
      auto block = m.blocks->at<models::Block>(i);
      // attention by hand: q, k, v from qkv's row blocks, softmax(q k^T / sqrt(d)) v per head
      Tensor h = block->norm1->forward(tokens);
      Tensor qkv = block->attn->qkv->forward(h);  // [B, T, 3D]
      std::vector<Tensor> heads;
      std::vector<Tensor> weights;
      for (int64_t head = 0; head < 2; ++head) {
        Tensor q = qkv.narrow(2, head * 4, 4), k = qkv.narrow(2, 8 + head * 4, 4),
               v = qkv.narrow(2, 16 + head * 4, 4);
        Tensor w = softmax(mul(matmul(q, k.transpose(1, 2)), 0.5), -1);
        weights.push_back(w);
        heads.push_back(matmul(w, v));
      }
      expect(fmt::format("blocks.{}.attn_weights", i), stack(weights, 1));
      CHECK(taps.at(fmt::format("blocks.{}.attn_weights", i)).sizes() == Shape{2, 2, t, t});
      tokens = tokens + block->attn->proj->forward(cat(heads, 2));
      tokens = tokens + block->mlp->fc2->forward(
                            gelu(block->mlp->fc1->forward(block->norm2->forward(tokens))));
      expect(fmt::format("blocks.{}", i), tokens);
    }
    expect("tokens", m.norm->forward(tokens));
    expect("pooled", taps.at("tokens").select(1, 0));
    Tensor cls_logits = m.head->forward(taps.at("pooled"));
    if (distilled) {
      expect("cls_logits", cls_logits);
      expect("dist_logits", m.head_dist->forward(taps.at("tokens").select(1, 1)));
      expect("logits", mul(taps.at("cls_logits") + taps.at("dist_logits"), 0.5));
      m.train();  // deit's training output: the class head's logits
      testing::check_close(m.forward(x), cls_logits, 1e-6, 1e-5);
    } else {
      expect("logits", cls_logits);
    }
    testing::check_close(logits, taps.at("logits"), 0, 0);
  }
}

TEST_CASE("models: ViT mean pooling excludes the prefix tokens; fc_norm moves the final norm") {
  ViTConfig c = small_config("pool_vit", 8, 1, 4, 8, 1, 2, 2, 3);
  c.global_pool = ViTConfig::Pool::avg;
  for (bool fc_norm : {false, true}) {
    CAPTURE(fc_norm);
    c.fc_norm = fc_norm;
    manual_seed(6);
    VisionTransformer m(c);
    CHECK((m.norm == nullptr) == fc_norm);
    CHECK((m.fc_norm == nullptr) == !fc_norm);
    models::Taps taps{"blocks.0", "tokens", "pooled"};
    m.eval();
    m.forward(testing::randn_input({2, 1, 8, 8}, 7), &taps);
    Tensor patches = taps.at("blocks.0").narrow(1, 1, 4);
    if (fc_norm) {
      testing::check_close(taps.at("tokens"), taps.at("blocks.0"), 0, 0);
      testing::check_close(taps.at("pooled"), m.fc_norm->forward(patches.mean({1})), 1e-6, 1e-5);
    } else {
      testing::check_close(taps.at("pooled"), m.norm->forward(patches).mean({1}), 1e-6, 1e-5);
    }
  }
}

TEST_CASE("models: ViT initialization is timm's, or PyTorch's defaults for the benchmark models") {
  manual_seed(12);
  auto timm = models::create_model("vit_ti_p4_32_d6");
  // every Linear trunc-normal std 0.02 (bounds +-2, i.e. untruncated), biases 0
  for (const char* name : {"blocks.3.attn.qkv.weight", "blocks.5.mlp.fc2.weight", "head.weight"}) {
    CAPTURE(name);
    const Moments m = moments(timm->tensor_at(name));
    CHECK(std::fabs(m.mean) < 1e-3);
    CHECK(m.std == doctest::Approx(0.02).epsilon(0.03));
  }
  for (const char* name : {"blocks.3.attn.qkv.bias", "blocks.0.mlp.fc1.bias", "head.bias"})
    testing::check_close(timm->tensor_at(name), zeros(timm->tensor_at(name).sizes()), 0, 0);
  CHECK(moments(timm->tensor_at("pos_embed")).std == doctest::Approx(0.02).epsilon(0.03));
  CHECK(moments(timm->tensor_at("cls_token")).max_abs < 1e-5);  // normal std 1e-6
  testing::check_close(timm->tensor_at("blocks.2.norm1.weight"), ones({192}), 0, 0);
  // the patch conv keeps PyTorch's default: U(+-1/sqrt(fan_in)), fan_in = 3 * 4 * 4
  CHECK(moments(timm->tensor_at("patch_embed.proj.weight")).max_abs <= 1 / std::sqrt(48.0));
  CHECK(moments(timm->tensor_at("patch_embed.proj.weight")).std ==
        doctest::Approx(1 / std::sqrt(48.0) / std::sqrt(3.0)).epsilon(0.05));
  auto distilled = models::create_model("deit_ti_dist_p4_32");
  CHECK(moments(distilled->tensor_at("dist_token")).std == doctest::Approx(0.02).epsilon(0.3));

  // benchmarks.md: PyTorch's default Linear init, U(+-1/sqrt(fan_in)), std bound/sqrt(3)
  auto bench = models::create_model("vit_small28");
  const Moments fc1 = moments(bench->tensor_at("blocks.1.mlp.fc1.weight"));  // fan_in 64
  CHECK(fc1.max_abs <= 1 / 8.0);
  CHECK(fc1.std == doctest::Approx(1 / 8.0 / std::sqrt(3.0)).epsilon(0.03));
  CHECK(moments(bench->tensor_at("blocks.1.mlp.fc2.bias")).max_abs > 0);
  CHECK(moments(bench->tensor_at("pos_embed")).std == doctest::Approx(0.02).epsilon(0.1));
}

TEST_CASE("models: ViT drop path: timm's linear ramp over the blocks, identity in eval") {
  ViTConfig c = small_config("drop_vit", 8, 1, 4, 8, 3, 2, 2, 3);
  c.drop_path_rate = 0.4;
  manual_seed(8);
  VisionTransformer m(c);
  for (int64_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    auto block = m.blocks->at<models::Block>(i);
    CHECK(block->drop_path1->drop_prob == doctest::Approx(0.2 * double(i)));
    CHECK(block->drop_path2->drop_prob == doctest::Approx(0.2 * double(i)));
  }
  c.drop_path_rate = 0;
  VisionTransformer plain(c);
  plain.load_state_dict(m.state_dict());
  Tensor x = testing::randn_input({16, 1, 8, 8}, 9);
  m.eval();
  plain.eval();
  testing::check_close(m.forward(x), plain.forward(x), 0, 0);
  // in training, some samples lose a residual branch: their logits differ from the plain ones
  m.train();
  plain.train();
  manual_seed(10);
  Tensor dropped = m.forward(x);
  Tensor diff = (dropped - plain.forward(x)).abs().amax({1});
  const std::vector<double> d = diff.to_vector<double>();
  CHECK(std::count_if(d.begin(), d.end(), [](double v) { return v > 1e-6; }) > 0);
}

TEST_CASE("models: ViT gradients by finite differences, distilled and mean-pooled") {
  for (bool distilled : {false, true}) {
    CAPTURE(distilled);
    ViTConfig c = small_config("grad_vit", 4, 1, 2, 4, 1, 2, 1, 2);
    c.distilled = distilled;
    if (!distilled) {
      c.class_token = false;
      c.global_pool = ViTConfig::Pool::avg;
    }
    manual_seed(13);
    VisionTransformer m(c);
    m.to(DType::f64);
    m.eval();
    TensorList inputs{testing::rand_leaf({2, 1, 4, 4}, 14)};
    for (const Tensor& p : m.parameters()) inputs.push_back(p);
    models::Taps taps{"blocks.0.attn_weights", "pooled"};
    testing::check_gradient(
        [&](const TensorList& in) {
          Tensor logits = m.forward(in[0], &taps);
          return TensorList{logits, taps.at("blocks.0.attn_weights"), taps.at("pooled")};
        },
        inputs);
  }
}

TEST_CASE("models: ViT options, registry names and bad input") {
  auto m = models::create_model("deit_tiny", {.num_classes = 10, .in_channels = 1});
  CHECK(m->name() == "deit_tiny");
  CHECK(m->tensor_at("patch_embed.proj.weight").sizes() == Shape{192, 1, 16, 16});
  CHECK(m->tensor_at("head.weight").sizes() == Shape{10, 192});
  // 5,717,416 - 192*2*256 - 990*193
  CHECK(m->num_parameters() == 5717416 - 192 * 2 * 256 - 990 * 193);
  const auto cfg = models::vit_config("deit_tiny");
  CHECK(cfg.norm_eps == 1e-5);                                        // benchmarks.md
  CHECK(models::vit_config("deit_tiny_distilled").norm_eps == 1e-6);  // timm
  const auto names = models::list_models();
  for (const char* n : {"vit_small28", "deit_tiny", "deit_tiny_distilled", "vit_ti_p4_32",
                        "vit_ti_p4_32_d6", "deit_ti_dist_p4_32", "vit_micro_p4_28"})
    CHECK_MESSAGE(std::find(names.begin(), names.end(), n) != names.end(), n);

  auto small = models::create_model("vit_small28");
  testing::check_error(
      [&] {
        small->forward(testing::randn_input({2, 3, 28, 28}, 1));
      },
      {"vit_small28", "expected an input [N, 1, 28, 28]", "[2, 3, 28, 28]"});
  testing::check_error(
      [&] {
        small->forward(testing::randn_input({2, 1, 32, 32}, 1));
      },
      {"vit_small28", "[N, 1, 28, 28]", "[2, 1, 32, 32]"});
  testing::check_error(
      [&] {
        small->forward(testing::randn_input({1, 28, 28}, 1));
      },
      {"vit_small28", "[1, 28, 28]"});
  models::Taps taps{"blocks.4"};
  testing::check_error(
      [&] {
        small->forward(testing::randn_input({1, 1, 28, 28}, 1), &taps);
      },
      {"vit_small28", "unknown tap blocks.4", "blocks.3.attn_weights"});

  ViTConfig c = small_config("bad_vit", 8, 1, 4, 10, 1, 4, 2, 3);
  testing::check_error([&] { VisionTransformer{c}; },
                       {"bad_vit", "embed_dim 10", "multiple of num_heads 4"});
  c = small_config("bad_vit", 10, 1, 4, 8, 1, 2, 2, 3);
  testing::check_error([&] { VisionTransformer{c}; }, {"bad_vit", "image size 10", "patch size 4"});
  c = small_config("bad_vit", 8, 1, 4, 8, 1, 2, 2, 3);
  c.class_token = false;
  testing::check_error([&] { VisionTransformer{c}; }, {"bad_vit", "token pooling", "class token"});
  c.global_pool = ViTConfig::Pool::avg;
  c.distilled = true;
  testing::check_error([&] { VisionTransformer{c}; }, {"bad_vit", "distillation token"});
  testing::check_error([] { models::vit_config("vit_huge"); },
                       {"unknown ViT 'vit_huge'", "vit_small28, deit_tiny"});
}

TEST_CASE("models: a ViT's state dict exports to safetensors and loads into a new one") {
  manual_seed(15);
  auto from = models::create_model("vit_micro_p4_28");
  manual_seed(16);
  auto into = models::create_model("vit_micro_p4_28");
  testing::check_safetensors_round_trip(*from, *into, testing::randn_input({2, 1, 28, 28}, 17));
}
