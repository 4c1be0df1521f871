// The state of an optimizer, LR schedule or EMA in a form a checkpoint can store: named tensors
// plus named scalars. Names are dotted paths, e.g. "state.3.exp_avg", "param_groups.0.lr".
#pragma once

#include <map>
#include <string>

#include "engine/core/tensor.h"

namespace tutor::optim {

struct StateDict {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, double> scalars;

  // The scalar `key`; throws naming `owner` and the key when it is missing.
  double scalar(const std::string& owner, const std::string& key) const;
  // The tensor `key`; throws naming `owner` and the key when it is missing.
  const Tensor& tensor(const std::string& owner, const std::string& key) const;
};

}  // namespace tutor::optim
