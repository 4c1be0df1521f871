// Optimizer updates as single kernels: what optim::SGD runs per parameter instead of a chain of
// element-wise ops. Not differentiable (they run under no-grad, on leaves' data).
#pragma once

#include "engine/core/tensor.h"

namespace tutor {

struct SgdUpdate {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};

// One SGD step of PyTorch's torch.optim.SGD for `param` in place (kernels/optim_params.h has the
// formula). With momentum != 0, `momentum_buffer` is the parameter's buffer, updated in place; an
// undefined one is allocated in param's layout and started as PyTorch starts it (buf = d).
// `param` must be floating point, non-overlapping and dense; `grad` of its shape, dtype and
// device (copied into param's layout first when its strides differ).
void sgd_update_(const Tensor& param, const Tensor& grad, Tensor& momentum_buffer,
                 const SgdUpdate& options);

}  // namespace tutor
