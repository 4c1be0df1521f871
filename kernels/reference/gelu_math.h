// The GELU formulas of torch.nn.functional.gelu, scalar and in double or float, shared by the
// reference "gelu" kernels and the reference fused kernels that end in a GELU.
//   erf form:  x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2
//   tanh form: 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)
#pragma once

#include <cmath>
#include <numbers>

namespace tutor::kernels::reference {

constexpr double kGeluC = 0.044715;

template <class T>
T gelu_u(T x) {
  return T(std::sqrt(2 / std::numbers::pi)) * (x + T(kGeluC) * x * x * x);
}
template <class T>
T normal_cdf(T x) {
  return T(0.5) * (T(1) + std::erf(x * T(std::numbers::sqrt2 / 2)));
}
template <class T>
T normal_pdf(T x) {
  return std::exp(T(-0.5) * x * x) * T(0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
}
template <class T>
T gelu_value(T x, bool tanh_form) {
  return tanh_form ? T(0.5) * x * (T(1) + std::tanh(gelu_u(x))) : x * normal_cdf(x);
}

}  // namespace tutor::kernels::reference
