#include "engine/data/cifar.h"

#include <cstring>

#include "engine/data/byte_reader.h"

namespace tutor::data {

constexpr int64_t kCifarPixels = 3 * 32 * 32;

// label_bytes: 1 (CIFAR-10) or 2 (CIFAR-100); the label kept is byte `label_at` of each record.
static TensorDataset read_cifar(const std::vector<std::string>& files, int64_t label_bytes,
                                int64_t label_at, int64_t num_classes, const char* name) {
  TUTOR_CHECK(!files.empty(), "{}: no files given", name);
  const int64_t record = label_bytes + kCifarPixels;
  std::vector<uint8_t> pixels;
  std::vector<int64_t> labels;
  for (const std::string& path : files) {
    ByteReader in(path);
    TUTOR_CHECK(!in.gzip(), "{}: gzip-compressed; {} reads the uncompressed binary batches", path,
                name);
    int64_t bytes = in.raw_remaining();
    TUTOR_CHECK(bytes > 0 && bytes % record == 0,
                "{}: size {} bytes is not a positive multiple of the {} record size {} "
                "({} label byte(s) + {} pixels)",
                path, bytes, name, record, label_bytes, kCifarPixels);
    std::vector<uint8_t> data = in.read_vector(size_t(bytes), "records");
    int64_t n = bytes / record;
    size_t base = pixels.size();
    pixels.resize(base + size_t(n * kCifarPixels));
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* r = data.data() + i * record;
      TUTOR_CHECK(r[label_at] < num_classes, "{}: record {} has label {} (expected 0..{})", path, i,
                  r[label_at], num_classes - 1);
      labels.push_back(r[label_at]);
      std::memcpy(pixels.data() + base + size_t(i * kCifarPixels), r + label_bytes,
                  size_t(kCifarPixels));
    }
  }
  return TensorDataset(std::move(pixels), {3, 32, 32}, std::move(labels), num_classes);
}

TensorDataset cifar10(const std::vector<std::string>& files) {
  TensorDataset ds = read_cifar(files, 1, 0, 10, "cifar10");
  ds.set_class_names(
      {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"});
  return ds;
}

TensorDataset cifar100(const std::vector<std::string>& files, const std::string& label) {
  TUTOR_CHECK(label == "fine" || label == "coarse",
              "cifar100: label must be \"fine\" or \"coarse\", got \"{}\"", label);
  return label == "fine" ? read_cifar(files, 2, 1, 100, "cifar100")
                         : read_cifar(files, 2, 0, 20, "cifar100");
}

static void check_split(const std::string& split, const char* name) {
  TUTOR_CHECK(split == "train" || split == "test",
              "{}: split must be \"train\" or \"test\", got \"{}\"", name, split);
}

std::vector<std::string> cifar10_files(const std::string& dir, const std::string& split) {
  check_split(split, "cifar10_files");
  if (split == "test") return {dir + "/test_batch.bin"};
  std::vector<std::string> files;
  for (int i = 1; i <= 5; ++i) files.push_back(dir + "/data_batch_" + std::to_string(i) + ".bin");
  return files;
}

std::vector<std::string> cifar100_files(const std::string& dir, const std::string& split) {
  check_split(split, "cifar100_files");
  return {dir + "/" + split + ".bin"};
}

}  // namespace tutor::data
