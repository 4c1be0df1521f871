// IDX reader: round trips through tiny raw and gzip files written here, every malformed case, and
// the real Fashion-MNIST when Debian's dataset-fashion-mnist is installed.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "engine/data/idx.h"
#include "tests/data/data_test.h"

using namespace tutor;
using namespace tutor::data;
using namespace tutor::data::test;

// 3 images of 2x4 holding 0..23, labels 2, 0, 1.
static Bytes image_data() {
  Bytes b(24);
  std::iota(b.begin(), b.end(), uint8_t(0));
  return b;
}
static const Bytes kLabels = {2, 0, 1};

TEST_CASE("data: IDX round trip, raw and gzip") {
  TempDir dir;
  for (bool gz : {false, true}) {
    CAPTURE(gz);
    std::string images = dir.file(gz ? "img.gz" : "img"), labels = dir.file(gz ? "lab.gz" : "lab");
    Bytes img = idx_bytes({3, 2, 4}, image_data()), lab = idx_bytes({3}, kLabels);
    write_file(images, gz ? gzip(img) : img);
    write_file(labels, gz ? gzip(lab) : lab);

    IdxArray a = read_idx(images);
    CHECK(a.magic == 0x00000803);
    CHECK(a.dims == std::vector<int64_t>{3, 2, 4});
    CHECK(a.data == image_data());
    CHECK(read_idx(labels).magic == 0x00000801);

    TensorDataset ds = read_idx_dataset(images, labels);
    CHECK(ds.size() == 3);
    CHECK(ds.sample_shape() == Shape{1, 2, 4});
    CHECK(ds.num_classes() == 3);  // max label + 1
    CHECK(ds.labels().to_vector<int64_t>() == std::vector<int64_t>{2, 0, 1});
    Batch b = ds.get({2, 0});
    CHECK(b.images.sizes() == Shape{2, 1, 2, 4});
    CHECK(b.labels.to_vector<int64_t>() == std::vector<int64_t>{1, 2});
    std::vector<float> px = b.images.to_vector<float>();
    CHECK(px[0] == 16.0f / 255.0f);  // image 2 starts at byte 16
    CHECK(px[7] == 23.0f / 255.0f);
    CHECK(px[8] == 0.0f);  // image 0
    CHECK(px[15] == 7.0f / 255.0f);
  }
}

TEST_CASE("data: IDX malformed files fail naming the file and the problem") {
  TempDir dir;
  auto check_file = [&](const std::string& name, const Bytes& bytes,
                        const std::vector<std::string>& parts) {
    CAPTURE(name);
    std::string path = dir.file(name);
    write_file(path, bytes);
    std::vector<std::string> with_path = parts;
    with_path.push_back(path);
    check_error([&] { read_idx(path); }, with_path);
  };
  Bytes good = idx_bytes({3, 2, 4}, image_data());

  Bytes bad_magic = good;
  bad_magic[0] = 0x12;
  check_file("bad_magic", bad_magic, {"bad IDX magic number 0x12000803"});
  check_file("float_type", idx_bytes({3, 2, 4}, image_data(), 0x0d), {"element type 0x0d"});
  check_file("no_dims", {0, 0, 8, 0}, {"bad IDX magic number"});
  check_file("short_header", {0, 0, 8, 3, 0, 0}, {"IDX dimension sizes ends after 2 of 4 bytes"});
  check_file("empty", {}, {"IDX magic number ends after 0 of 4 bytes"});
  check_file("zero_dim", idx_bytes({3, 0, 4}, {}), {"dimension 1 has size 0"});

  Bytes truncated(good.begin(), good.end() - 1);
  check_file("truncated", truncated, {"need 24 data bytes but the file has 23"});
  Bytes trailing = good;
  trailing.push_back(7);
  check_file("trailing", trailing, {"need 24 data bytes but the file has 25"});
  // Sizes far larger than the file, and large enough to overflow 32-bit arithmetic.
  check_file("huge", idx_bytes({60000, 65536, 65536}, image_data()), {"more than"});
  check_file("too_big", idx_bytes({60000, 280, 280}, image_data()),
             {"need 4704000000 data bytes but the file has 24"});

  // gzip: the sizes can only be checked against the inflated stream.
  check_file("truncated_data.gz", gzip(truncated), {"IDX data ends after 23 of 24 bytes"});
  check_file("trailing_data.gz", gzip(trailing), {"data follows the IDX data"});
  Bytes gz = gzip(good);
  check_file("cut.gz", Bytes(gz.begin(), gz.end() - 10), {"gzip stream is truncated"});
  Bytes bad_crc = gz;
  bad_crc[bad_crc.size() - 8] ^= 0xff;  // the CRC-32 of the trailer
  check_file("bad_crc.gz", bad_crc, {"corrupt gzip data", "incorrect data check"});
  Bytes bad_deflate = gz;
  bad_deflate[10] = 0xff;  // the first deflate block header: reserved block type 3
  check_file("bad_block.gz", bad_deflate, {"corrupt gzip data"});
  Bytes garbage_after = gz;
  garbage_after.push_back(0);
  check_file("garbage_after.gz", garbage_after, {"bytes follow the end of the gzip stream"});
  check_file("not_gzip.gz", good, {"named .gz but is not gzip", "starts with 00 00"});

  check_error([&] { read_idx(dir.file("missing")); }, {dir.file("missing"), "cannot open"});
  check_error([&] { read_idx(dir.path().string()); }, {dir.path().string(), "not a regular file"});
}

TEST_CASE("data: IDX images and labels must agree") {
  TempDir dir;
  std::string images = dir.file("img"), labels = dir.file("lab");
  write_file(images, idx_bytes({3, 2, 4}, image_data()));
  write_file(labels, idx_bytes({2}, {0, 1}));
  check_error([&] { read_idx_dataset(images, labels); },
              {images, "holds 3 images", labels, "holds 2 labels"});
  // Swapped roles: the magic numbers say which file is which.
  write_file(labels, idx_bytes({3}, kLabels));
  check_error([&] { read_idx_dataset(labels, images); },
              {labels, "0x00000801 is not an image file"});
  check_error([&] { read_idx_dataset(images, images); },
              {images, "0x00000803 is not a label file"});
  check_error([&] { read_idx_dataset(images, labels, 2); }, {labels, "label 2 is outside [0, 2)"});
}

TEST_CASE("data: Fashion-MNIST loads from dataset-fashion-mnist") {
  if (!std::filesystem::exists(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz")) {
    MESSAGE("skipped: ", kFashionMnistDir, " is absent (install dataset-fashion-mnist)");
    return;
  }
  // Label and pixel figures from Python's gzip module on the same files.
  struct Split {
    const char* name;
    int64_t n;
    std::vector<int64_t> first_labels;
    int64_t first_image_sum;
  };
  for (const Split& s : {Split{"train", 60000, {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, 76247},
                         Split{"test", 10000, {9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, 33456}}) {
    CAPTURE(s.name);
    TensorDataset ds = fashion_mnist(s.name);
    CHECK(ds.size() == s.n);
    CHECK(ds.sample_shape() == Shape{1, 28, 28});
    CHECK(ds.num_classes() == 10);
    CHECK(ds.class_names().at(9) == "Ankle boot");
    std::vector<int64_t> labels = ds.labels().to_vector<int64_t>();
    CHECK(std::vector<int64_t>(labels.begin(), labels.begin() + 10) == s.first_labels);
    for (int64_t k = 0; k < 10; ++k) CHECK(std::count(labels.begin(), labels.end(), k) == s.n / 10);
    int64_t sum = std::accumulate(ds.pixels().begin(), ds.pixels().begin() + 784, int64_t(0));
    CHECK(sum == s.first_image_sum);
  }
  check_error([] { fashion_mnist("val"); }, {"fashion_mnist", "\"val\""});
  check_error([] { fashion_mnist("train", "/nonexistent"); },
              {"/nonexistent/train-images-idx3-ubyte.gz", "cannot open"});
}
