#include "engine/nn/normalization.h"

#include "engine/autograd/grad_mode.h"
#include "engine/nn/init.h"
#include "engine/nn/repr.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/normalization.h"

namespace tutor::nn {

// ---- BatchNorm ----

BatchNorm::BatchNorm(std::string type_name, int64_t features, double eps_,
                     std::optional<double> momentum_, bool affine_, bool track)
    : Module(std::move(type_name)),
      num_features(features),
      eps(eps_),
      momentum(momentum_),
      affine(affine_),
      track_running_stats(track) {
  TUTOR_CHECK(features > 0, "{}: num_features must be positive, got {}", this->type_name(),
              features);
  TUTOR_CHECK(eps > 0, "{}: eps must be positive, got {}", this->type_name(), eps);
  TUTOR_CHECK(!momentum || (*momentum >= 0 && *momentum <= 1),
              "{}: momentum must be in [0, 1] (or None), got {}", this->type_name(),
              momentum.value_or(0));
  weight = register_parameter("weight", affine ? empty({features}) : Tensor());
  bias = register_parameter("bias", affine ? empty({features}) : Tensor());
  running_mean = register_buffer("running_mean", track ? zeros({features}) : Tensor());
  running_var = register_buffer("running_var", track ? ones({features}) : Tensor());
  num_batches_tracked =
      register_buffer("num_batches_tracked", track ? zeros({}, DType::i64) : Tensor());
  reset_parameters();
}

void BatchNorm::reset_running_stats() {
  if (!track_running_stats) return;
  NoGradGuard no_grad;
  running_mean.zero_();
  running_var.fill_(1);
  num_batches_tracked.zero_();
}

void BatchNorm::reset_parameters() {
  reset_running_stats();
  if (!affine) return;
  init::ones_(weight);
  init::zeros_(bias);
}

Tensor BatchNorm::forward(const Tensor& x) { return run(x, false); }

Tensor BatchNorm::forward_relu(const Tensor& x) { return run(x, true); }

Tensor BatchNorm::run(const Tensor& x, bool relu) {
  check_rank(x);
  TUTOR_CHECK(x.size(1) == num_features,
              "{}: input of shape {} has {} channels (dim 1), expected {}", str(),
              shape_str(x.sizes()), x.size(1), num_features);
  if (folded_) {
    TUTOR_CHECK(!is_training(),
                "{}: this layer was folded into the preceding conv for inference "
                "(nn::fold_batch_norm) and cannot run in training mode",
                str());
    return relu ? x.relu() : x;
  }
  double factor = momentum.value_or(0);
  const bool update = is_training() && track_running_stats;
  if (update) {
    NoGradGuard no_grad;
    add_(num_batches_tracked, 1.0);
    if (!momentum) factor = 1.0 / double(num_batches_tracked.item<int64_t>());
  }
  // Batch statistics in training, and in evaluation when there are no running ones.
  const bool use_batch_stats = is_training() || !track_running_stats;
  return relu
             ? batch_norm_relu(x, running_mean, running_var, weight, bias, use_batch_stats, factor,
                               eps)
             : batch_norm(x, running_mean, running_var, weight, bias, use_batch_stats, factor, eps);
}

std::string BatchNorm::extra_repr() const {
  return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}", num_features,
                     py_float(eps), momentum ? py_float(*momentum) : "None", py_bool(affine),
                     py_bool(track_running_stats));
}

void BatchNorm1d::check_rank(const Tensor& x) const {
  TUTOR_CHECK(x.dim() == 2 || x.dim() == 3, "{}: expected 2D or 3D input, got shape {}", str(),
              shape_str(x.sizes()));
}

void BatchNorm2d::check_rank(const Tensor& x) const {
  TUTOR_CHECK(x.dim() == 4, "{}: expected 4D input, got shape {}", str(), shape_str(x.sizes()));
}

// ---- FrozenBatchNorm2d ----

FrozenBatchNorm2d::FrozenBatchNorm2d(int64_t features, double eps_)
    : Module("FrozenBatchNorm2d"), num_features(features), eps(eps_) {
  TUTOR_CHECK(features > 0, "FrozenBatchNorm2d: num_features must be positive, got {}", features);
  weight = register_buffer("weight", ones({features}));
  bias = register_buffer("bias", zeros({features}));
  running_mean = register_buffer("running_mean", zeros({features}));
  running_var = register_buffer("running_var", ones({features}));
}

Tensor FrozenBatchNorm2d::forward(const Tensor& x) {
  TUTOR_CHECK(x.dim() == 4 && x.size(1) == num_features,
              "{}: expected input [N, {}, H, W], got shape {}", str(), num_features,
              shape_str(x.sizes()));
  // torchvision's formula, in this order: scale = w * rsqrt(rv + eps); shift = b - rm * scale.
  Tensor scale = weight * rsqrt(running_var + eps);
  Tensor shift = bias - running_mean * scale;
  return x * scale.view({1, -1, 1, 1}) + shift.view({1, -1, 1, 1});
}

std::string FrozenBatchNorm2d::extra_repr() const {
  return fmt::format("{}, eps={}", num_features, py_float(eps));
}

// ---- LayerNorm ----

LayerNorm::LayerNorm(Shape shape, double eps_, bool affine)
    : Module("LayerNorm"),
      normalized_shape(std::move(shape)),
      eps(eps_),
      elementwise_affine(affine) {
  bool positive = !normalized_shape.empty();
  for (int64_t s : normalized_shape) positive = positive && s > 0;
  TUTOR_CHECK(positive, "LayerNorm: normalized_shape must be non-empty and positive, got {}",
              shape_str(normalized_shape));
  weight = register_parameter("weight", affine ? empty(normalized_shape) : Tensor());
  bias = register_parameter("bias", affine ? empty(normalized_shape) : Tensor());
  reset_parameters();
}

void LayerNorm::reset_parameters() {
  if (!elementwise_affine) return;
  init::ones_(weight);
  init::zeros_(bias);
}

Tensor LayerNorm::forward(const Tensor& x) {
  const size_t k = normalized_shape.size();
  TUTOR_CHECK(x.sizes().size() >= k &&
                  Shape(x.sizes().end() - int64_t(k), x.sizes().end()) == normalized_shape,
              "{}: input of shape {} should end in the normalized shape {}", str(),
              shape_str(x.sizes()), shape_str(normalized_shape));
  return layer_norm(x, normalized_shape, weight, bias, eps);
}

std::string LayerNorm::extra_repr() const {
  return fmt::format("{}, eps={}, elementwise_affine={}", py_tuple(normalized_shape), py_float(eps),
                     py_bool(elementwise_affine));
}

// ---- GroupNorm ----

GroupNorm::GroupNorm(int64_t groups, int64_t channels, double eps_, bool affine_)
    : Module("GroupNorm"), num_groups(groups), num_channels(channels), eps(eps_), affine(affine_) {
  TUTOR_CHECK(groups > 0 && channels > 0 && channels % groups == 0,
              "GroupNorm: num_channels ({}) must be a positive multiple of num_groups ({})",
              channels, groups);
  weight = register_parameter("weight", affine ? empty({channels}) : Tensor());
  bias = register_parameter("bias", affine ? empty({channels}) : Tensor());
  reset_parameters();
}

void GroupNorm::reset_parameters() {
  if (!affine) return;
  init::ones_(weight);
  init::zeros_(bias);
}

Tensor GroupNorm::forward(const Tensor& x) {
  TUTOR_CHECK(x.dim() >= 2 && x.size(1) == num_channels,
              "{}: expected input [N, {}, *], got shape {}", str(), num_channels,
              shape_str(x.sizes()));
  return group_norm(x, num_groups, weight, bias, eps);
}

std::string GroupNorm::extra_repr() const {
  return fmt::format("{}, {}, eps={}, affine={}", num_groups, num_channels, py_float(eps),
                     py_bool(affine));
}

}  // namespace tutor::nn
