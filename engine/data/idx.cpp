#include "engine/data/idx.h"

#include <algorithm>

#include "engine/data/byte_reader.h"

namespace tutor::data {

// Larger than any real dataset; keeps size arithmetic far from overflow on hostile headers.
constexpr uint64_t kMaxIdxBytes = uint64_t(1) << 40;

IdxArray read_idx(const std::string& path) {
  ByteReader in(path);
  uint8_t magic[4];
  in.read(magic, 4, "IDX magic number");
  IdxArray out;
  out.magic =
      uint32_t(magic[0]) << 24 | uint32_t(magic[1]) << 16 | uint32_t(magic[2]) << 8 | magic[3];
  TUTOR_CHECK(magic[0] == 0 && magic[1] == 0 && magic[3] >= 1,
              "{}: bad IDX magic number 0x{:08x} (expected 00 00 <type> <ndims>, e.g. 0x{:08x} "
              "for images, 0x{:08x} for labels)",
              path, out.magic, kIdxImagesMagic, kIdxLabelsMagic);
  TUTOR_CHECK(magic[2] == 0x08,
              "{}: IDX magic number 0x{:08x} has element type 0x{:02x}; only unsigned bytes (0x08) "
              "are supported",
              path, out.magic, magic[2]);
  uint64_t total = 1;
  for (int d = 0; d < magic[3]; ++d) {
    uint8_t be[4];
    in.read(be, 4, "IDX dimension sizes");
    uint64_t n = uint64_t(be[0]) << 24 | uint64_t(be[1]) << 16 | uint64_t(be[2]) << 8 | be[3];
    TUTOR_CHECK(n > 0, "{}: IDX dimension {} has size 0", path, d);
    total *= n;
    TUTOR_CHECK(total <= kMaxIdxBytes, "{}: IDX sizes claim more than {} bytes", path,
                kMaxIdxBytes);
    out.dims.push_back(int64_t(n));
  }
  if (!in.gzip())
    TUTOR_CHECK(int64_t(total) == in.raw_remaining(),
                "{}: IDX sizes {} need {} data bytes but the file has {} after the header", path,
                out.dims, total, in.raw_remaining());
  out.data = in.read_vector(size_t(total), "IDX data");
  in.expect_end("IDX data");
  return out;
}

TensorDataset read_idx_dataset(const std::string& images_path, const std::string& labels_path,
                               int64_t num_classes) {
  IdxArray images = read_idx(images_path);
  TUTOR_CHECK(images.magic == kIdxImagesMagic,
              "{}: IDX magic number 0x{:08x} is not an image file (expected 0x{:08x}, idx3 u8)",
              images_path, images.magic, kIdxImagesMagic);
  IdxArray labels = read_idx(labels_path);
  TUTOR_CHECK(labels.magic == kIdxLabelsMagic,
              "{}: IDX magic number 0x{:08x} is not a label file (expected 0x{:08x}, idx1 u8)",
              labels_path, labels.magic, kIdxLabelsMagic);
  TUTOR_CHECK(images.dims[0] == labels.dims[0], "{} holds {} images but {} holds {} labels",
              images_path, images.dims[0], labels_path, labels.dims[0]);
  std::vector<int64_t> y(labels.data.begin(), labels.data.end());
  int64_t max_label = *std::max_element(y.begin(), y.end());
  if (num_classes == 0) num_classes = max_label + 1;
  TUTOR_CHECK(max_label < num_classes, "{}: label {} is outside [0, {})", labels_path, max_label,
              num_classes);
  return TensorDataset(std::move(images.data), {1, images.dims[1], images.dims[2]}, std::move(y),
                       num_classes);
}

TensorDataset fashion_mnist(const std::string& split, const std::string& dir) {
  TUTOR_CHECK(split == "train" || split == "test",
              "fashion_mnist: split must be \"train\" or \"test\", got \"{}\"", split);
  std::string prefix = dir + "/" + (split == "train" ? "train" : "t10k");
  std::string images_path = prefix + "-images-idx3-ubyte.gz";
  TensorDataset ds = read_idx_dataset(images_path, prefix + "-labels-idx1-ubyte.gz", 10);
  TUTOR_CHECK(ds.sample_shape() == Shape({1, 28, 28}),
              "{}: Fashion-MNIST images are 28x28, this file holds {}", images_path,
              ds.sample_shape());
  ds.set_class_names({"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"});
  return ds;
}

}  // namespace tutor::data
