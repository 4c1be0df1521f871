#include "engine/data/sampling.h"

#include <cmath>
#include <numbers>

#include "engine/core/error.h"

namespace tutor::data {

int64_t uniform_int(Generator& gen, int64_t lo, int64_t hi) {
  TUTOR_CHECK(hi > lo, "uniform_int: empty range [{}, {})", lo, hi);
  return lo + int64_t(gen.next_u64() % uint64_t(hi - lo));
}

double uniform(Generator& gen, double lo, double hi) { return lo + (hi - lo) * gen.uniform_f64(); }

double normal(Generator& gen) {
  double u1 = gen.uniform_f64(), u2 = gen.uniform_f64();
  return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double gamma(Generator& gen, double alpha) {
  TUTOR_CHECK(alpha > 0 && std::isfinite(alpha), "gamma: alpha must be positive and finite, got {}",
              alpha);
  if (alpha < 1) {
    double u = gen.uniform_f64();
    return gamma(gen, alpha + 1) * std::pow(u, 1.0 / alpha);
  }
  const double d = alpha - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = normal(gen), v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = gen.uniform_f64();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;  // the paper's fast squeeze
    if (std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v;
  }
}

double beta(Generator& gen, double a, double b) {
  TUTOR_CHECK(a > 0 && b > 0, "beta: parameters must be positive, got {} and {}", a, b);
  double x = gamma(gen, a), y = gamma(gen, b);
  // Both underflow to 0 only for tiny a and b, where Beta puts its mass at 0 and 1 equally.
  if (x + y == 0) return gen.uniform_f64() < a / (a + b) ? 1.0 : 0.0;
  return x / (x + y);
}

}  // namespace tutor::data
