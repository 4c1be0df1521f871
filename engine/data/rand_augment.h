// RandAugment with Cutout as FixMatch's code defines it, the strong view of MLKD (Jin-Ying/
// Multi-Level-Logit-Distillation, whose CIFAR loader is mdistiller/dataset/cifar100.py
// RandAugment(2, 10); objectives.md §2.5): per image, n ops drawn uniformly with replacement
// from the 14 below, each applied with a magnitude uniform in its range (m is unused, as there),
// then Cutout of a square of side 0.5 u W.
//
// Each op follows Pillow's 8-bit semantics on the image's u8 pixels p = round(255 x) (the images
// are f32 in [0, 1] before normalization, as ToTensor gives them), transcribed from Pillow's
// ImageOps / ImageEnhance / Image.transform (not checked against Pillow, which is not installed
// here):
//   auto_contrast  per channel lo = min, hi = max; p -> clip(int(p * 255 / (hi - lo) - lo * 255 /
//                  (hi - lo))), unchanged when hi <= lo
//   brightness v   p -> int(v p)                        (blend with black, truncated)
//   color v        RGB: g = (19595 R + 38470 G + 7471 B + 2^15) >> 16, p -> int(g + v (p - g));
//                  one channel: unchanged (its grey image is itself)
//   contrast v     m = int(mean of the grey image + 0.5), p -> int(m + v (p - m))
//   equalize       per channel Pillow's equalize lut: step = (N - count of the last used value)
//                  / 255 (integer); lut[i] = (step / 2 + sum_{j<i} h[j]) / step; unchanged when
//                  fewer than two values are used or step = 0
//   identity
//   posterize v    keep the top max(1, int(v)) bits
//   rotate v       v degrees counter-clockwise about the centre (W/2, H/2)
//   sharpness v    s = the SMOOTH filter (3x3 kernel 1 1 1 / 1 5 1 / 1 1 1 over 13, rounded to
//                  nearest; the border rows and columns unchanged), p -> int(s + v (p - s))
//   shear_x v      input x = x + v y;  shear_y v: input y = y + v x
//   solarize v     p -> p < v ? p : 255 - p
//   translate_x v  input x = x + v W;  translate_y v: input y = y + v H
// The geometric ops map each output pixel centre (x + 0.5, y + 0.5) through the affine matrix to
// the input, take the pixel at the truncated coordinates (nearest), 0 outside the image.
// Blends compute in f32 and truncate, as Pillow's ImagingBlend.
// Cutout (CutoutAbs): side s = v W, centre (x0, y0) uniform in [0, W) x [0, H); the box
// x in [int(max(0, x0 - s/2)), int(min(W, that + s))] (inclusive) and likewise in y is set to
// (125, 123, 114), or 125 on one channel.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/rng.h"
#include "engine/core/tensor.h"
#include "engine/data/dataset.h"

namespace tutor::data {

enum class AugmentOp {
  auto_contrast,
  brightness,
  color,
  contrast,
  equalize,
  identity,
  posterize,
  rotate,
  sharpness,
  shear_x,
  shear_y,
  solarize,
  translate_x,
  translate_y
};

struct AugmentSpec {
  AugmentOp op;
  std::string name;
  double lo, hi;  // the magnitude's range
};

// FixMatch's list, in its order (the draw picks index floor(14 u)).
const std::vector<AugmentSpec>& rand_augment_ops();

// `op` with magnitude v on every image of f32 [B, C, H, W] in [0, 1] (C = 1 or 3).
Tensor augment_op(const Tensor& images, AugmentOp op, double v);

// Cutout of a square of side `side` pixels centred at (x0, y0) on every image.
Tensor cutout(const Tensor& images, double side, double x0, double y0);

// Per image, in batch order, uniforms from `gen`: n op indices, n magnitudes, the Cutout
// fraction v = 0.5 u, then x0 = W u and y0 = H u.
Tensor rand_augment(const Tensor& images, Generator& gen, int64_t n = 2);

// The strong view of a batch (FixMatch / MLKD): Batch::strong_images = normalize(rand_augment(
// flip(crop(images)))) with its own crop and flip draws, from the batch's images before any
// other transform; put it first in a DataLoader's transforms.
struct StrongView {
  int64_t crop_padding = 0;  // 0: no crop
  bool flip = false;
  int64_t ops = 2;
  std::vector<double> mean, std;
  void operator()(Batch& b, Generator& g) const;
};

}  // namespace tutor::data
