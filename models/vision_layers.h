// Layers that the ViT (models/vit.h) and the MLP-Mixer (models/mixer.h) share, with timm's names
// (timm/layers/patch_embed.py, timm/layers/mlp.py), and the two initialization schemes they offer.
#pragma once

#include <memory>
#include <string>

#include "engine/nn/nn.h"

namespace tutor::models {

// How a transformer-family model initializes its layers (the tokens and position embedding get
// timm's init under both; see VisionTransformer::reset_parameters, MlpMixer::reset_parameters):
//   timm     timm's default for the family (shared/spec/models-and-transformer-kd.md §A3.4, §A5)
//   pytorch  every layer keeps PyTorch's default reset_parameters (shared/spec/benchmarks.md
//            "Models": "Default PyTorch init", so that the benchmark models start as PyTorch's)
enum class VisionInit { timm, pytorch };

// timm's PatchEmbed without norm: proj = Conv2d(in_channels -> embed_dim, kernel = stride =
// patch_size, bias), then [B, D, H/P, W/P] -> tokens [B, N, D] with N = (H/P)(W/P), row-major over
// (row, col). The image must be img_size x img_size (timm's strict_img_size).
class PatchEmbed : public nn::Module {
 public:
  // model: the owning model's name, for the input check's message.
  PatchEmbed(std::string model, int64_t img_size, int64_t patch_size, int64_t in_channels,
             int64_t embed_dim);
  Tensor forward(const Tensor& x) override;

  int64_t grid_size() const { return img_size / patch_size; }
  int64_t num_patches() const { return grid_size() * grid_size(); }

  const int64_t img_size, patch_size, in_channels;
  std::shared_ptr<nn::Conv2d> proj;

 private:
  std::string model_;
};

// timm's Mlp with dropout 0: fc1 (in -> hidden) -> GELU, exact erf form -> fc2 (hidden -> in).
class Mlp : public nn::Module {
 public:
  Mlp(int64_t in_features, int64_t hidden_features);
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<nn::Linear> fc1;
  std::shared_ptr<nn::GELU> act;
  std::shared_ptr<nn::Linear> fc2;
};

// timm's lecun_normal_ (variance_scaling_ with scale 1, fan_in, truncated normal): normal with
// std = sqrt(1 / fan_in) / 0.87962566103423978 (the std of a unit normal truncated to +-2), cut at
// +-2 std.
void lecun_normal_(const Tensor& weight);

}  // namespace tutor::models
