// Activation functions as modules (torch.nn.ReLU, GELU, ...), each the op of the same name in
// engine/ops applied to its input, with PyTorch's defaults and reprs.
#pragma once

#include <string>

#include "engine/nn/module.h"

namespace tutor::nn {

class ReLU : public Module {
 public:
  ReLU() : Module("ReLU") {}
  Tensor forward(const Tensor& x) override;
};

class GELU : public Module {
 public:
  // approximate: "none" (the erf form) or "tanh".
  explicit GELU(std::string approximate = "none");
  Tensor forward(const Tensor& x) override;
  const std::string approximate;

 protected:
  std::string extra_repr() const override;
};

class SiLU : public Module {
 public:
  SiLU() : Module("SiLU") {}
  Tensor forward(const Tensor& x) override;
};

class Sigmoid : public Module {
 public:
  Sigmoid() : Module("Sigmoid") {}
  Tensor forward(const Tensor& x) override;
};

class Tanh : public Module {
 public:
  Tanh() : Module("Tanh") {}
  Tensor forward(const Tensor& x) override;
};

class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01)
      : Module("LeakyReLU"), negative_slope(negative_slope) {}
  Tensor forward(const Tensor& x) override;
  const double negative_slope;

 protected:
  std::string extra_repr() const override;
};

// log(1 + exp(beta x)) / beta, linear above x * beta > threshold.
class Softplus : public Module {
 public:
  explicit Softplus(double beta = 1, double threshold = 20)
      : Module("Softplus"), beta(beta), threshold(threshold) {}
  Tensor forward(const Tensor& x) override;
  const double beta, threshold;

 protected:
  std::string extra_repr() const override;
};

// Along `dim` (PyTorch's implicit dim=None is not offered: give the dim).
class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim) : Module("Softmax"), dim(dim) {}
  Tensor forward(const Tensor& x) override;
  const int64_t dim;

 protected:
  std::string extra_repr() const override;
};

class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int64_t dim) : Module("LogSoftmax"), dim(dim) {}
  Tensor forward(const Tensor& x) override;
  const int64_t dim;

 protected:
  std::string extra_repr() const override;
};

}  // namespace tutor::nn
