// Dropout and DropPath: identity in evaluation, the kept fraction and scaling in training, the
// per-sample mask of DropPath, gradients through the mask, reprs as PyTorch and timm.
#include <doctest/doctest.h>

#include "nn_test.h"

using namespace tutor;

TEST_CASE("Dropout: repr, identity in evaluation, kept fraction and scale in training") {
  CHECK(nn::Dropout(0.1).str() == "Dropout(p=0.1, inplace=False)");
  CHECK(nn::Dropout(0).str() == "Dropout(p=0.0, inplace=False)");
  nn::Dropout d(0.3);
  Tensor x = ones({100000}).requires_grad_();
  manual_seed(4);
  Tensor y = d(x);
  std::vector<float> v = y.to_vector<float>();
  int64_t zeros_seen = 0, other = 0;
  for (float e : v) {
    other += !(e == 0 || e == float(1 / 0.7));
    zeros_seen += e == 0;
  }
  CHECK(other == 0);
  // Binomial(1e5, 0.3): standard deviation of the fraction 0.0014
  CHECK(std::fabs(double(zeros_seen) / 1e5 - 0.3) < 0.007);
  // dy/dx is the same scaled mask: with x = 1 it equals y
  sum(y).backward();
  testing::check_close(x.grad(), y.detach(), 0, 0);

  d.eval();
  testing::check_close(d(x), x, 0, 0);
  CHECK(testing::moments(nn::Dropout(1)(ones({10}))).max == 0);
  testing::check_error([] { nn::Dropout(1.5); }, {"Dropout", "p", "1.5"});
}

TEST_CASE("DropPath: per-sample mask, keep fraction, scale, identity in evaluation") {
  CHECK(nn::DropPath(0.1).str() == "DropPath(drop_prob=0.100)");  // timm's repr
  nn::DropPath dp(0.25);
  const int64_t n = 20000;
  Tensor x = ones({n, 3, 2}).requires_grad_();
  manual_seed(8);
  Tensor y = dp(x);
  std::vector<float> v = y.to_vector<float>();
  int64_t dropped = 0, other = 0;
  for (int64_t i = 0; i < n; ++i) {
    float first = v[size_t(i * 6)];
    other += !(first == 0 || first == float(1 / 0.75));
    for (int64_t j = 1; j < 6; ++j) other += v[size_t(i * 6 + j)] != first;  // whole samples
    dropped += first == 0;
  }
  CHECK(other == 0);
  // Binomial(2e4, 0.25): standard deviation of the fraction 0.0031
  CHECK(std::fabs(double(dropped) / double(n) - 0.25) < 0.015);
  sum(y).backward();
  testing::check_close(x.grad(), y.detach(), 0, 0);

  nn::DropPath unscaled(0.5, false);
  CHECK(testing::moments(unscaled(ones({1000, 4}))).max == 1);
  dp.eval();
  CHECK(dp(x).is_same(x));
  nn::DropPath none(0);
  CHECK(none(x).is_same(x));
  CHECK(testing::moments(nn::DropPath(1)(ones({50, 2}))).max == 0);
  testing::check_error([] { nn::DropPath(-0.1); }, {"DropPath", "drop_prob", "-0.1"});
  testing::check_error([&] { dp.train(), dp(ones({4}, DType::i64)); }, {"DropPath", "i64", "[4]"});
}
