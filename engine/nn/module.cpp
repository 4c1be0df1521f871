#include "engine/nn/module.h"

#include <algorithm>
#include <map>

#include "engine/autograd/grad_mode.h"

namespace tutor::nn {

std::string LoadReport::str() const {
  std::string s;
  if (!missing.empty()) s += fmt::format("missing keys: {}; ", fmt::join(missing, ", "));
  if (!unexpected.empty()) s += fmt::format("unexpected keys: {}; ", fmt::join(unexpected, ", "));
  if (!mismatched.empty()) s += fmt::format("shape mismatches: {}; ", fmt::join(mismatched, "; "));
  if (s.size() >= 2) s.resize(s.size() - 2);
  return s;
}

Tensor Module::forward(const Tensor&) {
  fail("{}: this module has no single-tensor forward", type_name_);
}

void Module::check_new_name(const std::string& name, const char* what) const {
  TUTOR_CHECK(!name.empty() && name.find('.') == std::string::npos,
              "{}: {} name '{}' must be non-empty and contain no '.'", type_name_, what, name);
  auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& e) {
      if constexpr (std::is_same_v<std::decay_t<decltype(e)>, Slot>) return e.name == name;
      else return e.first == name;
    });
  };
  TUTOR_CHECK(!taken(params_) && !taken(buffers_) && !taken(children_),
              "{}: the name '{}' is already registered", type_name_, name);
}

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  check_new_name(name, "parameter");
  if (t.defined()) {
    TUTOR_CHECK(t.is_leaf(), "{}: parameter '{}' must be a leaf tensor (detach it first)",
                type_name_, name);
    if (requires_grad) t.requires_grad_(true);
  }
  params_.push_back({name, t, true});
  return t;
}

Tensor Module::replace_parameter(const std::string& name, Tensor t, bool requires_grad) {
  for (Slot& s : params_)
    if (s.name == name) {
      if (t.defined()) {
        TUTOR_CHECK(t.is_leaf(), "{}: parameter '{}' must be a leaf tensor (detach it first)",
                    type_name_, name);
        if (requires_grad) t.requires_grad_(true);
      }
      s.tensor = t;
      return t;
    }
  fail("{}: there is no parameter '{}' to replace", type_name_, name);
}

Tensor Module::register_buffer(const std::string& name, Tensor t, bool persistent) {
  check_new_name(name, "buffer");
  buffers_.push_back({name, t, persistent});
  return t;
}

void Module::add_child(const std::string& name, ModulePtr module) {
  check_new_name(name, "submodule");
  TUTOR_CHECK(module != nullptr, "{}: submodule '{}' is null", type_name_, name);
  children_.emplace_back(name, std::move(module));
}

void Module::set_child(const std::string& name, ModulePtr module) {
  TUTOR_CHECK(module != nullptr, "{}: submodule '{}' is null", type_name_, name);
  for (auto& [n, m] : children_)
    if (n == name) {
      m = std::move(module);
      return;
    }
  fail("{}: there is no submodule '{}' to replace", type_name_, name);
}

void Module::collect(const std::string& prefix, bool params, bool buffers, bool persistent_only,
                     bool recurse, NamedTensors& out) const {
  if (params)
    for (const Slot& s : params_)
      if (s.tensor.defined()) out.emplace_back(prefix + s.name, s.tensor);
  if (buffers)
    for (const Slot& s : buffers_)
      if (s.tensor.defined() && (s.persistent || !persistent_only))
        out.emplace_back(prefix + s.name, s.tensor);
  if (recurse)
    for (const auto& [name, child] : children_)
      child->collect(prefix + name + ".", params, buffers, persistent_only, true, out);
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  collect("", true, false, false, recurse, out);
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  collect("", false, true, false, recurse, out);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

NamedModules Module::named_modules() const {
  NamedModules out;
  for (const auto& [name, child] : children_) {
    out.emplace_back(name, child);
    for (auto& [sub, m] : child->named_modules()) out.emplace_back(name + "." + sub, m);
  }
  return out;
}

ModulePtr Module::submodule(const std::string& path) const {
  const Module* at = this;
  ModulePtr found;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    auto it = std::find_if(at->children_.begin(), at->children_.end(),
                           [&](const auto& c) { return c.first == part; });
    TUTOR_CHECK(it != at->children_.end(), "{}: no submodule '{}' (at '{}')", type_name_, path,
                part);
    found = it->second;
    at = found.get();
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  TUTOR_CHECK(found != nullptr, "{}: empty submodule path", type_name_);
  return found;
}

Tensor Module::tensor_at(const std::string& path) const {
  size_t dot = path.rfind('.');
  const Module* owner = this;
  ModulePtr holder;
  if (dot != std::string::npos) {
    holder = submodule(path.substr(0, dot));
    owner = holder.get();
  }
  std::string leaf = dot == std::string::npos ? path : path.substr(dot + 1);
  for (const auto* list : {&owner->params_, &owner->buffers_})
    for (const Slot& s : *list)
      if (s.name == leaf && s.tensor.defined()) return s.tensor;
  fail("{}: no parameter or buffer '{}'", type_name_, path);
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

// Converts every floating slot (and its grad) with `convert`, in place.
template <class F>
static void convert_slots(const NamedTensors& tensors, F convert) {
  NoGradGuard no_grad;
  for (const auto& [name, t] : tensors) {
    t.set_data(convert(t.detach()));
    if (t.grad().defined()) t.mutable_grad() = convert(t.grad());
  }
}

void Module::to(DType dtype) {
  TUTOR_CHECK(is_floating(dtype), "{}: to({}): modules convert to floating dtypes only",
              type_name_, dtype);
  NamedTensors floating;
  for (auto& entry : named_parameters()) floating.push_back(entry);
  for (auto& entry : named_buffers())
    if (entry.second.is_floating_point()) floating.push_back(entry);
  convert_slots(floating, [dtype](const Tensor& t) { return t.to(dtype); });
}

void Module::to(Device device) {
  TUTOR_CHECK(device.is_cpu(), "{}: to({}): this build has no CUDA backend", type_name_,
              device.str());
}

void Module::requires_grad_(bool enabled) {
  for (auto& [name, t] : named_parameters()) t.requires_grad_(enabled);
}

void Module::zero_grad() {
  for (auto& [name, t] : named_parameters()) t.mutable_grad() = Tensor();
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect("", true, true, true, true, out);
  for (auto& [name, t] : out) t = t.detach();
  return out;
}

LoadReport Module::load_state_dict(const NamedTensors& state, bool strict) {
  std::map<std::string, const Tensor*> given;
  LoadReport report;
  for (const auto& [name, t] : state) {
    TUTOR_CHECK(given.emplace(name, &t).second, "{}: load_state_dict: key '{}' appears twice",
                type_name_, name);
  }
  auto drop_ignored = [&](const std::string& prefix, const Module& m) {
    for (const std::string& key : m.ignored_state_keys()) given.erase(prefix + key);
  };
  drop_ignored("", *this);
  for (const auto& [path, m] : named_modules()) drop_ignored(path + ".", *m);
  NamedTensors own = state_dict();
  std::vector<std::pair<const Tensor*, const Tensor*>> copies;  // destination, source
  for (const auto& [name, t] : own) {
    auto it = given.find(name);
    if (it == given.end()) {
      report.missing.push_back(name);
      continue;
    }
    const Tensor& src = *it->second;
    if (src.sizes() != t.sizes())
      report.mismatched.push_back(fmt::format("{}: given {} vs module {}", name,
                                              shape_str(src.sizes()), shape_str(t.sizes())));
    else
      copies.emplace_back(&t, &src);
    given.erase(it);
  }
  for (const auto& [name, t] : given) report.unexpected.push_back(name);
  TUTOR_CHECK(!strict || report.ok(), "{}: load_state_dict: {}", type_name_, report.str());
  NoGradGuard no_grad;
  for (auto [dst, src] : copies) {
    dst->copy_raw_(*src);
    dst->bump_version();
  }
  return report;
}

void Module::print(std::string& out, int indent) const {
  out += fmt::format("{}(", type_name_);
  std::string extra = extra_repr();
  if (children_.empty()) {
    out += extra + ")";
    return;
  }
  if (!extra.empty()) out += fmt::format("\n{:{}}{}", "", indent + 2, extra);
  for (const auto& [name, child] : children_) {
    out += fmt::format("\n{:{}}({}): ", "", indent + 2, name);
    child->print(out, indent + 2);
  }
  out += fmt::format("\n{:{}})", "", indent);
}

std::string Module::str() const {
  std::string out;
  print(out, 0);
  return out;
}

}  // namespace tutor::nn
