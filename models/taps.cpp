#include "models/taps.h"

#include <algorithm>

#include "engine/core/error.h"

namespace tutor::models {

Taps::Taps(std::vector<std::string> requested) : requested_(std::move(requested)) {
  for (size_t i = 0; i < requested_.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      TUTOR_CHECK(requested_[i] != requested_[j], "Taps: '{}' is requested twice", requested_[i]);
}

bool Taps::wants(const std::string& name) const {
  return std::find(requested_.begin(), requested_.end(), name) != requested_.end();
}

void Taps::offer(const std::string& name, const Tensor& t) {
  if (wants(name)) tensors_[name] = t;
}

const Tensor& Taps::at(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    std::vector<std::string> filled;
    for (const auto& [n, t] : tensors_) filled.push_back(n);
    fail("Taps: no tensor '{}' (filled: {}{})", name, fmt::join(filled, ", "),
         wants(name) ? "; it was requested but the forward has not run" : "; it was not requested");
  }
  return it->second;
}

void Taps::check_known(const std::string& model, const std::vector<std::string>& valid) const {
  std::vector<std::string> unknown;
  for (const std::string& name : requested_)
    if (std::find(valid.begin(), valid.end(), name) == valid.end()) unknown.push_back(name);
  TUTOR_CHECK(unknown.empty(), "{}: unknown tap{} {} (valid taps: {})", model,
              unknown.size() > 1 ? "s" : "", fmt::join(unknown, ", "), fmt::join(valid, ", "));
}

}  // namespace tutor::models
