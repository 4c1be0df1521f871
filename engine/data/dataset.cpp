#include "engine/data/dataset.h"

#include <cstring>

#include "engine/data/transforms.h"

namespace tutor::data {

static int64_t sample_numel(const Shape& sample_shape) {
  TUTOR_CHECK(sample_shape.size() == 3, "TensorDataset: sample shape must be [C, H, W], got {}",
              sample_shape);
  int64_t n = 1;
  for (int64_t d : sample_shape) {
    TUTOR_CHECK(d > 0, "TensorDataset: sample shape {} has a non-positive size", sample_shape);
    n *= d;
  }
  return n;
}

TensorDataset::TensorDataset(std::vector<uint8_t> pixels, Shape sample_shape,
                             std::vector<int64_t> labels, int64_t num_classes)
    : pixels_(std::move(pixels)),
      sample_shape_(std::move(sample_shape)),
      labels_(std::move(labels)),
      num_classes_(num_classes) {
  int64_t per_sample = sample_numel(sample_shape_);
  TUTOR_CHECK(int64_t(pixels_.size()) == per_sample * size(),
              "TensorDataset: {} pixel bytes for {} labels of shape {} (expected {})",
              pixels_.size(), size(), sample_shape_, per_sample * size());
  check_labels();
}

TensorDataset::TensorDataset(const Tensor& images, const Tensor& labels, int64_t num_classes)
    : num_classes_(num_classes) {
  TUTOR_CHECK(images.dtype() == DType::f32 && images.dim() == 4,
              "TensorDataset: images must be f32 [N, C, H, W], got {} {}", images.dtype(),
              images.sizes());
  TUTOR_CHECK(labels.dtype() == DType::i64 && labels.dim() == 1 && labels.size(0) == images.size(0),
              "TensorDataset: labels must be i64 [{}], got {} {}", images.size(0), labels.dtype(),
              labels.sizes());
  TUTOR_CHECK(images.device() == kCPU, "TensorDataset: images must be on the CPU");
  float_images_ = images.contiguous_raw();
  sample_shape_ = {images.size(1), images.size(2), images.size(3)};
  sample_numel(sample_shape_);
  labels_ = labels.to_vector<int64_t>();
  check_labels();
}

void TensorDataset::check_labels() const {
  TUTOR_CHECK(num_classes_ > 0, "TensorDataset: num_classes must be positive, got {}",
              num_classes_);
  for (size_t i = 0; i < labels_.size(); ++i)
    TUTOR_CHECK(labels_[i] >= 0 && labels_[i] < num_classes_,
                "TensorDataset: label {} of sample {} is outside [0, {})", labels_[i], i,
                num_classes_);
}

void TensorDataset::set_class_names(std::vector<std::string> names) {
  TUTOR_CHECK(int64_t(names.size()) == num_classes_, "TensorDataset: {} class names for {} classes",
              names.size(), num_classes_);
  class_names_ = std::move(names);
}

Tensor TensorDataset::labels() const { return from_vector(labels_, {size()}, DType::i64); }

Batch TensorDataset::get(const std::vector<int64_t>& indices) const {
  int64_t b = int64_t(indices.size());
  int64_t per_sample = sample_numel(sample_shape_);
  Batch batch;
  batch.images = empty({b, sample_shape_[0], sample_shape_[1], sample_shape_[2]});
  std::vector<int64_t> labels(indices.size());
  float* out = batch.images.data<float>();
  const float* floats = is_u8() ? nullptr : float_images_.data<float>();
  for (int64_t i = 0; i < b; ++i) {
    int64_t row = indices[size_t(i)];
    TUTOR_CHECK(row >= 0 && row < size(), "TensorDataset::get: index {} is outside [0, {})", row,
                size());
    float* dst = out + i * per_sample;
    if (floats)
      std::memcpy(dst, floats + row * per_sample, size_t(per_sample) * sizeof(float));
    else
      to_float(pixels_.data() + row * per_sample, dst, per_sample);
    labels[size_t(i)] = labels_[size_t(row)];
  }
  batch.labels = from_vector(labels, {b}, DType::i64);
  batch.indices = indices;
  return batch;
}

}  // namespace tutor::data
