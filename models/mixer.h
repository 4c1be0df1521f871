// MLP-Mixer (Tolstikhin et al. 2021) as timm's MlpMixer / MixerBlock. Spec:
// shared/spec/models-and-transformer-kd.md §A5; the benchmark models: shared/spec/benchmarks.md
// "Models".
//
//   tokens = PatchEmbed(x)                                   [B, N, D]  (stem.proj)
//   each block: x += mlp_tokens(norm1(x)^T)^T   token mixing, Mlp(N -> D_S -> N) along the tokens
//               x += mlp_channels(norm2(x))     channel mixing, Mlp(D -> D_C -> D)
//               (drop path on both branches, the same rate in every block, as timm)
//   norm (LayerNorm) -> mean over the tokens -> head Linear(D, classes)
// with D_S = int(mlp_ratio_tokens D), D_C = int(mlp_ratio_channels D). The token-mixing weights
// depend on N, so a Mixer is tied to its input resolution.
//
// State-dict keys are timm's: stem.proj.{weight,bias}, blocks.{i}.norm1,
// blocks.{i}.mlp_tokens.fc1 [D_S, N], blocks.{i}.mlp_tokens.fc2 [N, D_S], blocks.{i}.norm2,
// blocks.{i}.mlp_channels.fc1 [D_C, D], blocks.{i}.mlp_channels.fc2, norm, head.
//
// Taps (models/taps.h), in forward order:
//   stem        [B, N, D]        the patch tokens
//   blocks.{i}  [B, N, D]        block i's output
//   tokens      [B, N, D]        after the final norm
//   pooled      [B, D]           the mean over the tokens, head's input
//   logits      [B, classes]
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/nn/nn.h"
#include "models/model.h"
#include "models/vision_layers.h"

namespace tutor::models {

class MixerBlock : public nn::Module {
 public:
  MixerBlock(int64_t dim, int64_t seq_len, int64_t tokens_hidden, int64_t channels_hidden,
             double norm_eps, double drop_path);
  Tensor forward(const Tensor& x) override;  // [B, N, D] -> [B, N, D]

  std::shared_ptr<nn::LayerNorm> norm1;
  std::shared_ptr<Mlp> mlp_tokens;
  std::shared_ptr<nn::DropPath> drop_path;
  std::shared_ptr<nn::LayerNorm> norm2;
  std::shared_ptr<Mlp> mlp_channels;
};

struct MixerConfig {
  std::string name;  // "mixer_s16", ...
  int64_t img_size = 224;
  int64_t in_channels = 3;
  int64_t patch_size = 16;
  int64_t embed_dim = 512;
  int64_t depth = 8;
  double mlp_ratio_tokens = 0.5;    // D_S = int(embed_dim * mlp_ratio_tokens), as timm
  double mlp_ratio_channels = 4.0;  // D_C = int(embed_dim * mlp_ratio_channels)
  double norm_eps = 1e-6;           // timm's; benchmarks.md's models use 1e-5
  int64_t num_classes = 1000;
  double drop_path_rate = 0;  // every block's rate, as timm
  VisionInit init = VisionInit::timm;
};

class MlpMixer : public Model {
 public:
  explicit MlpMixer(MixerConfig config);

  const MixerConfig& config() const { return config_; }
  std::vector<std::string> tap_names() const override;
  int64_t feature_dim() const { return config_.embed_dim; }

  // timm's MlpMixer init (non-Flax _init_weights) under VisionInit::timm: Linears
  // xavier-uniform with zero bias, except the mlp_* biases normal std 1e-6 and the head zero
  // (weight and bias); the stem conv LeCun-normal with zero bias; LayerNorms 1 / 0. Under
  // VisionInit::pytorch every layer keeps PyTorch's default. Done by the constructor.
  void reset_parameters();

  std::shared_ptr<PatchEmbed> stem;
  std::shared_ptr<nn::ModuleList> blocks;
  std::shared_ptr<nn::LayerNorm> norm;
  std::shared_ptr<nn::Linear> head;

 protected:
  Tensor run(const Tensor& x, Taps* taps) override;

 private:
  MixerConfig config_;
};

// The configurations of models/registry.cpp by name; an Error listing the names otherwise.
// options.num_classes and options.in_channels override the defaults:
//   benchmarks.md (LayerNorm eps 1e-5, PyTorch's default init):
//     mixer_small28  1x28x28, patch 4 (49 tokens), dim 64, depth 4, token MLP 32, channel MLP
//                    128, 10 classes
//     mixer_s16      3x224x224, patch 16 (196 tokens), dim 512, depth 8, token MLP 256, channel
//                    MLP 2048, 1000 classes (timm's mixer_s16_224 shape)
//   the spec's timm configuration (eps 1e-6, timm's init), §A5:
//     mixer_p4_32    3x32x32, patch 4, dim 256, depth 8, token MLP 128, channel MLP 1024,
//                    100 classes
MixerConfig mixer_config(const std::string& name, const ModelOptions& options = {});
std::vector<std::string> mixer_names();

}  // namespace tutor::models
