// WKD-L's class features for the CKA cost matrix: the first N samples of each class, every
// spatial position of a feature map a sample of its own, checked against rows picked by hand.
#include <doctest/doctest.h>

#include "distill/cost_matrix.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using tutor::testing::check_close;
using tutor::testing::check_error;

TEST_CASE("cost matrix: class features are the first per_class samples of each class") {
  // Sample s has features (10 s, 10 s + 1); labels 1, 0, 1, 0, 0, 1.
  Tensor f = tensor({0.0, 1.0, 10.0, 11.0, 20.0, 21.0, 30.0, 31.0, 40.0, 41.0, 50.0, 51.0})
                 .reshape({6, 2});
  Tensor y = from_vector(std::vector<int64_t>{1, 0, 1, 0, 0, 1}, {6}, TensorOptions(DType::i64));
  Tensor g = distill::gather_class_features(f, y, 2, 2);
  REQUIRE(g.sizes() == Shape{2, 2, 2});
  // Class 0: samples 1 and 3; class 1: samples 0 and 2.
  check_close(g, tensor({{{10.0, 11.0}, {30.0, 31.0}}, {{0.0, 1.0}, {20.0, 21.0}}}), 0, 0);
  check_error([&] { distill::gather_class_features(f, y, 2, 4); },
              {"class 0 has 3 samples, 4 asked for per class"});
  check_error([&] { distill::gather_class_features(f, y, 3, 1); }, {"class 2 has 0 samples"});
  check_error([&] { distill::gather_class_features(f, y.narrow(0, 0, 5), 2, 1); },
              {"expected labels [6]"});
}

TEST_CASE("cost matrix: every position of a feature map is a sample of D features") {
  // x[s, d, h, w] = 100 s + 10 d + 2 h + w, [3, 2, 2, 2]; labels 0, 1, 0.
  std::vector<double> v;
  for (int s = 0; s < 3; ++s)
    for (int d = 0; d < 2; ++d)
      for (int h = 0; h < 2; ++h)
        for (int w = 0; w < 2; ++w) v.push_back(100.0 * s + 10.0 * d + 2.0 * h + w);
  Tensor x = from_vector(v, {3, 2, 2, 2}, TensorOptions(DType::f64));
  Tensor y = from_vector(std::vector<int64_t>{0, 1, 0}, {3}, TensorOptions(DType::i64));
  Tensor g = distill::gather_class_features(x, y, 2, 1);
  REQUIRE(g.sizes() == Shape{2, 4, 2});
  // Class 0 is sample 0, class 1 sample 1; positions (h, w) in order, D = 2 features each.
  check_close(g,
              tensor({{{0.0, 10.0}, {1.0, 11.0}, {2.0, 12.0}, {3.0, 13.0}},
                      {{100.0, 110.0}, {101.0, 111.0}, {102.0, 112.0}, {103.0, 113.0}}}),
              0, 0);
}
