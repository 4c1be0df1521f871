// Vision Transformer (Dosovitskiy et al. 2021) as timm's VisionTransformer, and DeiT's distilled
// variant (Touvron et al. 2021; deit models.py DistilledVisionTransformer, timm
// VisionTransformerDistilled). Spec: shared/spec/models-and-transformer-kd.md §A3, §A4; the
// benchmark models: shared/spec/benchmarks.md "Models".
//
//   tokens = PatchEmbed(x)                              [B, N, D]
//   tokens = cat(cls_token, dist_token, tokens) + pos_embed   (prefix tokens when enabled;
//                                                       positions added after concatenation)
//   each block: x += attn(norm1(x)); x += mlp(norm2(x))  (pre-norm; drop path on both branches)
//   attn: qkv Linear(D, 3D) viewed [B, T, 3, h, d] (q, k, v, each head a contiguous chunk of d),
//         softmax(q k^T / sqrt(d)) v through scaled_dot_product_attention, heads concatenated,
//         proj Linear(D, D)
//   norm (LayerNorm), then pool: "token" takes token 0 (the class token), "avg" averages the
//   patch tokens (prefix tokens excluded); with fc_norm the LayerNorm moves after the pooling
//   (key fc_norm, and there is no norm), as timm's default for "avg".
//   head Linear(D, classes)
//
// DeiT distilled (distilled = true): token order [cls, dist, patches], pos_embed has N + 2 rows,
// head_dist reads token 1. As deit's reference, training mode yields the class head's and the
// distillation head's logits separately, evaluation their average (head + head_dist) / 2. Here
// forward returns head(cls) in training (the first of deit's pair, what the base criterion
// reads) and the average in evaluation; the taps cls_logits and dist_logits give both heads in
// either mode, so a DeiT objective reads dist_logits (shared/spec §B1).
//
// State-dict keys are timm's: cls_token, pos_embed, dist_token, patch_embed.proj.{weight,bias},
// blocks.{i}.norm1, blocks.{i}.attn.qkv, blocks.{i}.attn.proj, blocks.{i}.norm2,
// blocks.{i}.mlp.fc1, blocks.{i}.mlp.fc2, norm (or fc_norm), head, head_dist.
//
// Taps (models/taps.h), in forward order (T = N + prefix tokens):
//   patch_embed              [B, N, D]    the patch tokens, before the prefix and positions
//   blocks.{i}.attn_weights  [B, h, T, T] block i's softmax attention probabilities (asked of
//                                         the attention only when tapped)
//   blocks.{i}               [B, T, D]    block i's output
//   tokens                   [B, T, D]    after the final norm (timm's forward_features)
//   pooled                   [B, D]       the head's input (class token, or the mean, after
//                                         fc_norm)
//   cls_logits, dist_logits  [B, classes] the two heads (distilled models only)
//   logits                   [B, classes] what forward returns
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/nn/nn.h"
#include "models/model.h"
#include "models/vision_layers.h"

namespace tutor::models {

// timm's Attention with qk_norm off and dropouts 0: qkv, proj.
class Attention : public nn::Module {
 public:
  Attention(int64_t dim, int64_t num_heads, bool qkv_bias);
  Tensor forward(const Tensor& x) override { return forward(x, nullptr); }
  // x [B, T, D] -> [B, T, D]; stores the attention probabilities [B, h, T, T] in *weights when
  // weights is not null.
  Tensor forward(const Tensor& x, Tensor* weights);

  const int64_t num_heads, head_dim;
  std::shared_ptr<nn::Linear> qkv, proj;
};

// timm's Block without LayerScale: x += drop_path1(attn(norm1(x))); x += drop_path2(mlp(norm2(x))).
class Block : public nn::Module {
 public:
  Block(int64_t dim, int64_t num_heads, int64_t mlp_hidden, bool qkv_bias, double norm_eps,
        double drop_path);
  Tensor forward(const Tensor& x) override { return forward(x, nullptr); }
  Tensor forward(const Tensor& x, Tensor* attn_weights);

  std::shared_ptr<nn::LayerNorm> norm1;
  std::shared_ptr<Attention> attn;
  std::shared_ptr<nn::DropPath> drop_path1;
  std::shared_ptr<nn::LayerNorm> norm2;
  std::shared_ptr<Mlp> mlp;
  std::shared_ptr<nn::DropPath> drop_path2;
};

struct ViTConfig {
  enum class Pool { token, avg };

  std::string name;  // "deit_tiny", ...
  int64_t img_size = 224;
  int64_t in_channels = 3;
  int64_t patch_size = 16;
  int64_t embed_dim = 768;
  int64_t depth = 12;
  int64_t num_heads = 12;
  double mlp_ratio = 4;  // MLP hidden = int(embed_dim * mlp_ratio), as timm
  bool qkv_bias = true;
  bool class_token = true;
  bool distilled = false;  // the DeiT distillation token and head_dist; needs the class token
  Pool global_pool = Pool::token;  // token needs the class token
  bool fc_norm = false;            // LayerNorm after the pooling instead of before (avg only)
  double norm_eps = 1e-6;          // timm's; benchmarks.md's models use 1e-5
  int64_t num_classes = 1000;
  double drop_path_rate = 0;  // block i drops with linspace(0, rate, depth)[i], as timm
  VisionInit init = VisionInit::timm;
};

class VisionTransformer : public Model {
 public:
  explicit VisionTransformer(ViTConfig config);

  const ViTConfig& config() const { return config_; }
  std::vector<std::string> tap_names() const override;
  int64_t num_prefix_tokens() const { return int64_t(config_.class_token) + config_.distilled; }
  int64_t feature_dim() const { return config_.embed_dim; }

  // timm's init (VisionTransformer.init_weights, mode ''): pos_embed and dist_token trunc-normal
  // std 0.02, cls_token normal std 1e-6; then under VisionInit::timm every Linear trunc-normal
  // std 0.02 with zero bias (the patch conv and the LayerNorms keep their defaults); under
  // VisionInit::pytorch every layer keeps PyTorch's default. Done by the constructor.
  void reset_parameters();

  std::shared_ptr<PatchEmbed> patch_embed;
  Tensor cls_token, pos_embed, dist_token;  // cls_token, dist_token undefined when disabled
  std::shared_ptr<nn::ModuleList> blocks;
  std::shared_ptr<nn::LayerNorm> norm;          // null with fc_norm
  std::shared_ptr<nn::LayerNorm> fc_norm;       // null without
  std::shared_ptr<nn::Linear> head, head_dist;  // head_dist null unless distilled

 protected:
  Tensor run(const Tensor& x, Taps* taps) override;

 private:
  ViTConfig config_;
};

// The configurations of models/registry.cpp by name; an Error listing the names otherwise.
// options.num_classes and options.in_channels override the defaults:
//   benchmarks.md (LayerNorm eps 1e-5, PyTorch's default init):
//     vit_small28          1x28x28, patch 4, dim 64, depth 4, 4 heads, MLP 128, no class token,
//                          mean over tokens after the final norm, 10 classes
//     deit_tiny            3x224x224, patch 16, dim 192, depth 12, 3 heads, MLP 768, class token,
//                          1000 classes
//   the spec's timm configurations (eps 1e-6, timm's init), §A3.6 and §A4:
//     deit_tiny_distilled  deit_tiny's shape with the distillation token, 1000 classes
//     vit_ti_p4_32, vit_ti_p4_32_d6 (depth 6), deit_ti_dist_p4_32: 3x32x32, patch 4, ViT-Ti's
//                          dims, 100 classes
//     vit_micro_p4_28      1x28x28, patch 4, dim 64, depth 6, 4 heads, MLP 128, 10 classes
ViTConfig vit_config(const std::string& name, const ModelOptions& options = {});
std::vector<std::string> vit_names();

}  // namespace tutor::models
