// Mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019) on a batch, as timm's Mixup does in
// "batch" mode: one lambda ~ Beta(alpha, alpha) per batch, and sample i mixed with sample B-1-i
// (the batch flipped), targets mixed the same way:
//   targets = lambda onehot(y) + (1 - lambda) onehot(y flipped)
#pragma once

#include <cstdint>
#include <vector>

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

// Partial mixup of MIX-KD (Choi et al. WACV 2023; hchoi71/MIX-KD helper/loops_mixstd.py::PMU,
// 6e8c149): two permutations pi1 = randperm(B), pi2 = randperm(B), then one lambda_b ~ Beta(a, a)
// per sample (lambda_b = 1 when !mix), then int(B * percent) indices drawn uniformly *with
// replacement* from [0, B) whose lambda is set to 1 (so only about 1 - e^-percent of the batch
// is left unmixed), in that order from `gen`:
//   images_b  = lambda_b x_{pi1(b)} + (1 - lambda_b) x_{pi2(b)}
//   targets_b = lambda_b onehot(y_{pi1(b)}) + (1 - lambda_b) onehot(y_{pi2(b)})
// The reference hard-codes 100 classes and 3x32x32 images; here they come from the inputs.
struct PartialMixed {
  Tensor images;                // f32 [B, C, H, W]
  Tensor targets;               // f32 [B, K]
  std::vector<double> lambdas;  // lambda_b
  std::vector<int64_t> first, second;  // pi1, pi2
};
PartialMixed partial_mixup(const Tensor& images, const Tensor& labels, int64_t num_classes,
                           double beta_a, double percent, Generator& gen, bool mix = true);

// One-hot f32 [B, K] from i64 labels [B]; soft targets [B, K] pass through (checked).
Tensor soft_targets(const Tensor& labels, int64_t num_classes, const char* op);

// Pipeline steps: set batch.images and batch.targets (reading batch.targets when already set).
struct Mixup {
  double alpha = 1.0;
  int64_t num_classes = 0;
  void operator()(Batch& b, Generator& g) const;
};
// MIX-KD's partial mixup as a pipeline step (the reference's pmixup=True, partmixup=0.9,
// beta_a=1); mix = false is its FMU/PMU with mixup=False (lambda = 1: the batch permuted only).
struct PartialMixup {
  double beta_a = 1.0;
  double percent = 0.9;
  bool mix = true;
  int64_t num_classes = 0;
  void operator()(Batch& b, Generator& g) const;
};
struct Cutmix {
  double alpha = 1.0;
  int64_t num_classes = 0;
  void operator()(Batch& b, Generator& g) const;
};

}  // namespace tutor::data
