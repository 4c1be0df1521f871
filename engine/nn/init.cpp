#include "engine/nn/init.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/core/random.h"
#include "engine/ops/elementwise.h"

namespace tutor::nn::init {

namespace {

void check_floating(const char* fn, const Tensor& t) {
  TUTOR_CHECK(t.defined(), "nn.init.{}: the tensor is undefined", fn);
  TUTOR_CHECK(t.is_floating_point(), "nn.init.{}: expected a floating tensor, got {} of shape {}",
              fn, t.dtype(), shape_str(t.sizes()));
}

// Copies `values` into t without recording, as PyTorch's initializers run under no_grad.
const Tensor& assign(const Tensor& t, const Tensor& values) {
  NoGradGuard no_grad;
  t.copy_(values);
  return t;
}

// The dtype to draw in: f64 tensors get f64 draws, the others f32 ones converted on copy.
DType draw_dtype(const Tensor& t) { return t.dtype() == DType::f64 ? DType::f64 : DType::f32; }

int64_t fan(const char* fn, const Tensor& t, const std::string& mode) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  TUTOR_CHECK(mode == "fan_in" || mode == "fan_out",
              "nn.init.{}: mode must be 'fan_in' or 'fan_out', got '{}'", fn, mode);
  int64_t f = mode == "fan_in" ? fan_in : fan_out;
  TUTOR_CHECK(f > 0, "nn.init.{}: {} is 0 for a tensor of shape {}", fn, mode,
              shape_str(t.sizes()));
  return f;
}

// The inverse of erf on (-1, 1): Giles' single-precision approximation ("Approximating the erfinv
// function", GPU Computing Gems, 2011) refined by two Newton steps on erf(x) - y, each of which
// roughly doubles the correct digits, to double precision.
double erfinv(double y) {
  if (y <= -1) return -std::numeric_limits<double>::infinity();
  if (y >= 1) return std::numeric_limits<double>::infinity();
  double w = -std::log((1 - y) * (1 + y)), p;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                     -0.00417768164, 0.246640727, 1.50140941})
      p = c + p * w;
  } else {
    w = std::sqrt(w) - 3;
    p = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                     0.00943887047, 1.00167406, 2.83297682})
      p = c + p * w;
  }
  double x = p * y;
  const double two_over_sqrt_pi = 2 / std::sqrt(M_PI);
  for (int i = 0; i < 2; ++i) x -= (std::erf(x) - y) / (two_over_sqrt_pi * std::exp(-x * x));
  return x;
}

double normal_cdf(double x) { return 0.5 * (1 + std::erf(x / std::sqrt(2.0))); }

}  // namespace

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
  TUTOR_CHECK(t.dim() >= 2,
              "nn.init: fan in and fan out need a tensor with at least 2 dims, got shape {}",
              shape_str(t.sizes()));
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

double calculate_gain(const std::string& nonlinearity, std::optional<double> param) {
  for (const char* one : {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                          "conv_transpose2d", "conv_transpose3d", "sigmoid"})
    if (nonlinearity == one) return 1;
  if (nonlinearity == "tanh") return 5.0 / 3;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") {
    double slope = param.value_or(0.01);
    return std::sqrt(2.0 / (1 + slope * slope));
  }
  if (nonlinearity == "selu") return 3.0 / 4;
  fail("nn.init.calculate_gain: unsupported nonlinearity '{}'", nonlinearity);
}

const Tensor& uniform_(const Tensor& t, double a, double b, Generator* gen) {
  check_floating("uniform_", t);
  TUTOR_CHECK(a <= b, "nn.init.uniform_: expected a <= b, got a = {}, b = {} (shape {})", a, b,
              shape_str(t.sizes()));
  NoGradGuard no_grad;
  return assign(t, add(mul(rand(t.sizes(), draw_dtype(t), gen), b - a), a));
}

const Tensor& normal_(const Tensor& t, double mean, double std, Generator* gen) {
  check_floating("normal_", t);
  TUTOR_CHECK(std >= 0, "nn.init.normal_: std must be >= 0, got {} (shape {})", std,
              shape_str(t.sizes()));
  NoGradGuard no_grad;
  return assign(t, add(mul(randn(t.sizes(), draw_dtype(t), gen), std), mean));
}

const Tensor& constant_(const Tensor& t, double value) {
  check_floating("constant_", t);
  NoGradGuard no_grad;
  return t.fill_(value);
}

const Tensor& zeros_(const Tensor& t) { return constant_(t, 0); }
const Tensor& ones_(const Tensor& t) { return constant_(t, 1); }

const Tensor& kaiming_uniform_(const Tensor& t, double a, const std::string& mode,
                               const std::string& nonlinearity, Generator* gen) {
  check_floating("kaiming_uniform_", t);
  double bound =
      calculate_gain(nonlinearity, a) * std::sqrt(3.0 / double(fan("kaiming_uniform_", t, mode)));
  return uniform_(t, -bound, bound, gen);
}

const Tensor& kaiming_normal_(const Tensor& t, double a, const std::string& mode,
                              const std::string& nonlinearity, Generator* gen) {
  check_floating("kaiming_normal_", t);
  double std = calculate_gain(nonlinearity, a) / std::sqrt(double(fan("kaiming_normal_", t, mode)));
  return normal_(t, 0, std, gen);
}

const Tensor& xavier_uniform_(const Tensor& t, double gain, Generator* gen) {
  check_floating("xavier_uniform_", t);
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  double a = gain * std::sqrt(6.0 / double(fan_in + fan_out));
  return uniform_(t, -a, a, gen);
}

const Tensor& xavier_normal_(const Tensor& t, double gain, Generator* gen) {
  check_floating("xavier_normal_", t);
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  return normal_(t, 0, gain * std::sqrt(2.0 / double(fan_in + fan_out)), gen);
}

const Tensor& trunc_normal_(const Tensor& t, double mean, double std, double a, double b,
                            Generator* gen) {
  check_floating("trunc_normal_", t);
  TUTOR_CHECK(std > 0 && a < b,
              "nn.init.trunc_normal_: expected std > 0 and a < b, got std = {}, a = {}, b = {} "
              "(shape {})",
              std, a, b, shape_str(t.sizes()));
  Generator& g = gen ? *gen : default_generator();
  const double l = normal_cdf((a - mean) / std), u = normal_cdf((b - mean) / std);
  std::vector<double> values(size_t(t.numel()));
  for (double& v : values) {
    double p = 2 * (l + (u - l) * g.uniform_f64()) - 1;  // U(2l - 1, 2u - 1)
    v = std::clamp(mean + std * std::sqrt(2.0) * erfinv(p), a, b);
  }
  return assign(t, from_vector(values, t.sizes(), DType::f64));
}

}  // namespace tutor::nn::init
