// MIX-KD's partial mixup (hchoi71/MIX-KD helper/loops_mixstd.py::PMU): the exact formula on a
// replayed draw, the documented draw order, and the statistics of lambda over a large batch.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/core/random.h"
#include "engine/data/mixing.h"
#include "engine/data/sampling.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::data;

namespace {

// Sample b's pixels all equal b + 1 (then 10 (b + 1) on the second channel).
Tensor numbered_images(int64_t B) {
  std::vector<float> v;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < 2; ++c) v.insert(v.end(), 4, float((b + 1) * (c == 0 ? 1 : 10)));
  return from_vector(v, {B, 2, 2, 2});
}

}  // namespace

TEST_CASE("data: partial_mixup follows PMU's formula on a replayed draw") {
  const int64_t B = 6, K = 4;
  std::vector<int64_t> labels = {0, 3, 1, 1, 2, 3};
  Tensor y = from_vector(labels, {B}, DType::i64);
  Tensor x = numbered_images(B);
  for (uint64_t seed : {1, 2, 3}) {
    Generator gen(seed), replay(seed);
    PartialMixed m = partial_mixup(x, y, K, 0.7, 0.5, gen);
    // The draws, in the documented order.
    std::vector<int64_t> p1 = randperm(B, DType::i64, &replay).to_vector<int64_t>();
    std::vector<int64_t> p2 = randperm(B, DType::i64, &replay).to_vector<int64_t>();
    std::vector<double> lam(B);
    for (double& l : lam) l = beta(replay, 0.7, 0.7);
    for (int64_t k = 0; k < 3; ++k) lam[size_t(uniform_int(replay, 0, B))] = 1.0;  // int(6 * 0.5)
    CHECK(m.first == p1);
    CHECK(m.second == p2);
    CHECK(m.lambdas == lam);
    CHECK(gen.state().counter == replay.state().counter);
    CHECK(gen.state().index == replay.state().index);
    REQUIRE(m.images.sizes() == Shape{B, 2, 2, 2});
    REQUIRE(m.targets.sizes() == Shape{B, K});
    std::vector<float> px = m.images.to_vector<float>(), t = m.targets.to_vector<float>();
    for (int64_t b = 0; b < B; ++b) {
      const double l = lam[size_t(b)];
      const int64_t i = p1[size_t(b)], j = p2[size_t(b)];
      for (int64_t c = 0; c < 2; ++c) {
        const double scale = c == 0 ? 1 : 10;
        const double expect = l * double(i + 1) * scale + (1 - l) * double(j + 1) * scale;
        for (int64_t e = 0; e < 4; ++e)
          CHECK(px[size_t(b * 8 + c * 4 + e)] == doctest::Approx(expect).epsilon(1e-6));
      }
      double row = 0;
      for (int64_t k = 0; k < K; ++k) {
        const double expect = (labels[size_t(i)] == k ? l : 0) + (labels[size_t(j)] == k ? 1 - l : 0);
        CHECK(t[size_t(b * K + k)] == doctest::Approx(expect).epsilon(1e-6));
        row += t[size_t(b * K + k)];
      }
      CHECK(row == doctest::Approx(1).epsilon(1e-6));
    }
  }
}

TEST_CASE("data: partial_mixup without mixing permutes the batch (lambda = 1)") {
  const int64_t B = 5, K = 3;
  std::vector<int64_t> labels = {2, 0, 1, 1, 0};
  Generator gen(9), replay(9);
  PartialMixed m = partial_mixup(numbered_images(B), from_vector(labels, {B}, DType::i64), K,
                                 1.0, 0.0, gen, /*mix=*/false);
  std::vector<int64_t> p1 = randperm(B, DType::i64, &replay).to_vector<int64_t>();
  CHECK(m.lambdas == std::vector<double>(B, 1.0));
  std::vector<float> px = m.images.to_vector<float>(), t = m.targets.to_vector<float>();
  for (int64_t b = 0; b < B; ++b) {
    CHECK(px[size_t(b * 8)] == float(p1[size_t(b)] + 1));
    for (int64_t k = 0; k < K; ++k)
      CHECK(t[size_t(b * K + k)] == (labels[size_t(p1[size_t(b)])] == k ? 1.0f : 0.0f));
  }
}

TEST_CASE("data: partial_mixup leaves about 1 - exp(-percent) of the batch unmixed") {
  const int64_t B = 20000;
  Tensor x = zeros({B, 1, 1, 1});
  Tensor y = zeros({B}, DType::i64);
  for (double a : {1.0, 0.4}) {
    Generator gen(17);
    PartialMixed m = partial_mixup(x, y, 2, a, 0.9, gen);
    int64_t ones = 0;
    double sum = 0, sq = 0;
    int64_t n = 0;
    for (double l : m.lambdas) {
      if (l == 1.0) {
        ++ones;
        continue;
      }
      sum += l;
      sq += l * l;
      ++n;
    }
    // Drawn with replacement: a sample escapes int(0.9 B) draws with probability
    // (1 - 1/B)^(0.9 B) ~ e^-0.9, so about 59% (not 90%) end with lambda = 1.
    const double unmixed = 1 - std::pow(1 - 1.0 / double(B), std::floor(0.9 * double(B)));
    CHECK(double(ones) / double(B) == doctest::Approx(unmixed).epsilon(0.03));
    // The rest are Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)).
    const double mean = sum / double(n), var = sq / double(n) - mean * mean;
    CHECK(mean == doctest::Approx(0.5).epsilon(0.03));
    CHECK(var == doctest::Approx(1 / (4 * (2 * a + 1))).epsilon(0.05));
  }
}

TEST_CASE("data: partial_mixup errors") {
  Tensor x = zeros({3, 1, 2, 2});
  Generator g(0);
  testing::check_error([&] { partial_mixup(x, zeros({2}, DType::i64), 4, 1.0, 0.5, g); },
                       {"partial_mixup", "3 images but 2 labels"});
  testing::check_error([&] { partial_mixup(x, zeros({3}, DType::i64), 4, 0.0, 0.5, g); },
                       {"partial_mixup", "alpha"});
  testing::check_error([&] { partial_mixup(x, zeros({3}, DType::i64), 4, 1.0, -1, g); },
                       {"partial_mixup", "percent"});
}
