// Datasets held in memory: images [N, C, H, W] and integer labels [N], served as batches.
//
// tutor has no u8 dtype, so 8-bit images (IDX, CIFAR, PNG/JPEG) are kept as bytes, a quarter of
// the memory of f32, and converted by to_float (x / 255) when a batch is gathered.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace tutor::data {

// What a loader hands out. `targets` stays undefined until mixup or cutmix turns the hard labels
// into soft ones.
struct Batch {
  Tensor images;                 // f32 [B, C, H, W]
  Tensor labels;                 // i64 [B]
  Tensor targets;                // f32 [B, K] soft targets, or undefined
  Tensor strong_images;          // f32 [B, C, H, W] a second, strongly augmented view, or undefined
  std::vector<int64_t> indices;  // the dataset rows this batch was gathered from
  int64_t epoch = 0;
  int64_t index = 0;  // position of the batch in its epoch
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // Rows `indices` (each in [0, size())) as one batch; safe to call from several threads.
  virtual Batch get(const std::vector<int64_t>& indices) const = 0;
};

// Images and labels in memory; what every reader returns.
class TensorDataset : public Dataset {
 public:
  // 8-bit pixels, row-major [N, C, H, W] with sample_shape = {C, H, W}; labels in [0, num_classes).
  TensorDataset(std::vector<uint8_t> pixels, Shape sample_shape, std::vector<int64_t> labels,
                int64_t num_classes);
  // f32 images [N, C, H, W] used as they are, and i64 labels [N] in [0, num_classes).
  TensorDataset(const Tensor& images, const Tensor& labels, int64_t num_classes);

  int64_t size() const override { return int64_t(labels_.size()); }
  Batch get(const std::vector<int64_t>& indices) const override;

  const Shape& sample_shape() const { return sample_shape_; }
  int64_t num_classes() const { return num_classes_; }
  Tensor labels() const;  // i64 [N]
  bool is_u8() const { return !float_images_.defined(); }
  const std::vector<uint8_t>& pixels() const { return pixels_; }  // empty unless is_u8()
  // Names of the classes (image folders); empty when the source has none.
  const std::vector<std::string>& class_names() const { return class_names_; }
  void set_class_names(std::vector<std::string> names);

 private:
  void check_labels() const;

  std::vector<uint8_t> pixels_;
  Tensor float_images_;  // contiguous f32 [N, C, H, W] when not u8
  Shape sample_shape_;
  std::vector<int64_t> labels_;
  int64_t num_classes_ = 0;
  std::vector<std::string> class_names_;
};

}  // namespace tutor::data
