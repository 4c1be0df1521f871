// Normalization layers: torch.nn.BatchNorm1d/2d, LayerNorm, GroupNorm and torchvision's
// FrozenBatchNorm2d, with PyTorch's parameter and buffer names, registration order and defaults.
#pragma once

#include <optional>

#include "engine/nn/module.h"

namespace tutor::nn {

class BatchNorm;
class Conv2d;
void fold_batch_norm(Conv2d& conv, BatchNorm& bn);  // engine/nn/fold.h

// PyTorch's _BatchNorm. Registers weight, bias [C] (when affine), then the buffers running_mean,
// running_var [C] and num_batches_tracked (i64, 0-dim) when track_running_stats.
//
// Training normalizes with the batch's statistics and, when tracking, adds 1 to
// num_batches_tracked and updates running = (1 - f) running + f batch_stat (unbiased variance)
// with f = momentum, or f = 1 / num_batches_tracked when momentum is nullopt (a cumulative
// average, PyTorch's momentum=None). Evaluation normalizes with the running statistics; without
// them (track_running_stats = false) it uses the batch's, as PyTorch.
class BatchNorm : public Module {
 public:
  void reset_running_stats();  // mean 0, var 1, num_batches_tracked 0
  void reset_parameters();     // the running stats, and weight 1, bias 0

  // After nn::fold_batch_norm has moved this layer's evaluation into the preceding conv, forward
  // passes its input through (in evaluation only: a folded layer has nothing to train with).
  Tensor forward(const Tensor& x) override;
  // relu(forward(x)) as one op (batch_norm_relu: one kernel forward and backward), in training
  // and evaluation; the layer's BN -> ReLU in a CNN.
  Tensor forward_relu(const Tensor& x);
  bool folded() const { return folded_; }

  const int64_t num_features;
  double eps;                      // may be changed between steps
  std::optional<double> momentum;  // may be changed between steps
  const bool affine, track_running_stats;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 protected:
  BatchNorm(std::string type_name, int64_t num_features, double eps, std::optional<double> momentum,
            bool affine, bool track_running_stats);
  std::string extra_repr() const override;
  // The input ranks the layer accepts, e.g. "2D or 3D"; an Error naming the layer otherwise.
  virtual void check_rank(const Tensor& x) const = 0;

 private:
  friend void fold_batch_norm(Conv2d& conv, BatchNorm& bn);
  Tensor run(const Tensor& x, bool relu);
  bool folded_ = false;
};

// Input [N, C] or [N, C, L].
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, double eps = 1e-5,
                       std::optional<double> momentum = 0.1, bool affine = true,
                       bool track_running_stats = true)
      : BatchNorm("BatchNorm1d", num_features, eps, momentum, affine, track_running_stats) {}

 protected:
  void check_rank(const Tensor& x) const override;
};

// Input [N, C, H, W].
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5,
                       std::optional<double> momentum = 0.1, bool affine = true,
                       bool track_running_stats = true)
      : BatchNorm("BatchNorm2d", num_features, eps, momentum, affine, track_running_stats) {}

 protected:
  void check_rank(const Tensor& x) const override;
};

// torchvision.ops.FrozenBatchNorm2d: a BatchNorm2d whose statistics and affine parameters are all
// fixed buffers (weight 1, bias 0, running_mean 0, running_var 1 until loaded), in training as in
// evaluation: y = x * scale + shift per channel with scale = weight / sqrt(running_var + eps),
// shift = bias - running_mean * scale. Loading a BatchNorm2d's state drops its
// num_batches_tracked, as torchvision's _load_from_state_dict.
class FrozenBatchNorm2d : public Module {
 public:
  explicit FrozenBatchNorm2d(int64_t num_features, double eps = 1e-5);
  Tensor forward(const Tensor& x) override;  // x [N, C, H, W]

  const int64_t num_features;
  double eps;
  Tensor weight, bias, running_mean, running_var;

 protected:
  std::string extra_repr() const override;
  std::vector<std::string> ignored_state_keys() const override { return {"num_batches_tracked"}; }
};

// Normalizes over the trailing dims equal to normalized_shape; weight (ones) and bias (zeros) of
// that shape when elementwise_affine.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  explicit LayerNorm(int64_t normalized_size, double eps = 1e-5, bool elementwise_affine = true)
      : LayerNorm(Shape{normalized_size}, eps, elementwise_affine) {}
  Tensor forward(const Tensor& x) override;
  void reset_parameters();

  const Shape normalized_shape;
  double eps;
  const bool elementwise_affine;
  Tensor weight, bias;

 protected:
  std::string extra_repr() const override;
};

// Input [N, C, *], statistics per sample over groups of C / num_groups channels; per-channel
// weight (ones) and bias (zeros) [C] when affine.
class GroupNorm : public Module {
 public:
  GroupNorm(int64_t num_groups, int64_t num_channels, double eps = 1e-5, bool affine = true);
  Tensor forward(const Tensor& x) override;
  void reset_parameters();

  const int64_t num_groups, num_channels;
  double eps;
  const bool affine;
  Tensor weight, bias;

 protected:
  std::string extra_repr() const override;
};

}  // namespace tutor::nn
