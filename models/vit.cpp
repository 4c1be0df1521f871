#include "models/vit.h"

#include <utility>

#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::models {

// ---- attention and block ----

Attention::Attention(int64_t dim, int64_t heads, bool qkv_bias)
    : nn::Module("Attention"), num_heads(heads), head_dim(heads >= 1 ? dim / heads : 0) {
  TUTOR_CHECK(heads >= 1 && dim >= 1 && dim % heads == 0,
              "Attention: dim {} must be a positive multiple of num_heads {}", dim, heads);
  qkv = register_module("qkv", std::make_shared<nn::Linear>(dim, 3 * dim, qkv_bias));
  proj = register_module("proj", std::make_shared<nn::Linear>(dim, dim));
}

Tensor Attention::forward(const Tensor& x, Tensor* weights) {
  const int64_t dim = num_heads * head_dim;
  TUTOR_CHECK(x.dim() == 3 && x.size(2) == dim, "Attention: expected tokens [B, T, {}], got {}",
              dim, shape_str(x.sizes()));
  const int64_t b = x.size(0), t = x.size(1);
  // [B, T, 3D] -> [3, B, h, T, d]: q, k, v in that order, head j at channels [j d, (j + 1) d).
  Tensor packed = qkv->forward(x).reshape({b, t, 3, num_heads, head_dim}).permute({2, 0, 3, 1, 4});
  AttentionOutput a =
      scaled_dot_product_attention(packed.select(0, 0), packed.select(0, 1), packed.select(0, 2),
                                   Tensor(), 0, false, {}, nullptr, weights != nullptr);
  if (weights != nullptr) *weights = a.weights;
  return proj->forward(a.output.transpose(1, 2).reshape({b, t, dim}));
}

Block::Block(int64_t dim, int64_t num_heads, int64_t mlp_hidden, bool qkv_bias, double norm_eps,
             double drop_path)
    : nn::Module("Block") {
  norm1 = register_module("norm1", std::make_shared<nn::LayerNorm>(dim, norm_eps));
  attn = register_module("attn", std::make_shared<Attention>(dim, num_heads, qkv_bias));
  drop_path1 = register_module("drop_path1", std::make_shared<nn::DropPath>(drop_path));
  norm2 = register_module("norm2", std::make_shared<nn::LayerNorm>(dim, norm_eps));
  mlp = register_module("mlp", std::make_shared<Mlp>(dim, mlp_hidden));
  drop_path2 = register_module("drop_path2", std::make_shared<nn::DropPath>(drop_path));
}

Tensor Block::forward(const Tensor& x, Tensor* attn_weights) {
  Tensor y = x + drop_path1->forward(attn->forward(norm1->forward(x), attn_weights));
  return y + drop_path2->forward(mlp->forward(norm2->forward(y)));
}

// ---- the network ----

VisionTransformer::VisionTransformer(ViTConfig config)
    : Model("VisionTransformer", config.name), config_(std::move(config)) {
  const ViTConfig& c = config_;
  const int64_t hidden = int64_t(double(c.embed_dim) * c.mlp_ratio);
  TUTOR_CHECK(c.depth >= 0 && c.num_classes >= 1 && hidden >= 1,
              "{}: depth {}, num_classes {} and the MLP width {} (embed_dim {} x mlp_ratio {}) "
              "must be positive",
              c.name, c.depth, c.num_classes, hidden, c.embed_dim, c.mlp_ratio);
  TUTOR_CHECK(c.num_heads >= 1 && c.embed_dim % c.num_heads == 0,
              "{}: embed_dim {} must be a multiple of num_heads {}", c.name, c.embed_dim,
              c.num_heads);
  TUTOR_CHECK(c.class_token || c.global_pool == ViTConfig::Pool::avg,
              "{}: token pooling needs the class token (class_token is off)", c.name);
  TUTOR_CHECK(!c.distilled || (c.class_token && c.global_pool == ViTConfig::Pool::token),
              "{}: the distillation token needs the class token and token pooling", c.name);
  TUTOR_CHECK(c.drop_path_rate >= 0 && c.drop_path_rate < 1,
              "{}: drop_path_rate must be in [0, 1), got {}", c.name, c.drop_path_rate);

  const int64_t dim = c.embed_dim;
  patch_embed = register_module(
      "patch_embed",
      std::make_shared<PatchEmbed>(c.name, c.img_size, c.patch_size, c.in_channels, dim));
  // timm's registration order (cls_token, pos_embed, then the distilled subclass's dist_token)
  // is the state-dict order.
  if (c.class_token) cls_token = register_parameter("cls_token", empty({1, 1, dim}));
  pos_embed = register_parameter("pos_embed",
                                 empty({1, patch_embed->num_patches() + num_prefix_tokens(), dim}));
  if (c.distilled) dist_token = register_parameter("dist_token", empty({1, 1, dim}));

  blocks = register_module("blocks", std::make_shared<nn::ModuleList>());
  for (int64_t i = 0; i < c.depth; ++i) {
    const double rate = c.depth > 1 ? c.drop_path_rate * double(i) / double(c.depth - 1) : 0;
    blocks->push_back(
        std::make_shared<Block>(dim, c.num_heads, hidden, c.qkv_bias, c.norm_eps, rate));
  }
  if (c.fc_norm)
    fc_norm = register_module("fc_norm", std::make_shared<nn::LayerNorm>(dim, c.norm_eps));
  else
    norm = register_module("norm", std::make_shared<nn::LayerNorm>(dim, c.norm_eps));
  head = register_module("head", std::make_shared<nn::Linear>(dim, c.num_classes));
  if (c.distilled)
    head_dist = register_module("head_dist", std::make_shared<nn::Linear>(dim, c.num_classes));
  reset_parameters();
}

void VisionTransformer::reset_parameters() {
  NoGradGuard no_grad;
  nn::init::trunc_normal_(pos_embed, 0, 0.02);
  if (cls_token.defined()) nn::init::normal_(cls_token, 0, 1e-6);
  if (dist_token.defined()) nn::init::trunc_normal_(dist_token, 0, 0.02);
  for (const auto& [path, m] : named_modules()) {
    if (auto linear = std::dynamic_pointer_cast<nn::Linear>(m)) {
      if (config_.init == VisionInit::pytorch) {
        linear->reset_parameters();
      } else {
        nn::init::trunc_normal_(linear->weight, 0, 0.02);
        if (linear->bias.defined()) nn::init::zeros_(linear->bias);
      }
    } else if (auto conv = std::dynamic_pointer_cast<nn::Conv2d>(m)) {
      conv->reset_parameters();
    } else if (auto ln = std::dynamic_pointer_cast<nn::LayerNorm>(m)) {
      ln->reset_parameters();
    }
  }
}

std::vector<std::string> VisionTransformer::tap_names() const {
  std::vector<std::string> names{"patch_embed"};
  for (int64_t i = 0; i < blocks->size(); ++i) {
    names.push_back(fmt::format("blocks.{}.attn_weights", i));
    names.push_back(fmt::format("blocks.{}", i));
  }
  names.insert(names.end(), {"tokens", "pooled"});
  if (config_.distilled) names.insert(names.end(), {"cls_logits", "dist_logits"});
  names.push_back("logits");
  return names;
}

Tensor VisionTransformer::run(const Tensor& x, Taps* taps) {
  Tensor tokens = patch_embed->forward(x);
  offer(taps, "patch_embed", tokens);
  const int64_t batch = tokens.size(0), dim = config_.embed_dim;
  if (num_prefix_tokens() > 0) {
    std::vector<Tensor> parts;
    if (cls_token.defined()) parts.push_back(cls_token.expand({batch, 1, dim}));
    if (dist_token.defined()) parts.push_back(dist_token.expand({batch, 1, dim}));
    parts.push_back(tokens);
    tokens = cat(parts, 1);
  }
  tokens = tokens + pos_embed;

  for (int64_t i = 0; i < blocks->size(); ++i) {
    const std::string name = fmt::format("blocks.{}", i);
    const bool want_weights = taps != nullptr && taps->wants(name + ".attn_weights");
    Tensor weights;
    tokens = blocks->at<Block>(i)->forward(tokens, want_weights ? &weights : nullptr);
    if (want_weights) offer(taps, name + ".attn_weights", weights);
    offer(taps, name, tokens);
  }
  if (norm) tokens = norm->forward(tokens);
  offer(taps, "tokens", tokens);

  const int64_t prefix = num_prefix_tokens();
  Tensor pooled = config_.global_pool == ViTConfig::Pool::token
                      ? tokens.select(1, 0)
                      : tokens.narrow(1, prefix, tokens.size(1) - prefix).mean({1});
  if (fc_norm) pooled = fc_norm->forward(pooled);
  offer(taps, "pooled", pooled);
  Tensor logits = head->forward(pooled);
  if (!head_dist) return logits;

  Tensor dist_logits = head_dist->forward(tokens.select(1, 1));
  offer(taps, "cls_logits", logits);
  offer(taps, "dist_logits", dist_logits);
  return is_training() ? logits : mul(logits + dist_logits, 0.5);
}

// ---- configurations ----

namespace {

// LayerNorm eps 1e-5, GELU erf, PyTorch's default init (benchmarks.md "Models").
ViTConfig bench_config(std::string name) {
  ViTConfig c;
  c.name = std::move(name);
  c.norm_eps = 1e-5;
  c.init = VisionInit::pytorch;
  return c;
}

// ViT-Ti's dims (§A3.6): dim 192, depth 12, 3 heads, MLP ratio 4; timm's eps and init.
ViTConfig tiny_config(std::string name, int64_t img, int64_t patch) {
  ViTConfig c;
  c.name = std::move(name);
  c.img_size = img;
  c.patch_size = patch;
  c.embed_dim = 192;
  c.depth = 12;
  c.num_heads = 3;
  return c;
}

ViTConfig named_config(const std::string& name) {
  if (name == "vit_small28") {
    ViTConfig c = bench_config(name);
    c.img_size = 28;
    c.in_channels = 1;
    c.patch_size = 4;
    c.embed_dim = 64;
    c.depth = 4;
    c.num_heads = 4;
    c.mlp_ratio = 2;
    c.class_token = false;
    c.global_pool = ViTConfig::Pool::avg;
    c.num_classes = 10;
    return c;
  }
  if (name == "deit_tiny") {
    ViTConfig c = tiny_config(name, 224, 16);
    c.norm_eps = 1e-5;
    c.init = VisionInit::pytorch;
    return c;
  }
  if (name == "deit_tiny_distilled") {
    ViTConfig c = tiny_config(name, 224, 16);
    c.distilled = true;
    return c;
  }
  if (name == "vit_ti_p4_32" || name == "vit_ti_p4_32_d6" || name == "deit_ti_dist_p4_32") {
    ViTConfig c = tiny_config(name, 32, 4);
    c.depth = name == "vit_ti_p4_32_d6" ? 6 : 12;
    c.distilled = name == "deit_ti_dist_p4_32";
    c.num_classes = 100;
    return c;
  }
  if (name == "vit_micro_p4_28") {
    ViTConfig c;
    c.name = name;
    c.img_size = 28;
    c.in_channels = 1;
    c.patch_size = 4;
    c.embed_dim = 64;
    c.depth = 6;
    c.num_heads = 4;
    c.mlp_ratio = 2;
    c.num_classes = 10;
    return c;
  }
  fail("vit_config: unknown ViT '{}' (known: {})", name, fmt::join(vit_names(), ", "));
}

}  // namespace

std::vector<std::string> vit_names() {
  return {"vit_small28",     "deit_tiny",          "deit_tiny_distilled", "vit_ti_p4_32",
          "vit_ti_p4_32_d6", "deit_ti_dist_p4_32", "vit_micro_p4_28"};
}

ViTConfig vit_config(const std::string& name, const ModelOptions& options) {
  ViTConfig c = named_config(name);
  c.num_classes = options.num_classes.value_or(c.num_classes);
  c.in_channels = options.in_channels.value_or(c.in_channels);
  return c;
}

}  // namespace tutor::models
