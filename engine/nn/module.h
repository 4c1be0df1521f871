// Module: the building block of models, shaped like torch.nn.Module. A module owns named
// parameters (leaf tensors that train), named buffers (state such as running statistics) and named
// child modules. Dotted names ("layer1.0.conv1.weight") equal PyTorch's state-dict keys when a
// model registers the same names in the same order, so weights move both ways by name.
//
//   class Block : public nn::Module {
//    public:
//     Block() : Module("Block") {
//       fc = register_module("fc", std::make_shared<nn::Linear>(4, 4));
//       scale = register_parameter("scale", ones({4}));
//     }
//     Tensor forward(const Tensor& x) override { return (*fc)(x) * scale; }
//     std::shared_ptr<nn::Linear> fc;
//     Tensor scale;
//   };
//
// Handles returned by register_parameter/register_buffer share their TensorImpl with the module's
// registry, and conversions (to(dtype), load_state_dict) change the data in place, so member
// handles stay valid.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"

namespace tutor::nn {

using tutor::NamedTensors;

class Module;
using ModulePtr = std::shared_ptr<Module>;
using NamedModules = std::vector<std::pair<std::string, ModulePtr>>;

// What load_state_dict found; with strict loading any entry is an error instead.
struct LoadReport {
  std::vector<std::string> missing;     // expected by the module, absent from the file
  std::vector<std::string> unexpected;  // in the file, unknown to the module
  std::vector<std::string> mismatched;  // "name: file [2, 3] vs module [3, 2]" (not loaded)
  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string str() const;
};

class Module {
 public:
  explicit Module(std::string type_name = "Module") : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The single-tensor forward that Sequential chains; modules with other signatures add their own
  // forward overloads and may leave this one throwing.
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }

  const std::string& type_name() const { return type_name_; }

  // ---- registration (in the constructor; the order is the state-dict order) ----
  // An undefined tensor registers an absent parameter (PyTorch's bias=None): listed nowhere.
  Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  // Non-persistent buffers are left out of state_dict(), as PyTorch's persistent=False.
  Tensor register_buffer(const std::string& name, Tensor t, bool persistent = true);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }
  // Swaps a registered child for another (e.g. a new classifier head); returns the new one.
  template <class M>
  std::shared_ptr<M> replace_module(const std::string& name, std::shared_ptr<M> module) {
    set_child(name, module);
    return module;
  }

  // Swaps a registered parameter slot (possibly an absent one, such as bias=None) for `t`; the
  // tensor it held, and any state dict that shares it, is left as it was. Returns `t`.
  Tensor replace_parameter(const std::string& name, Tensor t, bool requires_grad = true);

  // ---- traversal: pre-order, own entries before children's, as PyTorch ----
  NamedTensors named_parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  const NamedModules& named_children() const { return children_; }
  // Every descendant with its dotted path; the module itself is not included.
  NamedModules named_modules() const;
  // "layer1.0.conv1" -> that module; throws naming the path when absent.
  ModulePtr submodule(const std::string& path) const;
  // "layer1.0.conv1.weight" -> that parameter or buffer; throws naming the path when absent.
  Tensor tensor_at(const std::string& path) const;

  // ---- state ----
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Converts floating parameters and buffers (and their grads) in place.
  void to(DType dtype);
  void to(Device device);
  void requires_grad_(bool enabled = true);
  void zero_grad();  // drops every parameter's .grad() (PyTorch's set_to_none=True)
  int64_t num_parameters() const;

  // Parameters and persistent buffers, by dotted name, sharing storage with the module.
  NamedTensors state_dict() const;
  // Copies values in by name (converting dtype). Strict: any missing, unexpected or shape-
  // mismatched key is an Error listing all of them with both shapes; otherwise they are reported.
  LoadReport load_state_dict(const NamedTensors& state, bool strict = true);

  // PyTorch-style tree, e.g. "Linear(in_features=4, out_features=2, bias=True)".
  std::string str() const;

 protected:
  // The text inside the parentheses of this module's line in str().
  virtual std::string extra_repr() const { return {}; }
  // Keys (relative to this module) that load_state_dict drops without reporting them: for a layer
  // that reads another layer's checkpoints (FrozenBatchNorm2d drops BatchNorm's
  // num_batches_tracked, as torchvision's _load_from_state_dict).
  virtual std::vector<std::string> ignored_state_keys() const { return {}; }

 private:
  void add_child(const std::string& name, ModulePtr module);
  void set_child(const std::string& name, ModulePtr module);
  void check_new_name(const std::string& name, const char* what) const;
  void collect(const std::string& prefix, bool params, bool buffers, bool persistent_only,
               bool recurse, NamedTensors& out) const;
  void print(std::string& out, int indent) const;

  struct Slot {
    std::string name;
    Tensor tensor;
    bool persistent = true;
  };
  std::string type_name_;
  bool training_ = true;
  std::vector<Slot> params_;
  std::vector<Slot> buffers_;
  NamedModules children_;
};

}  // namespace tutor::nn
