#include "tools/cli/bench_flops.h"

#include <fmt/format.h>

#include "engine/core/error.h"
#include "models/resnet.h"

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

// benchmarks.md's ViT and Mixer: patch embedding conv(patch, stride patch), `depth` blocks, a
// Linear head on the pooled tokens (class token or mean).
struct TransformerShape {
  const char* name;
  bool mixer;
  int64_t patch, dim, depth;
  int64_t heads;         // ViT
  int64_t mlp_hidden;    // ViT MLP / Mixer channel MLP
  int64_t token_hidden;  // Mixer token MLP
  bool class_token;
};

constexpr TransformerShape kTransformers[] = {
    {"vit_small28", false, 4, 64, 4, 4, 128, 0, false},
    {"mixer_small28", true, 4, 64, 4, 0, 128, 32, false},
    {"deit_tiny", false, 16, 192, 12, 3, 768, 0, true},
    {"mixer_s16", true, 16, 512, 8, 0, 2048, 256, false},
};

std::vector<Workload> transformer_layers(const TransformerShape& t, const ModelInput& in) {
  Layers l{t.name, in.batch, {}};
  int64_t grid = l.conv("patch_embed", in.channels, in.size, t.dim, t.patch, t.patch, 0);
  const int64_t patches = grid * grid, tokens = patches + (t.class_token ? 1 : 0);
  const int64_t rows = in.batch * tokens, d = t.dim;
  for (int64_t b = 0; b < t.depth; ++b) {
    const std::string block = fmt::format("blocks.{}.", b);
    if (t.mixer) {
      // The token MLP mixes the patches of each channel: [B*D, L] rows.
      l.linear(block + "token_mlp.fc1", in.batch * d, patches, t.token_hidden);
      l.linear(block + "token_mlp.fc2", in.batch * d, t.token_hidden, patches);
      l.linear(block + "channel_mlp.fc1", rows, d, t.mlp_hidden);
      l.linear(block + "channel_mlp.fc2", rows, t.mlp_hidden, d);
    } else {
      l.linear(block + "attn.qkv", rows, d, 3 * d);
      l.list.push_back(
          {block + "attn", t.name, "sdpa", {in.batch, t.heads, tokens, d / t.heads}, false});
      l.linear(block + "attn.proj", rows, d, d);
      l.linear(block + "mlp.fc1", rows, d, t.mlp_hidden);
      l.linear(block + "mlp.fc2", rows, t.mlp_hidden, d);
    }
  }
  l.linear("head", in.batch, d, in.classes);
  return l.list;
}

}  // namespace

std::vector<Workload> model_layers(const std::string& model, const ModelInput& input) {
  TUTOR_CHECK(input.batch >= 1 && input.channels >= 1 && input.size >= 1 && input.classes >= 1,
              "bench flops: {}: batch {}, channels {}, size {} and classes {} must be positive",
              model, input.batch, input.channels, input.size, input.classes);
  for (const TransformerShape& t : kTransformers)
    if (model == t.name) return transformer_layers(t, input);
  for (const std::string& name : models::resnet_names())
    if (model == name) return resnet_layers(model, input);
  fail(
      "bench flops: no FLOP count for model '{}' (known: the ResNets and vit_small28, "
      "mixer_small28, deit_tiny, mixer_s16)",
      model);
}

double model_forward_flops(const std::string& model, const ModelInput& input) {
  double flops = 0;
  for (const Workload& w : model_layers(model, input)) flops += forward_flops(w);
  return flops;
}

}  // namespace tutor::cli
