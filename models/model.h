// The base of every model in models/: an nn::Module whose forward maps a batch of inputs to logits
// and can fill named taps (models/taps.h) on the way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/nn/conv.h"
#include "engine/nn/module.h"
#include "engine/nn/normalization.h"
#include "models/taps.h"

namespace tutor::models {

// What a model can be built with; an unset field takes the model's default (e.g. 1000 classes
// and 3 channels for the torchvision ResNets).
struct ModelOptions {
  std::optional<int64_t> num_classes = std::nullopt;
  std::optional<int64_t> in_channels = std::nullopt;
};

class Model : public nn::Module {
 public:
  // type_name: the class ("ResNet"); name: the configuration ("resnet18"), used in messages.
  Model(std::string type_name, std::string name)
      : nn::Module(std::move(type_name)), name_(std::move(name)) {}
  const std::string& name() const { return name_; }

  Tensor forward(const Tensor& x) override { return forward(x, nullptr); }
  // Checks that every requested tap is one of tap_names() (an Error listing them otherwise), then
  // runs the model; "logits" is a tap of every model.
  Tensor forward(const Tensor& x, Taps* taps);
  Tensor operator()(const Tensor& x, Taps* taps = nullptr) { return forward(x, taps); }

  // The taps this model can fill, in forward order, "logits" last.
  virtual std::vector<std::string> tap_names() const = 0;

  // Each convolution whose output goes into a BatchNorm and nowhere else, with that BatchNorm:
  // what fuse_for_inference folds. None unless the model lists them.
  using ConvBn = std::pair<nn::Conv2d*, nn::BatchNorm*>;
  virtual std::vector<ConvBn> conv_bn_pairs() const { return {}; }

 protected:
  // The forward pass proper; it offers each intermediate tensor to `taps` when taps is not null.
  virtual Tensor run(const Tensor& x, Taps* taps) = 0;

 private:
  std::string name_;
};

// Prepares a model for inference: folds every eval-mode BatchNorm of model.conv_bn_pairs() into
// its conv (nn::fold_batch_norm: the convs get new weight and bias tensors, the BatchNorms become
// identities) and returns how many it folded. A model whose forward sees its BatchNorms folded may
// then run fused ops (the ResNets: conv2d_relu for conv -> ReLU and conv -> add -> ReLU). The model must be in evaluation mode (an Error
// otherwise; folding is never done behind a training model's back), and stays inference-only:
// its folded BatchNorms refuse to run in training mode. Tensors and state dicts taken from the
// model before keep the unfolded values.
int64_t fuse_for_inference(Model& model);

}  // namespace tutor::models
