// Parameters of the optimizer update kernels (engine/ops/optim_update.h).
#pragma once

namespace tutor::kernels {

// "sgd_update": PyTorch's SGD step for one parameter (torch/optim/sgd.py, _single_tensor_sgd):
//   d = g + weight_decay p
//   momentum != 0:  buf = first ? d : momentum buf + (1 - dampening) d
//                   d = nesterov ? d + momentum buf : buf
//   p = p - lr d
// in = {g}; out = {p, buf} ({p} alone when momentum == 0), updated in place. Every operand
// has the same shape and strides, non-overlapping and dense.
struct SgdParams {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
  bool first = false;  // buf holds no history yet: it becomes d
};

}  // namespace tutor::kernels
