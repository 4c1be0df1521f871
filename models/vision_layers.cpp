#include "models/vision_layers.h"

#include <cmath>
#include <utility>

#include "engine/core/error.h"
#include "engine/ops/fused.h"

namespace tutor::models {

PatchEmbed::PatchEmbed(std::string model, int64_t img, int64_t patch, int64_t in, int64_t dim)
    : nn::Module("PatchEmbed"),
      img_size(img),
      patch_size(patch),
      in_channels(in),
      model_(std::move(model)) {
  TUTOR_CHECK(img >= 1 && patch >= 1 && img % patch == 0,
              "{}: the image size {} must be a positive multiple of the patch size {}", model_, img,
              patch);
  TUTOR_CHECK(in >= 1 && dim >= 1, "{}: in_channels {} and embed_dim {} must be positive", model_,
              in, dim);
  proj = register_module("proj", std::make_shared<nn::Conv2d>(in, dim, patch, patch));
}

Tensor PatchEmbed::forward(const Tensor& x) {
  TUTOR_CHECK(
      x.dim() == 4 && x.size(1) == in_channels && x.size(2) == img_size && x.size(3) == img_size,
      "{}: expected an input [N, {}, {}, {}], got {}", model_, in_channels, img_size, img_size,
      shape_str(x.sizes()));
  return proj->forward(x).flatten(2).transpose(1, 2);
}

Mlp::Mlp(int64_t in_features, int64_t hidden_features) : nn::Module("Mlp") {
  fc1 = register_module("fc1", std::make_shared<nn::Linear>(in_features, hidden_features));
  act = register_module("act", std::make_shared<nn::GELU>());
  fc2 = register_module("fc2", std::make_shared<nn::Linear>(hidden_features, in_features));
}

// fc1 and act as one op: fused (one oneDNN matmul with bias and GELU) where no gradient is
// recorded, the plain composition fc1 -> act otherwise (engine/ops/fused.h says why).
Tensor Mlp::forward(const Tensor& x) {
  return fc2->forward(linear_gelu(x, fc1->weight, fc1->bias, act->approximate));
}

void lecun_normal_(const Tensor& weight) {
  const double fan_in = double(nn::init::calculate_fan_in_and_fan_out(weight).first);
  const double std = std::sqrt(1 / fan_in) / 0.87962566103423978;
  nn::init::trunc_normal_(weight, 0, std, -2 * std, 2 * std);
}

}  // namespace tutor::models
