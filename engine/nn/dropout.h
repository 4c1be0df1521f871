// Dropout (torch.nn.Dropout) and DropPath (timm's stochastic depth). Both are the identity in
// evaluation and draw from the default generator in training.
#pragma once

#include "engine/nn/module.h"

namespace tutor::nn {

// Zeroes each element with probability p and scales the rest by 1 / (1 - p) in training.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  double p;  // may be changed between steps

 protected:
  std::string extra_repr() const override;
};

// Drops whole samples of a residual branch (Huang et al. 2016, "Deep networks with stochastic
// depth"; timm.layers.drop_path): in training, for x [N, ...], y = x * m / keep with
// m ~ Bernoulli(keep) of shape [N, 1, ..., 1] and keep = 1 - drop_prob (no division when
// !scale_by_keep or keep = 0).
class DropPath : public Module {
 public:
  explicit DropPath(double drop_prob = 0, bool scale_by_keep = true);
  Tensor forward(const Tensor& x) override;
  double drop_prob;  // may be changed between steps (drop-path schedules)
  bool scale_by_keep;

 protected:
  std::string extra_repr() const override;  // timm's: "drop_prob=0.100"
};

}  // namespace tutor::nn
