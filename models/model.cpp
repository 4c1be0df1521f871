#include "models/model.h"

namespace tutor::models {

Tensor Model::forward(const Tensor& x, Taps* taps) {
  if (taps == nullptr) return run(x, nullptr);
  taps->check_known(name(), tap_names());
  Tensor logits = run(x, taps);
  taps->offer("logits", logits);
  return logits;
}

}  // namespace tutor::models
