// ResNets: torchvision's resnet18/34/50 (torchvision/models/resnet.py) and the CIFAR family of
// the KD benchmarks (RepDistiller models/resnet.py = mdistiller models/cifar/resnet.py): resnet8,
// 14, 20, 32, 44, 56, 110, resnet8x4, resnet32x4. Spec: shared/spec/models-and-transformer-kd.md
// §A1, §A2. State-dict keys are the reference's: conv1.weight, bn1.*, layer{L}.{j}.conv{k}.weight,
// layer{L}.{j}.bn{k}.*, layer{L}.{j}.downsample.{0,1}.*, fc.{weight,bias}.
//
// Both families are one network: a stem, stages of residual blocks (stride 1 in the first stage,
// 2 in the others, applied by the first block), global average pooling and a Linear head.
//   torchvision stem: conv 7x7/2 pad 3 -> BN -> ReLU -> max pool 3x3/2 pad 1
//   CIFAR stem:       conv 3x3/1 pad 1 -> BN -> ReLU
// The CIFAR reference pools with a fixed AvgPool2d(8) (32x32 inputs only); global average pooling
// equals it there and also serves 28x28 inputs (shared/spec/benchmarks.md's 1x28x28 resnet8/20).
//
// Taps (models/taps.h), in forward order:
//   stem_preact   after bn1, before the ReLU
//   stem          after the ReLU (before the max pool in the torchvision stem): RepDistiller's f0
//   layerK        stage K's output (post-ReLU): f1..f3 / mdistiller's feats
//   layerK_preact stage K's last residual sum before its ReLU: mdistiller's preact_feats[K]
//                 (its preact_feats[0] is the post-ReLU stem for the CIFAR models and the
//                 pre-ReLU one for the ImageNet models: stem and stem_preact here)
//   pooled        the pooled embedding [N, C], input of fc: RepDistiller's f4, pooled_feat
//   logits        [N, num_classes]
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/nn/nn.h"
#include "models/model.h"

namespace tutor::models {

// A residual block; forward(x) = ReLU(forward_preact(x)).
class ResidualBlock : public nn::Module {
 public:
  // The residual sum before the block's final ReLU: F(x) + shortcut(x).
  virtual Tensor forward_preact(const Tensor& x) = 0;
  // ReLU(forward_preact(x)); once the block's BatchNorms are folded into its convs
  // (fuse_for_inference), each conv -> ReLU and the closing conv -> add(shortcut) -> ReLU run as
  // one conv2d_relu each (engine/ops/fused.h), which equals the composition.
  Tensor forward(const Tensor& x) override;
  // True when every BatchNorm of the block is folded into its conv.
  bool folded() const;
  // The BatchNorm closing the residual branch (bn2 / bn3): RepDistiller's get_bn_before_relu.
  virtual std::shared_ptr<nn::BatchNorm2d> last_bn() const = 0;
  // The block's conv -> BN pairs, downsample's included (Model::conv_bn_pairs).
  virtual std::vector<Model::ConvBn> conv_bn_pairs() const = 0;

  std::shared_ptr<nn::Sequential> downsample;  // null for the identity shortcut

 protected:
  using nn::Module::Module;
  // Registers downsample = Sequential(conv1x1(stride, no bias), BN) when stride != 1 or the
  // width changes (after the branch's layers, so the state-dict order is the reference's).
  void add_downsample(int64_t in_planes, int64_t out_planes, int64_t stride);
  Tensor shortcut(const Tensor& x) { return downsample ? downsample->forward(x) : x; }
  // forward() of a folded block, through conv2d_relu.
  virtual Tensor forward_fused(const Tensor& x) = 0;
};

// conv3x3(stride) -> BN -> ReLU -> conv3x3 -> BN, + shortcut. Expansion 1. Each BN -> ReLU runs as
// one batch_norm_relu (nn::BatchNorm::forward_relu), in training and evaluation.
class BasicBlock : public ResidualBlock {
 public:
  static constexpr int64_t expansion = 1;
  BasicBlock(int64_t in_planes, int64_t planes, int64_t stride);
  Tensor forward_preact(const Tensor& x) override;
  std::shared_ptr<nn::BatchNorm2d> last_bn() const override { return bn2; }
  std::vector<Model::ConvBn> conv_bn_pairs() const override;

  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;

 protected:
  Tensor forward_fused(const Tensor& x) override;
};

// conv1x1 -> BN -> ReLU -> conv3x3(stride) -> BN -> ReLU -> conv1x1(4 planes) -> BN, + shortcut
// (ResNet v1.5: the stride sits on the 3x3). Expansion 4.
class Bottleneck : public ResidualBlock {
 public:
  static constexpr int64_t expansion = 4;
  Bottleneck(int64_t in_planes, int64_t planes, int64_t stride);
  Tensor forward_preact(const Tensor& x) override;
  std::shared_ptr<nn::BatchNorm2d> last_bn() const override { return bn3; }
  std::vector<Model::ConvBn> conv_bn_pairs() const override;

  std::shared_ptr<nn::Conv2d> conv1, conv2, conv3;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2, bn3;

 protected:
  Tensor forward_fused(const Tensor& x) override;
};

struct ResNetConfig {
  enum class Block { basic, bottleneck };
  enum class Stem { imagenet, cifar };

  std::string name;  // "resnet18", "resnet8x4", ...
  Block block = Block::basic;
  Stem stem = Stem::imagenet;
  int64_t stem_width = 64;      // conv1's output channels
  std::vector<int64_t> planes;  // per stage; a stage outputs planes * expansion channels
  std::vector<int64_t> blocks;  // per stage
  int64_t in_channels = 3;
  int64_t num_classes = 1000;
  // torchvision's option: the last BN of every block starts at weight 0 (off by default).
  bool zero_init_residual = false;
};

class ResNet : public Model {
 public:
  explicit ResNet(ResNetConfig config);

  const ResNetConfig& config() const { return config_; }
  std::vector<std::string> tap_names() const override;
  std::vector<ConvBn> conv_bn_pairs() const override;
  // Channels of the pooled embedding (fc's input).
  int64_t feature_dim() const { return fc->in_features; }
  // The BatchNorm closing each stage's last block (RepDistiller's get_bn_before_relu).
  std::vector<std::shared_ptr<nn::BatchNorm2d>> bn_before_relu() const;
  // The reference initialization: convs kaiming_normal_(fan_out, relu), BN weight 1 and bias 0
  // (then zero_init_residual), fc left at Linear's default. Done by the constructor.
  void reset_parameters();

  std::shared_ptr<nn::Conv2d> conv1;
  std::shared_ptr<nn::BatchNorm2d> bn1;
  std::vector<std::shared_ptr<nn::Sequential>> layers;  // layer1, layer2, ...
  std::shared_ptr<nn::Linear> fc;

 protected:
  Tensor run(const Tensor& x, Taps* taps) override;

 private:
  ResNetConfig config_;
};

// torchvision (defaults: 1000 classes, 3 channels).
std::shared_ptr<ResNet> resnet18(const ModelOptions& options = {});
std::shared_ptr<ResNet> resnet34(const ModelOptions& options = {});
std::shared_ptr<ResNet> resnet50(const ModelOptions& options = {});

// The CIFAR family (defaults: 100 classes, 3 channels). depth = 6n + 2 with n >= 1 blocks per
// stage; widths [16, 16, 32, 64], or [32, 64, 128, 256] when wide (the x4 models).
std::shared_ptr<ResNet> cifar_resnet(int64_t depth, bool wide, const ModelOptions& options = {});

// The configurations behind the factories, by name ("resnet18", "resnet56", "resnet8x4", ...);
// an Error listing the names otherwise.
ResNetConfig resnet_config(const std::string& name, const ModelOptions& options = {});
// Every name resnet_config knows, torchvision's first.
std::vector<std::string> resnet_names();

}  // namespace tutor::models
