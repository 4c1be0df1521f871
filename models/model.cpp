#include "models/model.h"

#include "engine/core/error.h"
#include "engine/nn/fold.h"

namespace tutor::models {

Tensor Model::forward(const Tensor& x, Taps* taps) {
  if (taps == nullptr) return run(x, nullptr);
  taps->check_known(name(), tap_names());
  Tensor logits = run(x, taps);
  taps->offer("logits", logits);
  return logits;
}

int64_t fuse_for_inference(Model& model) {
  TUTOR_CHECK(!model.is_training(),
              "fuse_for_inference: {} is in training mode; folding its BatchNorms uses their "
              "running statistics, which only evaluation uses (call eval() first)",
              model.name());
  const std::vector<Model::ConvBn> pairs = model.conv_bn_pairs();
  for (const auto& [conv, bn] : pairs) nn::fold_batch_norm(*conv, *bn);
  return int64_t(pairs.size());
}

}  // namespace tutor::models
