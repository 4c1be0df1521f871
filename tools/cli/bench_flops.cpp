#include "tools/cli/bench_flops.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/core/error.h"
#include "models/mixer.h"
#include "models/resnet.h"
#include "models/vit.h"

namespace tutor::cli {

namespace {

// Collects layers while tracking the spatial size the next conv sees.
struct Layers {
  std::string model;
  int64_t batch = 1;
  std::vector<Workload> list;

  // Adds a conv (no groups) on a [batch, c, hw, hw] input; returns the output size.
  int64_t conv(const std::string& name, int64_t c, int64_t hw, int64_t k, int64_t r, int64_t stride,
               int64_t pad) {
    list.push_back({name, model, "conv2d", {batch, c, hw, hw, k, r, r, stride, pad}, false});
    return conv_out_size(hw, r, stride, pad);
  }
  // A Linear(in, out) applied to `rows` rows.
  void linear(const std::string& name, int64_t rows, int64_t in, int64_t out) {
    list.push_back({name, model, "matmul", {rows, in, out}, false});
  }
};

std::vector<Workload> resnet_layers(const std::string& name, const ModelInput& in) {
  models::ResNetConfig c =
      models::resnet_config(name, {.num_classes = in.classes, .in_channels = in.channels});
  Layers l{name, in.batch, {}};
  int64_t hw = in.size;
  if (c.stem == models::ResNetConfig::Stem::imagenet) {
    hw = l.conv("conv1", c.in_channels, hw, c.stem_width, 7, 2, 3);
    hw = conv_out_size(hw, 3, 2, 1);  // max pool 3x3/2 pad 1
  } else {
    hw = l.conv("conv1", c.in_channels, hw, c.stem_width, 3, 1, 1);
  }
  const bool basic = c.block == models::ResNetConfig::Block::basic;
  const int64_t expansion = basic ? 1 : 4;
  int64_t in_planes = c.stem_width;
  for (size_t s = 0; s < c.planes.size(); ++s)
    for (int64_t j = 0; j < c.blocks[s]; ++j) {
      // Stride 2 on the first block of every stage but the first, on the 3x3 conv (ResNet v1.5).
      const int64_t stride = (s > 0 && j == 0) ? 2 : 1, p = c.planes[s];
      const std::string block = fmt::format("layer{}.{}.", s + 1, j);
      int64_t out_hw;
      if (basic) {
        out_hw = l.conv(block + "conv1", in_planes, hw, p, 3, stride, 1);
        l.conv(block + "conv2", p, out_hw, p, 3, 1, 1);
      } else {
        l.conv(block + "conv1", in_planes, hw, p, 1, 1, 0);
        out_hw = l.conv(block + "conv2", p, hw, p, 3, stride, 1);
        l.conv(block + "conv3", p, out_hw, p * expansion, 1, 1, 0);
      }
      if (stride != 1 || in_planes != p * expansion)
        l.conv(block + "downsample.0", in_planes, hw, p * expansion, 1, stride, 0);
      in_planes = p * expansion;
      hw = out_hw;
    }
  l.linear("fc", in.batch, in_planes, c.num_classes);
  return l.list;
}

// A ViT or Mixer as models/ builds it (models::vit_config, models::mixer_config): the patch
// embedding conv(patch, stride patch), `depth` blocks, a Linear head on the pooled tokens.
std::vector<Workload> vit_layers(const std::string& name, const ModelInput& in) {
  const models::ViTConfig c =
      models::vit_config(name, {.num_classes = in.classes, .in_channels = in.channels});
  Layers l{name, in.batch, {}};
  const int64_t grid =
      l.conv("patch_embed.proj", in.channels, in.size, c.embed_dim, c.patch_size, c.patch_size, 0);
  const int64_t tokens = grid * grid + int64_t(c.class_token) + int64_t(c.distilled);
  const int64_t rows = in.batch * tokens, d = c.embed_dim;
  const auto hidden = int64_t(double(d) * c.mlp_ratio);
  for (int64_t b = 0; b < c.depth; ++b) {
    const std::string block = fmt::format("blocks.{}.", b);
    l.linear(block + "attn.qkv", rows, d, 3 * d);
    l.list.push_back(
        {block + "attn", name, "sdpa", {in.batch, c.num_heads, tokens, d / c.num_heads}, false});
    l.linear(block + "attn.proj", rows, d, d);
    l.linear(block + "mlp.fc1", rows, d, hidden);
    l.linear(block + "mlp.fc2", rows, hidden, d);
  }
  l.linear("head", in.batch, d, in.classes);
  if (c.distilled) l.linear("head_dist", in.batch, d, in.classes);
  return l.list;
}

std::vector<Workload> mixer_layers(const std::string& name, const ModelInput& in) {
  const models::MixerConfig c =
      models::mixer_config(name, {.num_classes = in.classes, .in_channels = in.channels});
  Layers l{name, in.batch, {}};
  const int64_t grid =
      l.conv("stem.proj", in.channels, in.size, c.embed_dim, c.patch_size, c.patch_size, 0);
  const int64_t patches = grid * grid, d = c.embed_dim, rows = in.batch * patches;
  const auto tokens_hidden = int64_t(double(d) * c.mlp_ratio_tokens);
  const auto channels_hidden = int64_t(double(d) * c.mlp_ratio_channels);
  for (int64_t b = 0; b < c.depth; ++b) {
    const std::string block = fmt::format("blocks.{}.", b);
    // The token MLP mixes the patches of each channel: [B*D, L] rows.
    l.linear(block + "mlp_tokens.fc1", in.batch * d, patches, tokens_hidden);
    l.linear(block + "mlp_tokens.fc2", in.batch * d, tokens_hidden, patches);
    l.linear(block + "mlp_channels.fc1", rows, d, channels_hidden);
    l.linear(block + "mlp_channels.fc2", rows, channels_hidden, d);
  }
  l.linear("head", in.batch, d, in.classes);
  return l.list;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::vector<Workload> model_layers(const std::string& model, const ModelInput& input) {
  TUTOR_CHECK(input.batch >= 1 && input.channels >= 1 && input.size >= 1 && input.classes >= 1,
              "bench flops: {}: batch {}, channels {}, size {} and classes {} must be positive",
              model, input.batch, input.channels, input.size, input.classes);
  if (contains(models::resnet_names(), model)) return resnet_layers(model, input);
  if (contains(models::vit_names(), model)) return vit_layers(model, input);
  if (contains(models::mixer_names(), model)) return mixer_layers(model, input);
  fail("bench flops: no FLOP count for model '{}' (known: the ResNets, ViTs and Mixers of models/)",
       model);
}

double model_forward_flops(const std::string& model, const ModelInput& input) {
  double flops = 0;
  for (const Workload& w : model_layers(model, input)) flops += forward_flops(w);
  return flops;
}

}  // namespace tutor::cli
