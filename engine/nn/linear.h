// torch.nn.Linear: y = x W^T + b over the last dim.
#pragma once

#include "engine/nn/module.h"

namespace tutor::nn {

class Linear : public Module {
 public:
  // weight [out_features, in_features], then bias [out_features] when `bias`.
  Linear(int64_t in_features, int64_t out_features, bool bias = true);

  // x [..., in_features] -> [..., out_features].
  Tensor forward(const Tensor& x) override;

  // PyTorch's reset_parameters: weight ~ kaiming_uniform_(a = sqrt(5)), i.e.
  // U(-1/sqrt(in_features), 1/sqrt(in_features)), and bias ~ the same uniform.
  void reset_parameters();

  const int64_t in_features, out_features;
  Tensor weight, bias;

 protected:
  // For subclasses that only rename the type (MultiheadAttention's out_proj).
  Linear(std::string type_name, int64_t in_features, int64_t out_features, bool bias);
  std::string extra_repr() const override;
};

// PyTorch's Linear subclass for MultiheadAttention's out_proj: the same layer under the name that
// print(model) shows.
class NonDynamicallyQuantizableLinear : public Linear {
 public:
  NonDynamicallyQuantizableLinear(int64_t in_features, int64_t out_features, bool bias = true)
      : Linear("NonDynamicallyQuantizableLinear", in_features, out_features, bias) {}
};

// The bias initialization shared by Linear and the convolutions: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
// with fan_in from the weight, skipped when fan_in is 0 (PyTorch's reset_parameters).
void init_bias_from_fan_in(const Tensor& bias, const Tensor& weight);

}  // namespace tutor::nn
