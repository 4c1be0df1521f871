#include "engine/nn/fold.h"

#include "engine/autograd/grad_mode.h"
#include "engine/ops/elementwise.h"

namespace tutor::nn {

FoldedConv folded_conv(const Conv2d& conv, const BatchNorm& bn) {
  TUTOR_CHECK(bn.track_running_stats,
              "fold_batch_norm: {} has no running statistics (track_running_stats=False), so its "
              "evaluation depends on the batch and cannot be folded into {}",
              bn.str(), conv.str());
  TUTOR_CHECK(bn.num_features == conv.out_channels,
              "fold_batch_norm: {} normalizes {} channels but {} has {} output channels", bn.str(),
              bn.num_features, conv.str(), conv.out_channels);
  NoGradGuard no_grad;
  const DType dtype = conv.weight.dtype();
  const Tensor mean = bn.running_mean.to(DType::f64), var = bn.running_var.to(DType::f64);
  Tensor scale = rsqrt(add(var, bn.eps));
  if (bn.weight.defined()) scale = mul(scale, bn.weight.to(DType::f64));
  Tensor shift = conv.bias.defined() ? sub(conv.bias.to(DType::f64), mean) : neg(mean);
  shift = mul(shift, scale);
  if (bn.bias.defined()) shift = add(shift, bn.bias.to(DType::f64));
  Tensor weight = mul(conv.weight.to(DType::f64), scale.view({conv.out_channels, 1, 1, 1}));
  return {weight.to(dtype).contiguous(), shift.to(dtype).contiguous()};
}

void fold_batch_norm(Conv2d& conv, BatchNorm& bn) {
  TUTOR_CHECK(!conv.is_training() && !bn.is_training(),
              "fold_batch_norm: {} and {} must be in evaluation mode (call eval() first): folding "
              "uses the running statistics, which only evaluation uses",
              conv.str(), bn.str());
  TUTOR_CHECK(!bn.folded(), "fold_batch_norm: {} is already folded into a conv", bn.str());
  FoldedConv f = folded_conv(conv, bn);
  const bool grad = conv.weight.requires_grad();
  conv.weight = conv.replace_parameter("weight", f.weight, grad);
  conv.bias = conv.replace_parameter("bias", f.bias, grad);
  bn.folded_ = true;
}

}  // namespace tutor::nn
