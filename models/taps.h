// Named intermediate tensors ("taps") that a model's forward fills on request: stage outputs,
// pre-activation features, the pooled embedding, the logits. The caller names what it wants;
// the model stores only those, so an untapped forward keeps nothing alive.
//
//   models::Taps taps{"layer3_preact", "pooled"};
//   Tensor logits = model->forward(x, &taps);
//   Tensor f = taps.at("layer3_preact");
//
// The tapped tensors are the forward's own (not detached): a loss on them backpropagates into the
// model.
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace tutor::models {

class Taps {
 public:
  Taps() = default;
  explicit Taps(std::vector<std::string> requested);
  Taps(std::initializer_list<std::string> requested) : Taps(std::vector<std::string>(requested)) {}

  const std::vector<std::string>& requested() const { return requested_; }
  bool wants(const std::string& name) const;

  // Stores t under name when that name was requested; otherwise does nothing.
  void offer(const std::string& name, const Tensor& t);

  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  // The stored tensor; an Error naming the tap and the filled ones when absent.
  const Tensor& at(const std::string& name) const;
  const std::map<std::string, Tensor>& tensors() const { return tensors_; }
  void clear() { tensors_.clear(); }

  // Throws an Error naming `model`, each requested name not in `valid`, and the valid names.
  void check_known(const std::string& model, const std::vector<std::string>& valid) const;

 private:
  std::vector<std::string> requested_;
  std::map<std::string, Tensor> tensors_;
};

// Taps::offer through a pointer that is null when the forward was asked for no taps.
inline void offer(Taps* taps, const std::string& name, const Tensor& t) {
  if (taps != nullptr) taps->offer(name, t);
}

}  // namespace tutor::models
