// The base of every optimizer: parameter groups with their own hyper-parameters, per-parameter
// state tensors, zero_grad and a checkpointable state dict. Parameters are plain tensors (leaves
// that collect .grad()), so an optimizer needs no Module.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/optim/state_dict.h"

namespace tutor::optim {

// A set of parameters sharing hyper-parameters, as a PyTorch param group. `options` holds "lr",
// "weight_decay" and the optimizer's own (e.g. "momentum", "beta1"); booleans are 0 or 1. Options
// a group leaves out take the optimizer's defaults at construction; an unknown name is an error.
// LR schedules add "initial_lr" (the lr their closed forms scale), as PyTorch's do.
struct ParamGroup {
  std::vector<Tensor> params;
  std::map<std::string, double> options;

  double lr() const { return get("lr"); }
  void set_lr(double lr) { options["lr"] = lr; }
  double weight_decay() const { return get("weight_decay"); }
  // The option `name`; throws naming it when the group has none.
  double get(const std::string& name) const;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient; parameters without one are skipped.
  virtual void step() = 0;
  // Clears every parameter's gradient: undefined (set_to_none) or filled with zeros.
  void zero_grad(bool set_to_none = true);

  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  const std::string& name() const { return name_; }

  // Per-parameter state: "state.<i>.<key>" tensors (momentum_buffer, exp_avg, ...) and scalars
  // (step), with <i> the parameter's index counted across groups in order, as in PyTorch; group
  // options as "param_groups.<g>.<option>" scalars and "param_groups.<g>.num_params".
  StateDict state_dict() const;
  // Restores a state_dict() of an optimizer of the same kind built over parameters of the same
  // shapes and grouping; group options are taken from the dict, as PyTorch does. State tensors are
  // converted to their parameter's dtype. Throws naming the optimizer and the field on mismatch.
  void load_state_dict(const StateDict& dict);

 protected:
  // `defaults` lists every option this optimizer knows, with its default value; `tensor_keys`
  // and `scalar_keys` name its per-parameter state, which load_state_dict accepts.
  Optimizer(std::string name, std::vector<ParamGroup> groups,
            std::map<std::string, double> defaults, std::set<std::string> tensor_keys,
            std::set<std::string> scalar_keys = {});

  // The state of parameter `index` (across groups): tensors and scalars by key.
  struct ParamState {
    std::map<std::string, Tensor> tensors;
    std::map<std::string, double> scalars;
  };
  ParamState& state(size_t index) { return state_[index]; }
  // Checks every group's options (the derived constructor calls it; load_state_dict too).
  void check_groups() const;
  virtual void check_group(const ParamGroup& group, size_t index) const = 0;
  // Checks that a loaded parameter state is complete (its keys belong together).
  virtual void check_param_state(const ParamState& /*state*/, size_t /*index*/) const {}
  // Throws "<name>: invalid <option> <value> in param group <g> (<rule>)" unless ok.
  void check_option(bool ok, size_t group, const char* option, double value,
                    const char* rule) const;

 private:
  std::pair<size_t, std::string> parse_state_name(const std::string& owner, const std::string& name,
                                                  size_t num_params, bool is_tensor) const;

  std::string name_;
  std::vector<ParamGroup> groups_;
  std::vector<ParamState> state_;
  std::set<std::string> tensor_keys_, scalar_keys_;
};

}  // namespace tutor::optim
