// Batch transforms on f32 images [B, C, H, W]. The random ones draw every number from the
// Generator they are given, sample by sample in batch order, so a result depends only on that
// generator's seed; the DataLoader gives each batch a generator derived from (seed, epoch, batch).
// Semantics follow torchvision.transforms, applied to each sample of the batch independently.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/core/rng.h"
#include "engine/core/tensor.h"
#include "engine/data/dataset.h"

namespace tutor::data {

// u8 -> f32: dst[i] = src[i] / 255 (torchvision ToTensor).
void to_float(const uint8_t* src, float* dst, int64_t n);
Tensor to_float(const std::vector<uint8_t>& pixels, const Shape& shape);

// (x - mean[c]) / std[c] per channel; mean and std have C entries (or one, for all channels).
Tensor normalize(const Tensor& images, const std::vector<double>& mean,
                 const std::vector<double>& std);

// Pads each image by `padding` zeros on every side and crops the original size back at a random
// offset: top, then left, each uniform in [0, 2 padding] (torchvision RandomCrop(size, padding)).
// out[b, c, y, x] = in[b, c, y + top - padding, x + left - padding], or 0 outside the image.
Tensor random_crop(const Tensor& images, int64_t padding, Generator& gen);

// Mirrors each image left-right when a uniform draw is < p.
Tensor horizontal_flip(const Tensor& images, Generator& gen, double p = 0.5);

// torchvision RandomErasing, defaults included. Per image: if a uniform draw is < p, up to 10
// attempts: area = H W uniform(scale), aspect = exp(uniform(ln ratio_lo, ln ratio_hi)),
// h = round(sqrt(area aspect)), w = round(sqrt(area / aspect)); the first attempt with h < H and
// w < W picks top uniform in [0, H - h], left in [0, W - w] and sets that box to `value` in every
// channel. When no attempt fits, the image is unchanged.
struct ErasingOptions {
  double p = 0.5;
  double scale_lo = 0.02, scale_hi = 0.33;
  double ratio_lo = 0.3, ratio_hi = 3.3;
  double value = 0;
};
Tensor random_erasing(const Tensor& images, Generator& gen, const ErasingOptions& options = {});

// ---- pipeline steps for a DataLoader ----

// Changes a batch in place, drawing randomness from `gen` only.
using Transform = std::function<void(Batch&, Generator&)>;

struct Normalize {
  std::vector<double> mean, std;
  void operator()(Batch& b, Generator&) const { b.images = normalize(b.images, mean, std); }
};
struct RandomCrop {
  int64_t padding = 4;
  void operator()(Batch& b, Generator& g) const { b.images = random_crop(b.images, padding, g); }
};
struct HorizontalFlip {
  double p = 0.5;
  void operator()(Batch& b, Generator& g) const { b.images = horizontal_flip(b.images, g, p); }
};
struct RandomErasing {
  ErasingOptions options;
  void operator()(Batch& b, Generator& g) const { b.images = random_erasing(b.images, g, options); }
};

// Checks that `images` is a CPU f32 [B, C, H, W] tensor and returns it contiguous.
Tensor checked_images(const Tensor& images, const char* op);

}  // namespace tutor::data
