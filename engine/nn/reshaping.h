// Layers that pass their input through unchanged in value: torch.nn.Identity and Flatten.
#pragma once

#include "engine/nn/module.h"

namespace tutor::nn {

class Identity : public Module {
 public:
  Identity() : Module("Identity") {}
  Tensor forward(const Tensor& x) override { return x; }
};

// x.flatten(start_dim, end_dim); by default everything but the batch dim.
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : Module("Flatten"), start_dim(start_dim), end_dim(end_dim) {}
  Tensor forward(const Tensor& x) override { return x.flatten(start_dim, end_dim); }
  const int64_t start_dim, end_dim;

 protected:
  std::string extra_repr() const override {
    return fmt::format("start_dim={}, end_dim={}", start_dim, end_dim);
  }
};

}  // namespace tutor::nn
