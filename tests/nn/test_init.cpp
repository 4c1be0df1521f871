// nn::init: fans, gains, and each initializer's bounds and moments over many draws. The streams
// differ from PyTorch's, so the checks are on the distributions: with n = 200000 draws the sample
// mean's standard error is sigma / 447, and the tolerances below are more than 5 of those.
#include <doctest/doctest.h>

#include "nn_test.h"

using namespace tutor;
using testing::moments;

namespace {

const double kPi = 3.14159265358979323846;
double pdf(double x) { return std::exp(-x * x / 2) / std::sqrt(2 * kPi); }
double cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

}  // namespace

TEST_CASE("init: fans and gains as torch.nn.init") {
  CHECK(nn::init::calculate_fan_in_and_fan_out(empty({3, 4})) == std::pair<int64_t, int64_t>{4, 3});
  // Conv2d(3, 8, 3): [8, 3, 3, 3] -> fan_in 3*9, fan_out 8*9
  CHECK(nn::init::calculate_fan_in_and_fan_out(empty({8, 3, 3, 3})) ==
        std::pair<int64_t, int64_t>{27, 72});
  testing::check_error([] { nn::init::calculate_fan_in_and_fan_out(empty({5})); },
                       {"at least 2 dims", "[5]"});
  CHECK(nn::init::calculate_gain("linear") == 1);
  CHECK(nn::init::calculate_gain("tanh") == doctest::Approx(5.0 / 3));
  CHECK(nn::init::calculate_gain("relu") == doctest::Approx(std::sqrt(2.0)));
  CHECK(nn::init::calculate_gain("leaky_relu") == doctest::Approx(std::sqrt(2 / 1.0001)));
  CHECK(nn::init::calculate_gain("leaky_relu", std::sqrt(5.0)) ==
        doctest::Approx(std::sqrt(1 / 3.0)));
  CHECK(nn::init::calculate_gain("selu") == 0.75);
  testing::check_error([] { nn::init::calculate_gain("swish"); }, {"calculate_gain", "swish"});
}

TEST_CASE("init: uniform_ and normal_ moments") {
  Generator gen(11);
  Tensor t = empty({200000});
  auto m = moments(nn::init::uniform_(t, -2, 3, &gen));
  CHECK(m.min >= -2);
  CHECK(m.max < 3);
  CHECK(m.min < -1.99);
  CHECK(m.max > 2.99);
  CHECK(std::fabs(m.mean - 0.5) < 0.02);
  CHECK(std::fabs(m.var - 25.0 / 12) < 0.03);

  m = moments(nn::init::normal_(t, 1.5, 0.5, &gen));
  CHECK(std::fabs(m.mean - 1.5) < 0.005);
  CHECK(std::fabs(m.var - 0.25) < 0.005);

  Tensor d = empty({1000}, DType::f64);
  nn::init::uniform_(d, 0, 1, &gen);
  CHECK(d.dtype() == DType::f64);
  CHECK(nn::init::constant_(d, 0.25).to_vector<double>()[999] == 0.25);
  CHECK(moments(nn::init::zeros_(d)).max == 0);
  CHECK(moments(nn::init::ones_(d)).min == 1);
}

TEST_CASE("init: kaiming and xavier bounds and variances") {
  Generator gen(5);
  Tensor w = empty({400, 500});  // fan_in 500, fan_out 400
  // a = sqrt(5): bound = sqrt(1/3) * sqrt(3 / 500) = 1 / sqrt(500)
  auto m = moments(nn::init::kaiming_uniform_(w, std::sqrt(5.0), "fan_in", "leaky_relu", &gen));
  double b = 1 / std::sqrt(500.0);
  CHECK(m.min >= -b);
  CHECK(m.max <= b);
  CHECK(m.max > 0.999 * b);
  CHECK(std::fabs(m.var / (b * b / 3) - 1) < 0.02);

  m = moments(nn::init::kaiming_normal_(w, 0, "fan_out", "relu", &gen));
  CHECK(std::fabs(m.mean) < 0.001);
  CHECK(std::fabs(m.var / (2.0 / 400) - 1) < 0.02);

  m = moments(nn::init::xavier_uniform_(w, 2.0, &gen));
  double a = 2 * std::sqrt(6.0 / 900);
  CHECK(m.min >= -a);
  CHECK(m.max <= a);
  CHECK(std::fabs(m.var / (a * a / 3) - 1) < 0.02);

  m = moments(nn::init::xavier_normal_(w, 1.0, &gen));
  CHECK(std::fabs(m.var / (2.0 / 900) - 1) < 0.02);

  testing::check_error([&] { nn::init::kaiming_uniform_(w, 0, "fan_avg"); },
                       {"kaiming_uniform_", "fan_avg"});
}

TEST_CASE("init: trunc_normal_ matches the truncated normal's moments") {
  Generator gen(9);
  Tensor t = empty({200000});
  struct Case {
    double mean, std, a, b;
  };
  // Symmetric (timm's default use: std 0.02 within +-2), asymmetric, and a far tail.
  for (Case c : {Case{0, 0.02, -2, 2}, Case{1, 2, -1, 2}, Case{0, 1, 2, 3}}) {
    CAPTURE(c.mean);
    CAPTURE(c.a);
    auto m = moments(nn::init::trunc_normal_(t, c.mean, c.std, c.a, c.b, &gen));
    // E and Var of N(mu, sigma^2) truncated to [a, b] (Johnson, Kotz & Balakrishnan, 1994)
    double al = (c.a - c.mean) / c.std, be = (c.b - c.mean) / c.std;
    double z = cdf(be) - cdf(al), r = (pdf(al) - pdf(be)) / z;
    double mean = c.mean + c.std * r;
    double var = c.std * c.std * (1 + (al * pdf(al) - be * pdf(be)) / z - r * r);
    CHECK(m.min >= c.a);
    CHECK(m.max <= c.b);
    CHECK(std::fabs(m.mean - mean) < 0.01 * c.std);
    CHECK(std::fabs(m.var / var - 1) < 0.02);
  }
  testing::check_error([&] { nn::init::trunc_normal_(t, 0, 1, 2, -2); },
                       {"trunc_normal_", "a = 2", "b = -2"});
}

TEST_CASE("init: in place on parameters, without recording, from the given generator") {
  Tensor w = zeros({4, 4}).requires_grad_();
  uint64_t before = w.version();
  Generator g1(3), g2(3);
  nn::init::uniform_(w, -1, 1, &g1);
  CHECK(w.is_leaf());
  CHECK(w.requires_grad());
  CHECK(w.version() > before);
  Tensor again = zeros({4, 4});
  nn::init::uniform_(again, -1, 1, &g2);
  CHECK(w.detach().to_vector<float>() == again.to_vector<float>());
  testing::check_error([] { nn::init::normal_(zeros({2}, DType::i64)); },
                       {"normal_", "floating", "i64"});
  testing::check_error([] { nn::init::uniform_(zeros({2}), 1, 0); }, {"uniform_", "a <= b"});
}
