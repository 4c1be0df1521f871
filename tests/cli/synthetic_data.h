// A tiny synthetic Fashion-MNIST-shaped dataset for the CLI tests: two classes (or `classes`),
// dark images (label 0) and brighter ones for each later label, written as gzip IDX files to a
// scratch folder.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/cli_test.h"
#include "engine/core/tensor.h"
#include "tools/cli/model_io.h"

namespace tutor::testing {

// A scratch folder holding {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz, removed at the end.
struct SyntheticData {
  ScratchDir scratch;
  std::filesystem::path dir = scratch.dir;
  std::vector<uint8_t> train_pixels, test_pixels;  // [N, 28, 28]
  std::vector<int64_t> train_labels, test_labels;

  explicit SyntheticData(int train = 64, int test = 32, int classes = 2) : classes(classes) {
    write_split("train", train, 1);
    write_split("t10k", test, 2);
  }

  int classes;

  // Label i % classes; pixels uniform in [b, b + 80) with b = 160 * label / (classes - 1) (label
  // 0: [0, 80), the last label: [160, 240)), from an LCG (Numerical Recipes constants) seeded per
  // split.
  void write_split(const std::string& prefix, int n, uint32_t seed) {
    std::vector<uint8_t> pixels, labels;
    uint32_t state = seed;
    for (int i = 0; i < n; ++i) {
      uint8_t label = uint8_t(i % classes);
      labels.push_back(label);
      for (int p = 0; p < 28 * 28; ++p) {
        state = state * 1664525u + 1013904223u;
        pixels.push_back(uint8_t(160 * label / std::max(classes - 1, 1) + (state >> 24) % 80));
      }
    }
    write_idx(dir / (prefix + "-images-idx3-ubyte.gz"), 0x803, {uint32_t(n), 28, 28}, pixels);
    write_idx(dir / (prefix + "-labels-idx1-ubyte.gz"), 0x801, {uint32_t(n)}, labels);
    (prefix == "t10k" ? test_pixels : train_pixels) = pixels;
    (prefix == "t10k" ? test_labels : train_labels).assign(labels.begin(), labels.end());
  }

  // IDX: big-endian u32 magic, big-endian u32 sizes, then the bytes; gzip-compressed.
  static void write_idx(const std::filesystem::path& path, uint32_t magic,
                        const std::vector<uint32_t>& dims, const std::vector<uint8_t>& bytes) {
    std::vector<uint8_t> file;
    auto put32 = [&](uint32_t v) {
      for (int shift = 24; shift >= 0; shift -= 8) file.push_back(uint8_t(v >> shift));
    };
    put32(magic);
    for (uint32_t d : dims) put32(d);
    file.insert(file.end(), bytes.begin(), bytes.end());
    gzFile gz = gzopen(path.c_str(), "wb");
    REQUIRE(gz != nullptr);
    REQUIRE(gzwrite(gz, file.data(), unsigned(file.size())) == int(file.size()));
    REQUIRE(gzclose(gz) == Z_OK);
  }

  // The images as the commands see them: (x / 255 - mean) / std, [N, 1, 28, 28].
  tutor::Tensor normalized_test_images() const { return normalized(test_pixels); }
  tutor::Tensor normalized_train_images() const { return normalized(train_pixels); }

  static tutor::Tensor normalized(const std::vector<uint8_t>& pixels) {
    std::vector<float> v;
    for (uint8_t p : pixels)
      v.push_back(float((double(p) / 255.0 - tutor::cli::kFashionMnistMean) /
                        tutor::cli::kFashionMnistStd));
    tutor::Tensor t = tutor::empty({int64_t(pixels.size() / (28 * 28)), 1, 28, 28});
    std::copy(v.begin(), v.end(), t.data<float>());
    return t;
  }
};

}  // namespace tutor::testing
