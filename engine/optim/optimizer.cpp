#include "engine/optim/optimizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>

#include "engine/autograd/grad_mode.h"

namespace tutor::optim {

double StateDict::scalar(const std::string& owner, const std::string& key) const {
  auto it = scalars.find(key);
  TUTOR_CHECK(it != scalars.end(), "{}: state dict has no scalar '{}'", owner, key);
  return it->second;
}

const Tensor& StateDict::tensor(const std::string& owner, const std::string& key) const {
  auto it = tensors.find(key);
  TUTOR_CHECK(it != tensors.end(), "{}: state dict has no tensor '{}'", owner, key);
  return it->second;
}

double ParamGroup::get(const std::string& name) const {
  auto it = options.find(name);
  TUTOR_CHECK(it != options.end(), "ParamGroup: no option '{}'", name);
  return it->second;
}

Optimizer::Optimizer(std::string name, std::vector<ParamGroup> groups,
                     std::map<std::string, double> defaults, std::set<std::string> tensor_keys,
                     std::set<std::string> scalar_keys)
    : name_(std::move(name)),
      groups_(std::move(groups)),
      tensor_keys_(std::move(tensor_keys)),
      scalar_keys_(std::move(scalar_keys)) {
  TUTOR_CHECK(!groups_.empty(), "{}: no parameter groups", name_);
  size_t count = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    ParamGroup& group = groups_[g];
    TUTOR_CHECK(!group.params.empty(), "{}: param group {} has no parameters", name_, g);
    for (const auto& [key, value] : group.options) {
      TUTOR_CHECK(defaults.count(key) || key == "initial_lr",
                  "{}: unknown option '{}' = {} in param group {}", name_, key, value, g);
    }
    for (const auto& [key, value] : defaults) group.options.emplace(key, value);
    for (size_t i = 0; i < group.params.size(); ++i) {
      const Tensor& p = group.params[i];
      TUTOR_CHECK(p.defined(), "{}: parameter {} of param group {} is undefined", name_, i, g);
      TUTOR_CHECK(p.is_floating_point(),
                  "{}: parameter {} of param group {} is {}, expected a floating dtype", name_, i,
                  g, p.dtype());
      for (size_t h = 0; h <= g; ++h) {
        for (const Tensor& q : groups_[h].params) {
          if (&q == &p) break;
          TUTOR_CHECK(!q.is_same(p), "{}: a parameter appears twice (param group {} and {})", name_,
                      h, g);
        }
      }
    }
    count += group.params.size();
  }
  state_.resize(count);
}

void Optimizer::check_groups() const {
  for (size_t g = 0; g < groups_.size(); ++g) {
    check_option(groups_[g].lr() >= 0, g, "lr", groups_[g].lr(), "must be >= 0");
    check_option(groups_[g].weight_decay() >= 0, g, "weight_decay", groups_[g].weight_decay(),
                 "must be >= 0");
    check_group(groups_[g], g);
  }
}

void Optimizer::check_option(bool ok, size_t group, const char* option, double value,
                             const char* rule) const {
  TUTOR_CHECK(ok, "{}: invalid {} {} in param group {} ({})", name_, option, value, group, rule);
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (ParamGroup& group : groups_) {
    for (Tensor& p : group.params) {
      Tensor& grad = p.mutable_grad();
      if (!grad.defined()) continue;
      if (set_to_none) {
        grad = Tensor();
      } else {
        grad = grad.detach();  // as PyTorch: a grad with history is cut from it first
        grad.zero_();
      }
    }
  }
}

StateDict Optimizer::state_dict() const {
  StateDict dict;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = fmt::format("param_groups.{}.", g);
    for (const auto& [key, value] : groups_[g].options) dict.scalars[prefix + key] = value;
    dict.scalars[prefix + "num_params"] = double(groups_[g].params.size());
  }
  for (size_t i = 0; i < state_.size(); ++i) {
    const std::string prefix = fmt::format("state.{}.", i);
    for (const auto& [key, t] : state_[i].tensors) dict.tensors[prefix + key] = t.clone();
    for (const auto& [key, value] : state_[i].scalars) dict.scalars[prefix + key] = value;
  }
  return dict;
}

// "state.<index>.<key>" -> (index, key), checked against the parameter count and this
// optimizer's keys of that kind (tensor or scalar).
std::pair<size_t, std::string> Optimizer::parse_state_name(const std::string& owner,
                                                           const std::string& name,
                                                           size_t num_params,
                                                           bool is_tensor) const {
  const std::string_view prefix = "state.";
  const size_t dot = name.find('.', prefix.size());
  size_t index = 0;
  const char* first = name.data() + prefix.size();
  const char* last = name.data() + std::min(dot, name.size());
  const auto [end, error] = std::from_chars(first, last, index);
  TUTOR_CHECK(name.rfind(prefix, 0) == 0 && dot != std::string::npos && first != last &&
                  error == std::errc() && end == last && index < num_params,
              "{}: unexpected entry '{}' (expected state.<index < {}>.<key>)", owner, name,
              num_params);
  const std::string key = name.substr(dot + 1);
  const auto& keys = is_tensor ? tensor_keys_ : scalar_keys_;
  TUTOR_CHECK(keys.count(key), "{}: '{}' is not {} state of {} (its {} state: {})", owner, name,
              is_tensor ? "tensor" : "scalar", name_, is_tensor ? "tensor" : "scalar",
              fmt::join(keys, ", "));
  return {index, key};
}

void Optimizer::load_state_dict(const StateDict& dict) {
  const std::string owner = name_ + ".load_state_dict";
  // Group structure first, so that nothing changes when the dict does not fit.
  size_t num_groups = 0;
  while (dict.scalars.count(fmt::format("param_groups.{}.num_params", num_groups))) ++num_groups;
  TUTOR_CHECK(num_groups == groups_.size(), "{}: the state dict has {} param groups, this has {}",
              owner, num_groups, groups_.size());
  std::vector<ParamGroup> groups = groups_;
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::string prefix = fmt::format("param_groups.{}.", g);
    const double n = dict.scalar(owner, prefix + "num_params");
    TUTOR_CHECK(n == double(groups[g].params.size()),
                "{}: param group {} has {} parameters in the state dict, {} here", owner, g, n,
                groups[g].params.size());
    for (auto& [key, value] : groups[g].options) value = dict.scalar(owner, prefix + key);
    auto initial = dict.scalars.find(prefix + "initial_lr");
    if (initial != dict.scalars.end()) groups[g].options["initial_lr"] = initial->second;
  }
  std::vector<ParamState> states(state_.size());
  std::vector<const Tensor*> params;
  for (const ParamGroup& group : groups_)
    for (const Tensor& p : group.params) params.push_back(&p);
  for (const auto& [name, t] : dict.tensors) {
    const auto [index, key] = parse_state_name(owner, name, params.size(), true);
    const Tensor& p = *params[index];
    TUTOR_CHECK(t.defined() && t.sizes() == p.sizes(),
                "{}: '{}' has shape {}, its parameter has shape {}", owner, name,
                t.defined() ? shape_str(t.sizes()) : "undefined", shape_str(p.sizes()));
    Tensor copy = empty(p.sizes(), p.options());
    copy.copy_raw_(t);
    states[index].tensors[key] = copy;
  }
  for (const auto& [name, value] : dict.scalars) {
    if (name.rfind("state.", 0) != 0) continue;
    const auto [index, key] = parse_state_name(owner, name, params.size(), false);
    // The only scalar state is a step count.
    TUTOR_CHECK(value >= 0 && value == std::floor(value) && value < 1e15,
                "{}: '{}' = {} is not a step count (a non-negative integer)", owner, name, value);
    states[index].scalars[key] = value;
  }
  for (size_t i = 0; i < states.size(); ++i) check_param_state(states[i], i);
  std::swap(groups, groups_);
  try {
    check_groups();
  } catch (...) {
    std::swap(groups, groups_);
    throw;
  }
  state_ = std::move(states);
}

}  // namespace tutor::optim
