#include "models/resnet.h"

#include <utility>

#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::models {

namespace {

std::shared_ptr<nn::Conv2d> conv3x3(int64_t in, int64_t out, int64_t stride) {
  return std::make_shared<nn::Conv2d>(in, out, 3, stride, 1, 1, 1, false);
}
std::shared_ptr<nn::Conv2d> conv1x1(int64_t in, int64_t out, int64_t stride) {
  return std::make_shared<nn::Conv2d>(in, out, 1, stride, 0, 1, 1, false);
}
std::shared_ptr<nn::BatchNorm2d> bn(int64_t channels) {
  return std::make_shared<nn::BatchNorm2d>(channels);
}

// relu(conv(x) + residual) as one conv2d_relu with conv's hyper-parameters: the conv -> BN ->
// ReLU (-> add) of a block whose BN is folded into the conv.
Tensor conv_relu(const nn::Conv2d& conv, const Tensor& x, const Tensor& residual = Tensor()) {
  return conv2d_relu(x, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation,
                     conv.groups, residual);
}

int64_t expansion(ResNetConfig::Block block) {
  return block == ResNetConfig::Block::basic ? BasicBlock::expansion : Bottleneck::expansion;
}

}  // namespace

// ---- blocks ----

void ResidualBlock::add_downsample(int64_t in_planes, int64_t out_planes, int64_t stride) {
  if (stride == 1 && in_planes == out_planes) return;
  downsample = register_module(
      "downsample", std::make_shared<nn::Sequential>(std::initializer_list<nn::ModulePtr>{
                        conv1x1(in_planes, out_planes, stride), bn(out_planes)}));
}

bool ResidualBlock::folded() const {
  for (const auto& [conv, norm] : conv_bn_pairs())
    if (!norm->folded()) return false;
  return true;
}

Tensor ResidualBlock::forward(const Tensor& x) {
  return folded() ? forward_fused(x) : forward_preact(x).relu();
}

// The downsample's pair after the block's own (it runs on the block input, in any order).
static std::vector<Model::ConvBn> with_downsample(std::vector<Model::ConvBn> pairs,
                                                  const std::shared_ptr<nn::Sequential>& down) {
  if (down) pairs.emplace_back(down->at<nn::Conv2d>(0).get(), down->at<nn::BatchNorm2d>(1).get());
  return pairs;
}

std::vector<Model::ConvBn> BasicBlock::conv_bn_pairs() const {
  return with_downsample({{conv1.get(), bn1.get()}, {conv2.get(), bn2.get()}}, downsample);
}

std::vector<Model::ConvBn> Bottleneck::conv_bn_pairs() const {
  return with_downsample(
      {{conv1.get(), bn1.get()}, {conv2.get(), bn2.get()}, {conv3.get(), bn3.get()}}, downsample);
}

BasicBlock::BasicBlock(int64_t in_planes, int64_t planes, int64_t stride)
    : ResidualBlock("BasicBlock") {
  conv1 = register_module("conv1", conv3x3(in_planes, planes, stride));
  bn1 = register_module("bn1", bn(planes));
  conv2 = register_module("conv2", conv3x3(planes, planes, 1));
  bn2 = register_module("bn2", bn(planes));
  add_downsample(in_planes, planes * expansion, stride);
}

Tensor BasicBlock::forward_preact(const Tensor& x) {
  Tensor y = bn1->forward_relu(conv1->forward(x));
  y = bn2->forward(conv2->forward(y));
  return y + shortcut(x);
}

Tensor BasicBlock::forward_fused(const Tensor& x) {
  return conv_relu(*conv2, conv_relu(*conv1, x), shortcut(x));
}

Bottleneck::Bottleneck(int64_t in_planes, int64_t planes, int64_t stride)
    : ResidualBlock("Bottleneck") {
  conv1 = register_module("conv1", conv1x1(in_planes, planes, 1));
  bn1 = register_module("bn1", bn(planes));
  conv2 = register_module("conv2", conv3x3(planes, planes, stride));
  bn2 = register_module("bn2", bn(planes));
  conv3 = register_module("conv3", conv1x1(planes, planes * expansion, 1));
  bn3 = register_module("bn3", bn(planes * expansion));
  add_downsample(in_planes, planes * expansion, stride);
}

Tensor Bottleneck::forward_preact(const Tensor& x) {
  Tensor y = bn1->forward_relu(conv1->forward(x));
  y = bn2->forward_relu(conv2->forward(y));
  y = bn3->forward(conv3->forward(y));
  return y + shortcut(x);
}

Tensor Bottleneck::forward_fused(const Tensor& x) {
  return conv_relu(*conv3, conv_relu(*conv2, conv_relu(*conv1, x)), shortcut(x));
}

// ---- the network ----

ResNet::ResNet(ResNetConfig config) : Model("ResNet", config.name), config_(std::move(config)) {
  const ResNetConfig& c = config_;
  TUTOR_CHECK(!c.planes.empty() && c.planes.size() == c.blocks.size(),
              "{}: planes {} and blocks {} must be non-empty and of equal length", c.name, c.planes,
              c.blocks);
  TUTOR_CHECK(c.in_channels >= 1 && c.num_classes >= 1 && c.stem_width >= 1,
              "{}: in_channels {}, num_classes {} and stem_width {} must be positive", c.name,
              c.in_channels, c.num_classes, c.stem_width);
  for (size_t s = 0; s < c.blocks.size(); ++s)
    TUTOR_CHECK(c.blocks[s] >= 1 && c.planes[s] >= 1,
                "{}: stage {} has {} blocks of {} planes; both must be positive", c.name, s + 1,
                c.blocks[s], c.planes[s]);

  const bool imagenet = c.stem == ResNetConfig::Stem::imagenet;
  conv1 = register_module("conv1", imagenet ? std::make_shared<nn::Conv2d>(
                                                  c.in_channels, c.stem_width, 7, 2, 3, 1, 1, false)
                                            : conv3x3(c.in_channels, c.stem_width, 1));
  bn1 = register_module("bn1", bn(c.stem_width));

  int64_t in_planes = c.stem_width;
  for (size_t s = 0; s < c.blocks.size(); ++s) {
    auto stage = std::make_shared<nn::Sequential>();
    for (int64_t j = 0; j < c.blocks[s]; ++j) {
      const int64_t stride = (s > 0 && j == 0) ? 2 : 1;
      if (c.block == ResNetConfig::Block::basic)
        stage->push_back(std::make_shared<BasicBlock>(in_planes, c.planes[s], stride));
      else
        stage->push_back(std::make_shared<Bottleneck>(in_planes, c.planes[s], stride));
      in_planes = c.planes[s] * expansion(c.block);
    }
    layers.push_back(register_module("layer" + std::to_string(s + 1), stage));
  }
  fc = register_module("fc", std::make_shared<nn::Linear>(in_planes, c.num_classes));
  reset_parameters();
}

void ResNet::reset_parameters() {
  NoGradGuard no_grad;
  for (const auto& [path, m] : named_modules()) {
    if (auto conv = std::dynamic_pointer_cast<nn::Conv2d>(m)) {
      nn::init::kaiming_normal_(conv->weight, 0, "fan_out", "relu");
    } else if (auto norm = std::dynamic_pointer_cast<nn::BatchNorm2d>(m)) {
      nn::init::ones_(norm->weight);
      nn::init::zeros_(norm->bias);
    }
  }
  if (config_.zero_init_residual)
    for (const auto& stage : layers)
      for (const auto& [name, block] : *stage)
        nn::init::zeros_(std::static_pointer_cast<ResidualBlock>(block)->last_bn()->weight);
}

std::vector<std::string> ResNet::tap_names() const {
  std::vector<std::string> names{"stem_preact", "stem"};
  for (size_t s = 1; s <= layers.size(); ++s) {
    names.push_back(fmt::format("layer{}_preact", s));
    names.push_back(fmt::format("layer{}", s));
  }
  names.push_back("pooled");
  names.push_back("logits");
  return names;
}

std::vector<Model::ConvBn> ResNet::conv_bn_pairs() const {
  std::vector<ConvBn> pairs{{conv1.get(), bn1.get()}};
  for (const auto& stage : layers)
    for (const auto& [name, block] : *stage)
      for (const ConvBn& p : std::static_pointer_cast<ResidualBlock>(block)->conv_bn_pairs())
        pairs.push_back(p);
  return pairs;
}

std::vector<std::shared_ptr<nn::BatchNorm2d>> ResNet::bn_before_relu() const {
  std::vector<std::shared_ptr<nn::BatchNorm2d>> out;
  for (const auto& stage : layers) out.push_back(stage->at<ResidualBlock>(-1)->last_bn());
  return out;
}

Tensor ResNet::run(const Tensor& x, Taps* taps) {
  TUTOR_CHECK(x.dim() == 4 && x.size(1) == config_.in_channels,
              "{}: expected an input [N, {}, H, W], got {}", name(), config_.in_channels,
              shape_str(x.sizes()));
  // The network runs in the layout its convolutions run fastest in: channels-last on the CPU,
  // where oneDNN's convolutions take nhwc activations as they are while NCHW ones cost a reorder
  // of x, y and their gradients at every call. Converting here, once, keeps it out of users'
  // hands: every op downstream (batch_norm, relu, add, pooling) keeps the layout, the weights and
  // state dicts stay in PyTorch's plain layout, and the pooled features and logits are plain
  // [N, C] tensors. Taps are ordinary strided tensors either way.
  //
  // Each BN -> ReLU runs as one batch_norm_relu (training and evaluation); once
  // fuse_for_inference folded the BatchNorms, the stem's conv + ReLU and each block run through
  // conv2d_relu (ResidualBlock::forward); except where a pre-activation tap is asked for.
  auto wants = [taps](const std::string& name) { return taps != nullptr && taps->wants(name); };
  Tensor y;
  if (wants("stem_preact")) {
    y = bn1->forward(conv1->forward(to_conv_layout(x)));
    offer(taps, "stem_preact", y);
    y = y.relu();
  } else if (bn1->folded()) {
    y = conv_relu(*conv1, to_conv_layout(x));
  } else {
    y = bn1->forward_relu(conv1->forward(to_conv_layout(x)));
  }
  offer(taps, "stem", y);
  if (config_.stem == ResNetConfig::Stem::imagenet) y = max_pool2d(y, 3, Size2(2), 1);

  for (size_t s = 0; s < layers.size(); ++s) {
    const nn::Sequential& stage = *layers[s];
    const int64_t n = stage.size();
    for (int64_t j = 0; j < n; ++j) {
      const auto block = stage.at<ResidualBlock>(j);
      const std::string preact = fmt::format("layer{}_preact", s + 1);
      if (j == n - 1 && wants(preact)) {
        Tensor pre = block->forward_preact(y);
        offer(taps, preact, pre);
        y = pre.relu();
      } else {
        y = block->forward(y);
      }
      if (j == n - 1) offer(taps, fmt::format("layer{}", s + 1), y);
    }
  }
  Tensor pooled = adaptive_avg_pool2d(y, 1).flatten(1);
  offer(taps, "pooled", pooled);
  return fc->forward(pooled);
}

// ---- configurations ----

namespace {

struct Named {
  const char* name;
  ResNetConfig::Block block;
  std::vector<int64_t> blocks;
};

const std::vector<Named>& torchvision_table() {
  static const std::vector<Named> table{
      {"resnet18", ResNetConfig::Block::basic, {2, 2, 2, 2}},
      {"resnet34", ResNetConfig::Block::basic, {3, 4, 6, 3}},
      {"resnet50", ResNetConfig::Block::bottleneck, {3, 4, 6, 3}},
  };
  return table;
}

// RepDistiller's depths; "x4" adds the wide variant of the depths it names.
const std::vector<std::pair<int64_t, bool>>& cifar_table() {
  static const std::vector<std::pair<int64_t, bool>> table{{8, false},   {14, false}, {20, false},
                                                           {32, false},  {44, false}, {56, false},
                                                           {110, false}, {8, true},   {32, true}};
  return table;
}

std::string cifar_name(int64_t depth, bool wide) {
  return fmt::format("resnet{}{}", depth, wide ? "x4" : "");
}

ResNetConfig cifar_config(int64_t depth, bool wide, const ModelOptions& options) {
  const std::string name = cifar_name(depth, wide);
  TUTOR_CHECK(depth >= 8 && (depth - 2) % 6 == 0,
              "{}: a CIFAR ResNet's depth must be 6n + 2 with n >= 1, got {}", name, depth);
  const int64_t n = (depth - 2) / 6;
  ResNetConfig c;
  c.name = name;
  c.block = ResNetConfig::Block::basic;
  c.stem = ResNetConfig::Stem::cifar;
  c.stem_width = wide ? 32 : 16;
  c.planes = wide ? std::vector<int64_t>{64, 128, 256} : std::vector<int64_t>{16, 32, 64};
  c.blocks = {n, n, n};
  c.in_channels = options.in_channels.value_or(3);
  c.num_classes = options.num_classes.value_or(100);
  return c;
}

}  // namespace

std::vector<std::string> resnet_names() {
  std::vector<std::string> names;
  for (const Named& t : torchvision_table()) names.push_back(t.name);
  for (const auto& [depth, wide] : cifar_table()) names.push_back(cifar_name(depth, wide));
  return names;
}

ResNetConfig resnet_config(const std::string& name, const ModelOptions& options) {
  for (const Named& t : torchvision_table()) {
    if (name != t.name) continue;
    ResNetConfig c;
    c.name = name;
    c.block = t.block;
    c.stem = ResNetConfig::Stem::imagenet;
    c.stem_width = 64;
    c.planes = {64, 128, 256, 512};
    c.blocks = t.blocks;
    c.in_channels = options.in_channels.value_or(3);
    c.num_classes = options.num_classes.value_or(1000);
    return c;
  }
  for (const auto& [depth, wide] : cifar_table())
    if (name == cifar_name(depth, wide)) return cifar_config(depth, wide, options);
  fail("resnet_config: unknown ResNet '{}' (known: {})", name, fmt::join(resnet_names(), ", "));
}

std::shared_ptr<ResNet> resnet18(const ModelOptions& options) {
  return std::make_shared<ResNet>(resnet_config("resnet18", options));
}
std::shared_ptr<ResNet> resnet34(const ModelOptions& options) {
  return std::make_shared<ResNet>(resnet_config("resnet34", options));
}
std::shared_ptr<ResNet> resnet50(const ModelOptions& options) {
  return std::make_shared<ResNet>(resnet_config("resnet50", options));
}
std::shared_ptr<ResNet> cifar_resnet(int64_t depth, bool wide, const ModelOptions& options) {
  return std::make_shared<ResNet>(cifar_config(depth, wide, options));
}

}  // namespace tutor::models
