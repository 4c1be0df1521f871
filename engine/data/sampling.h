// Scalar draws from a Generator for the random transforms, built only on its documented words
// (rng.h), so a seed gives the same augmentations on every machine.
#pragma once

#include <cstdint>

#include "engine/core/rng.h"

namespace tutor::data {

// Integer uniform in [lo, hi): lo + next_u64() mod (hi - lo), as randint.
int64_t uniform_int(Generator& gen, int64_t lo, int64_t hi);
// Real uniform in [lo, hi) from one f64 uniform.
double uniform(Generator& gen, double lo = 0, double hi = 1);
// Standard normal: Box-Muller, sqrt(-2 ln(1 - u1)) cos(2 pi u2), two f64 uniforms per draw.
double normal(Generator& gen);
// Gamma(alpha, 1) by Marsaglia and Tsang, "A simple method for generating gamma variables"
// (ACM TOMS 26(3), 2000): d = alpha - 1/3, c = 1 / sqrt(9 d); repeat x ~ N(0, 1),
// v = (1 + c x)^3 until v > 0 and ln u < x^2 / 2 + d - d v + d ln v (u ~ U(0, 1)); return d v.
// For alpha < 1: Gamma(alpha + 1) * u^(1 / alpha).
double gamma(Generator& gen, double alpha);
// Beta(a, b) = X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
double beta(Generator& gen, double a, double b);

}  // namespace tutor::data
