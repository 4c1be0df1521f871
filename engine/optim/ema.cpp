#include "engine/optim/ema.h"

#include <cmath>
#include <set>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/elementwise.h"

namespace tutor::optim {

namespace {

Tensor private_copy(const Tensor& t) {
  Tensor copy = empty(t.sizes(), t.options());
  copy.copy_raw_(t);
  return copy;
}

}  // namespace

ExponentialMovingAverage::ExponentialMovingAverage(const NamedTensors& values, double decay)
    : decay_(decay) {
  TUTOR_CHECK(decay >= 0 && decay <= 1, "ExponentialMovingAverage: decay {} must be in [0, 1]",
              decay);
  std::set<std::string> seen;
  for (const auto& [name, value] : values) {
    TUTOR_CHECK(value.defined(), "ExponentialMovingAverage: tensor '{}' is undefined", name);
    TUTOR_CHECK(seen.insert(name).second, "ExponentialMovingAverage: name '{}' appears twice",
                name);
    averages_.emplace_back(name, private_copy(value));
  }
}

const Tensor& ExponentialMovingAverage::average(const std::string& name) const {
  for (const auto& [n, t] : averages_)
    if (n == name) return t;
  fail("ExponentialMovingAverage: no average named '{}'", name);
}

const Tensor& ExponentialMovingAverage::matching(const char* caller, const std::string& name,
                                                 const Tensor& value) const {
  const Tensor& avg = average(name);
  TUTOR_CHECK(value.defined() && value.sizes() == avg.sizes(),
              "ExponentialMovingAverage.{}: '{}' has shape {}, its average has shape {}", caller,
              name, value.defined() ? shape_str(value.sizes()) : "undefined",
              shape_str(avg.sizes()));
  return avg;
}

void ExponentialMovingAverage::check_same_names(const char* caller,
                                                const NamedTensors& values) const {
  TUTOR_CHECK(values.size() == averages_.size(),
              "ExponentialMovingAverage.{}: got {} tensors, it averages {}", caller, values.size(),
              averages_.size());
}

void ExponentialMovingAverage::update(const NamedTensors& values) {
  check_same_names("update", values);
  std::vector<std::pair<const Tensor*, const Tensor*>> pairs;
  for (const auto& [name, value] : values)
    pairs.emplace_back(&matching("update", name, value), &value);
  NoGradGuard no_grad;
  for (const auto& [avg, value] : pairs) {
    if (avg->is_floating_point()) {
      // ema + (1 - decay) * (value - ema) would differ from timm's form in the last bits.
      Tensor v = value->dtype() == avg->dtype() ? *value : value->to(avg->dtype());
      add_(mul_(*avg, decay_), v * (1 - decay_));
    } else {
      avg->copy_raw_(*value);
    }
  }
  ++num_updates_;
}

void ExponentialMovingAverage::copy_to(const NamedTensors& targets) const {
  check_same_names("copy_to", targets);
  std::vector<std::pair<const Tensor*, const Tensor*>> pairs;
  for (const auto& [name, target] : targets)
    pairs.emplace_back(&matching("copy_to", name, target), &target);
  for (const auto& [avg, target] : pairs) {
    target->copy_raw_(*avg);
    target->bump_version();
  }
}

StateDict ExponentialMovingAverage::state_dict() const {
  StateDict dict;
  for (const auto& [name, avg] : averages_) dict.tensors["ema." + name] = avg.clone();
  dict.scalars["decay"] = decay_;
  dict.scalars["num_updates"] = double(num_updates_);
  return dict;
}

void ExponentialMovingAverage::load_state_dict(const StateDict& dict) {
  const std::string owner = "ExponentialMovingAverage.load_state_dict";
  const double decay = dict.scalar(owner, "decay");
  const double updates = dict.scalar(owner, "num_updates");
  TUTOR_CHECK(decay >= 0 && decay <= 1, "{}: decay {} must be in [0, 1]", owner, decay);
  TUTOR_CHECK(updates >= 0 && updates == std::floor(updates) && updates < 1e15,
              "{}: num_updates {} is not a non-negative integer", owner, updates);
  TUTOR_CHECK(dict.tensors.size() == averages_.size(),
              "{}: the state dict has {} tensors, this averages {}", owner, dict.tensors.size(),
              averages_.size());
  for (const auto& [name, avg] : averages_) {
    const Tensor& t = dict.tensor(owner, "ema." + name);
    TUTOR_CHECK(t.defined() && t.sizes() == avg.sizes(), "{}: 'ema.{}' has shape {}, expected {}",
                owner, name, t.defined() ? shape_str(t.sizes()) : "undefined",
                shape_str(avg.sizes()));
  }
  for (const auto& [name, avg] : averages_) avg.copy_raw_(dict.tensors.at("ema." + name));
  decay_ = decay;
  num_updates_ = int64_t(updates);
}

}  // namespace tutor::optim
