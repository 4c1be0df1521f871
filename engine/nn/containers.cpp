#include "engine/nn/containers.h"

namespace tutor::nn {

ModuleSequence::ModuleSequence(std::string type_name, std::initializer_list<ModulePtr> modules)
    : Module(std::move(type_name)) {
  for (const ModulePtr& m : modules) push_back(m);
}

ModulePtr ModuleSequence::operator[](int64_t index) const {
  const int64_t n = size();
  TUTOR_CHECK(index >= -n && index < n, "{}: index {} is out of range for {} entries", type_name(),
              index, n);
  return named_children()[size_t(index < 0 ? index + n : index)].second;
}

Sequential::Sequential(const NamedModules& modules) : ModuleSequence("Sequential", {}) {
  for (const auto& [name, m] : modules) push_back(name, m);
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& [name, m] : named_children()) y = m->forward(y);
  return y;
}

ModuleDict::ModuleDict(const NamedModules& modules) : Module("ModuleDict") {
  for (const auto& [key, m] : modules) insert(key, m);
}

bool ModuleDict::contains(const std::string& key) const {
  for (const auto& [name, m] : named_children())
    if (name == key) return true;
  return false;
}

ModulePtr ModuleDict::operator[](const std::string& key) const {
  for (const auto& [name, m] : named_children())
    if (name == key) return m;
  fail("ModuleDict: no key '{}' (keys: {})", key, fmt::join(keys(), ", "));
}

std::vector<std::string> ModuleDict::keys() const {
  std::vector<std::string> out;
  for (const auto& [name, m] : named_children()) out.push_back(name);
  return out;
}

}  // namespace tutor::nn
