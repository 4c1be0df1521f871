#include "tools/cli/participant.h"

namespace tutor::cli {

distill::Participant participant(const std::shared_ptr<models::Model>& model, bool train_mode) {
  auto forward = [model](const Tensor& x, const std::vector<std::string>& requested,
                         std::map<std::string, Tensor>& taps) {
    if (requested.empty()) return model->forward(x, nullptr);
    models::Taps t(requested);
    Tensor logits = model->forward(x, &t);
    for (const auto& [name, value] : t.tensors()) taps[name] = value;
    return logits;
  };
  return {model, forward, train_mode};
}

}  // namespace tutor::cli
