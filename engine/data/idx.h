// IDX files (the MNIST format, http://yann.lecun.com/exdb/mnist/), raw or gzip.
//
// Layout: a 4-byte magic 00 00 <type> <ndims>, then ndims big-endian u32 sizes, then the
// elements in row-major order. tutor reads type 0x08 (unsigned byte): images are idx3
// (magic 0x00000803, [N, H, W]) and labels idx1 (magic 0x00000801, [N]).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/dataset.h"

namespace tutor::data {

inline constexpr uint32_t kIdxImagesMagic = 0x00000803;
inline constexpr uint32_t kIdxLabelsMagic = 0x00000801;
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct IdxArray {
  uint32_t magic = 0;
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;  // prod(dims) bytes
};

// Any u8 IDX file. Fails, naming the file, on a bad magic, a non-byte type, zero sizes, or sizes
// that disagree with the bytes present (truncated or trailing data), and on broken gzip.
IdxArray read_idx(const std::string& path);

// An idx3 image file and an idx1 label file with the same count, as [N, 1, H, W] images.
// num_classes 0 means max label + 1.
TensorDataset read_idx_dataset(const std::string& images_path, const std::string& labels_path,
                               int64_t num_classes = 0);

// Fashion-MNIST (Debian's dataset-fashion-mnist): split "train" (60000 images) or "test"
// (10000), 1x28x28, labels 0..9, from dir/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
TensorDataset fashion_mnist(const std::string& split, const std::string& dir = kFashionMnistDir);

}  // namespace tutor::data
