#include "models/mixer.h"

#include <utility>

#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::models {

MixerBlock::MixerBlock(int64_t dim, int64_t seq_len, int64_t tokens_hidden, int64_t channels_hidden,
                       double norm_eps, double drop_path_rate)
    : nn::Module("MixerBlock") {
  norm1 = register_module("norm1", std::make_shared<nn::LayerNorm>(dim, norm_eps));
  mlp_tokens = register_module("mlp_tokens", std::make_shared<Mlp>(seq_len, tokens_hidden));
  drop_path = register_module("drop_path", std::make_shared<nn::DropPath>(drop_path_rate));
  norm2 = register_module("norm2", std::make_shared<nn::LayerNorm>(dim, norm_eps));
  mlp_channels = register_module("mlp_channels", std::make_shared<Mlp>(dim, channels_hidden));
}

Tensor MixerBlock::forward(const Tensor& x) {
  Tensor mixed = mlp_tokens->forward(norm1->forward(x).transpose(1, 2)).transpose(1, 2);
  Tensor y = x + drop_path->forward(mixed);
  return y + drop_path->forward(mlp_channels->forward(norm2->forward(y)));
}

MlpMixer::MlpMixer(MixerConfig config)
    : Model("MlpMixer", config.name), config_(std::move(config)) {
  const MixerConfig& c = config_;
  const int64_t tokens_hidden = int64_t(double(c.embed_dim) * c.mlp_ratio_tokens);
  const int64_t channels_hidden = int64_t(double(c.embed_dim) * c.mlp_ratio_channels);
  TUTOR_CHECK(c.depth >= 0 && c.num_classes >= 1 && tokens_hidden >= 1 && channels_hidden >= 1,
              "{}: depth {}, num_classes {} and the MLP widths {} (tokens) and {} (channels) "
              "must be positive",
              c.name, c.depth, c.num_classes, tokens_hidden, channels_hidden);
  TUTOR_CHECK(c.drop_path_rate >= 0 && c.drop_path_rate < 1,
              "{}: drop_path_rate must be in [0, 1), got {}", c.name, c.drop_path_rate);
  stem = register_module("stem", std::make_shared<PatchEmbed>(c.name, c.img_size, c.patch_size,
                                                              c.in_channels, c.embed_dim));
  blocks = register_module("blocks", std::make_shared<nn::ModuleList>());
  for (int64_t i = 0; i < c.depth; ++i)
    blocks->push_back(std::make_shared<MixerBlock>(c.embed_dim, stem->num_patches(), tokens_hidden,
                                                   channels_hidden, c.norm_eps, c.drop_path_rate));
  norm = register_module("norm", std::make_shared<nn::LayerNorm>(c.embed_dim, c.norm_eps));
  head = register_module("head", std::make_shared<nn::Linear>(c.embed_dim, c.num_classes));
  reset_parameters();
}

void MlpMixer::reset_parameters() {
  NoGradGuard no_grad;
  const bool timm = config_.init == VisionInit::timm;
  for (const auto& [path, m] : named_modules()) {
    if (auto linear = std::dynamic_pointer_cast<nn::Linear>(m)) {
      if (!timm) {
        linear->reset_parameters();
      } else if (path.starts_with("head")) {
        nn::init::zeros_(linear->weight);
        nn::init::zeros_(linear->bias);
      } else {
        nn::init::xavier_uniform_(linear->weight);
        if (path.find("mlp") != std::string::npos)
          nn::init::normal_(linear->bias, 0, 1e-6);
        else
          nn::init::zeros_(linear->bias);
      }
    } else if (auto conv = std::dynamic_pointer_cast<nn::Conv2d>(m)) {
      conv->reset_parameters();
      if (timm) {
        lecun_normal_(conv->weight);
        nn::init::zeros_(conv->bias);
      }
    } else if (auto ln = std::dynamic_pointer_cast<nn::LayerNorm>(m)) {
      ln->reset_parameters();
    }
  }
}

std::vector<std::string> MlpMixer::tap_names() const {
  std::vector<std::string> names{"stem"};
  for (int64_t i = 0; i < blocks->size(); ++i) names.push_back(fmt::format("blocks.{}", i));
  names.insert(names.end(), {"tokens", "pooled", "logits"});
  return names;
}

Tensor MlpMixer::run(const Tensor& x, Taps* taps) {
  Tensor tokens = stem->forward(x);
  offer(taps, "stem", tokens);
  for (int64_t i = 0; i < blocks->size(); ++i) {
    tokens = blocks->at<MixerBlock>(i)->forward(tokens);
    offer(taps, fmt::format("blocks.{}", i), tokens);
  }
  tokens = norm->forward(tokens);
  offer(taps, "tokens", tokens);
  Tensor pooled = tokens.mean({1});
  offer(taps, "pooled", pooled);
  return head->forward(pooled);
}

// ---- configurations ----

namespace {

MixerConfig named_config(const std::string& name) {
  MixerConfig c;
  c.name = name;
  if (name == "mixer_small28") {
    c.img_size = 28;
    c.in_channels = 1;
    c.patch_size = 4;
    c.embed_dim = 64;
    c.depth = 4;
    c.mlp_ratio_channels = 2;
    c.num_classes = 10;
  } else if (name == "mixer_s16") {
    // timm's mixer_s16_224 shape (the MlpMixer defaults above)
  } else if (name == "mixer_p4_32") {
    c.img_size = 32;
    c.patch_size = 4;
    c.embed_dim = 256;
    c.num_classes = 100;
    return c;  // timm's eps and init
  } else {
    fail("mixer_config: unknown MLP-Mixer '{}' (known: {})", name, fmt::join(mixer_names(), ", "));
  }
  // benchmarks.md "Models": LayerNorm eps 1e-5, PyTorch's default init.
  c.norm_eps = 1e-5;
  c.init = VisionInit::pytorch;
  return c;
}

}  // namespace

std::vector<std::string> mixer_names() { return {"mixer_small28", "mixer_s16", "mixer_p4_32"}; }

MixerConfig mixer_config(const std::string& name, const ModelOptions& options) {
  MixerConfig c = named_config(name);
  c.num_classes = options.num_classes.value_or(c.num_classes);
  c.in_channels = options.in_channels.value_or(c.in_channels);
  return c;
}

}  // namespace tutor::models
