// Stochastic gradient descent with momentum, as torch.optim.SGD (PyTorch 1.13):
//   g = grad + weight_decay * p
//   buf = g                                   on the first step (the buffer starts as the gradient)
//   buf = momentum * buf + (1 - dampening) * g  afterwards
//   g = nesterov ? g + momentum * buf : buf     (when momentum != 0)
//   p = p - lr * g
#pragma once

#include "engine/optim/optimizer.h"

namespace tutor::optim {

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  // Group options: "lr", "momentum", "dampening", "weight_decay", "nesterov" (0 or 1).
  SGD(std::vector<ParamGroup> groups, const SGDOptions& defaults);
  SGD(std::vector<Tensor> params, const SGDOptions& defaults);

  void step() override;

 protected:
  void check_group(const ParamGroup& group, size_t index) const override;
};

}  // namespace tutor::optim
