// Mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019) on a batch, as timm's Mixup does in
// "batch" mode: one lambda ~ Beta(alpha, alpha) per batch, and sample i mixed with sample B-1-i
// (the batch flipped), targets mixed the same way:
//   targets = lambda onehot(y) + (1 - lambda) onehot(y flipped)
#pragma once

#include "engine/data/transforms.h"

namespace tutor::data {

struct Mixed {
  Tensor images;   // f32 [B, C, H, W]
  Tensor targets;  // f32 [B, K], rows summing to 1
  double lambda;   // the weight of each sample's own image and target
};

// `labels` are i64 class indices [B] in [0, num_classes), or f32 soft targets [B, num_classes]
// (when an earlier step already mixed them).
// mixup: images = lambda x + (1 - lambda) x flipped.
Mixed mixup(const Tensor& images, const Tensor& labels, int64_t num_classes, double alpha,
            Generator& gen);
// cutmix: cut_h = int(H sqrt(1 - lambda)), cut_w likewise; centre cy uniform in [0, H), then cx in
// [0, W); the box [clip(cy - cut_h/2), clip(cy + cut_h/2)) x [same for x] (integer halves,
// clipped to the image) is pasted from the flipped batch, and lambda becomes
// 1 - box area / (H W), the share of pixels each image keeps (timm's correct_lam).
Mixed cutmix(const Tensor& images, const Tensor& labels, int64_t num_classes, double alpha,
             Generator& gen);

// One-hot f32 [B, K] from i64 labels [B]; soft targets [B, K] pass through (checked).
Tensor soft_targets(const Tensor& labels, int64_t num_classes, const char* op);

// Pipeline steps: set batch.images and batch.targets (reading batch.targets when already set).
struct Mixup {
  double alpha = 1.0;
  int64_t num_classes = 0;
  void operator()(Batch& b, Generator& g) const;
};
struct Cutmix {
  double alpha = 1.0;
  int64_t num_classes = 0;
  void operator()(Batch& b, Generator& g) const;
};

}  // namespace tutor::data
