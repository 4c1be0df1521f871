// An exponential moving average of named tensors (a model's parameters and buffers), for EMA
// teachers and evaluation weights, as timm's ModelEmaV2 with a fixed decay (no warmup of the
// decay):
//   ema = decay * ema + (1 - decay) * value   for floating tensors
//   ema = value                               for integer ones (e.g. num_batches_tracked)
// The averages are private copies; copy_to() writes them into a model's tensors.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/optim/state_dict.h"

namespace tutor::optim {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class ExponentialMovingAverage {
 public:
  // Starts the averages as copies of `values`; decay in [0, 1].
  ExponentialMovingAverage(const NamedTensors& values, double decay);

  // One update from the current values: the same names, in any order, with the same shapes.
  void update(const NamedTensors& values);
  // Writes the averages into `targets` (same names and shapes), converting dtypes.
  void copy_to(const NamedTensors& targets) const;

  double decay() const { return decay_; }
  int64_t num_updates() const { return num_updates_; }
  // The average named `name`; throws when there is none.
  const Tensor& average(const std::string& name) const;
  const NamedTensors& averages() const { return averages_; }

  // "ema.<name>" tensors, scalars "decay" and "num_updates".
  StateDict state_dict() const;
  void load_state_dict(const StateDict& dict);

 private:
  // The average matching `name` and `value`'s shape, or a thrown error naming `caller`.
  const Tensor& matching(const char* caller, const std::string& name, const Tensor& value) const;
  void check_same_names(const char* caller, const NamedTensors& values) const;

  NamedTensors averages_;
  double decay_;
  int64_t num_updates_ = 0;
};

}  // namespace tutor::optim
