// Containers of modules, as torch.nn.Sequential, ModuleList and ModuleDict. Their children's
// names are the state-dict path components: "0", "1", ... for the sequences (or the names given),
// the keys for the dictionary, in insertion order.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "engine/nn/module.h"

namespace tutor::nn {

// An ordered list of children addressed by position; the common part of Sequential and ModuleList.
class ModuleSequence : public Module {
 public:
  // Appends under the name str(size()), as PyTorch's append.
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> module) {
    return register_module(std::to_string(size()), std::move(module));
  }
  template <class M>
  std::shared_ptr<M> push_back(const std::string& name, std::shared_ptr<M> module) {
    return register_module(name, std::move(module));
  }
  int64_t size() const { return int64_t(named_children().size()); }
  bool empty() const { return named_children().empty(); }
  // Python indexing: negative indices count from the end; out of range is an Error.
  ModulePtr operator[](int64_t index) const;
  // The entry as its concrete type; an Error naming both types when it is another.
  template <class M>
  std::shared_ptr<M> at(int64_t index) const {
    ModulePtr m = (*this)[index];
    auto typed = std::dynamic_pointer_cast<M>(m);
    TUTOR_CHECK(typed != nullptr, "{}: entry {} is a {}, not the type asked for", type_name(),
                index, m->type_name());
    return typed;
  }
  auto begin() const { return named_children().begin(); }
  auto end() const { return named_children().end(); }

 protected:
  ModuleSequence(std::string type_name, std::initializer_list<ModulePtr> modules);
};

// Chains single-tensor forwards: y = m_{n-1}(... m_1(m_0(x))). An empty Sequential is the
// identity, as PyTorch's.
class Sequential : public ModuleSequence {
 public:
  Sequential(std::initializer_list<ModulePtr> modules = {})
      : ModuleSequence("Sequential", modules) {}
  // Named entries, as Sequential(OrderedDict([...])).
  explicit Sequential(const NamedModules& modules);
  Tensor forward(const Tensor& x) override;
};

// Holds children for a parent's own forward; has no forward itself.
class ModuleList : public ModuleSequence {
 public:
  ModuleList(std::initializer_list<ModulePtr> modules = {})
      : ModuleSequence("ModuleList", modules) {}
};

// Children by key, in insertion order; assigning an existing key replaces it in place, as
// PyTorch's __setitem__.
class ModuleDict : public Module {
 public:
  explicit ModuleDict(const NamedModules& modules = {});
  template <class M>
  std::shared_ptr<M> insert(const std::string& key, std::shared_ptr<M> module) {
    if (contains(key)) return replace_module(key, std::move(module));
    return register_module(key, std::move(module));
  }
  bool contains(const std::string& key) const;
  ModulePtr operator[](const std::string& key) const;  // an Error listing the keys when absent
  template <class M>
  std::shared_ptr<M> at(const std::string& key) const {
    ModulePtr m = (*this)[key];
    auto typed = std::dynamic_pointer_cast<M>(m);
    TUTOR_CHECK(typed != nullptr, "ModuleDict: entry '{}' is a {}, not the type asked for", key,
                m->type_name());
    return typed;
  }
  std::vector<std::string> keys() const;
  int64_t size() const { return int64_t(named_children().size()); }
  auto begin() const { return named_children().begin(); }
  auto end() const { return named_children().end(); }
};

}  // namespace tutor::nn
