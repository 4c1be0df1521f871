// Reference element-wise kernels. Inputs arrive broadcast to the output's shape (any strides);
// the output is written at its own strides (the in-place ops pass the changed tensor as output).
// Scalar parameters (kernels::ScalarParams) are documented at each kernel that reads them.
#include <cmath>
#include <numbers>

#include "kernels/params.h"
#include "kernels/reference/gelu_math.h"
#include "kernels/reference/loops.h"
#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

namespace {

// out[i] = f(in0[i], in1[i], in2[i]); `where` is the only three-input element-wise op.
template <class A, class B, class C, class R, class F>
void map3(const KernelArgs& a, F f) {
  const Tensor &x = a.in[0], &z = a.in[1], &w = a.in[2], &y = a.out[0];
  const A* xp = base<A>(x);
  const B* zp = base<B>(z);
  const C* wp = base<C>(w);
  R* yp = base<R>(y);
  for_each_offset<4>(
      y.sizes(), {&y.strides(), &x.strides(), &z.strides(), &w.strides()},
      {y.offset(), x.offset(), z.offset(), w.offset()},
      [&](int64_t oy, int64_t ox, int64_t oz, int64_t ow) { yp[oy] = f(xp[ox], zp[oz], wp[ow]); });
}

const ScalarParams& params(const KernelArgs& a) { return a.p<ScalarParams>(); }

// ---- arithmetic ----
template <class T>
void add_kernel(const KernelArgs& a) {
  map2<T>(a, [](T x, T y) { return x + y; });
}
template <class T>
void sub_kernel(const KernelArgs& a) {
  map2<T>(a, [](T x, T y) { return x - y; });
}
template <class T>
void mul_kernel(const KernelArgs& a) {
  map2<T>(a, [](T x, T y) { return x * y; });
}
template <class T>
void div_kernel(const KernelArgs& a) {
  map2<T>(a, [](T x, T y) {
    if constexpr (std::is_integral_v<T>) {
      TUTOR_CHECK(y != 0, "div: integer division by zero");
    }
    return x / y;
  });
}
template <class T>
void minimum_kernel(const KernelArgs& a) {
  map2<T>(a, [](T x, T y) { return std::isnan(double(x)) || x < y ? x : y; });
}
template <class T>
void maximum_kernel(const KernelArgs& a) {
  map2<T>(a, [](T x, T y) { return std::isnan(double(x)) || x > y ? x : y; });
}
template <class T>
void pow_kernel(const KernelArgs& a) {
  map2<T>(a, [](T x, T y) { return std::pow(x, y); });
}
// params.a: the exponent
template <class T>
void pow_scalar_kernel(const KernelArgs& a) {
  T e = T(params(a).a);
  map1<T>(a, [e](T x) { return std::pow(x, e); });
}

template <class T>
void neg_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return -x; });
}
template <class T>
void abs_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return std::abs(x); });
}
template <class T>
void sign_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return T((T(0) < x) - (x < T(0))); });
}
template <class T>
void square_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return x * x; });
}
template <class T>
void floor_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return std::floor(x); });
}
template <class T>
void reciprocal_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return T(1) / x; });
}

// ---- transcendental ----
template <class T>
void exp_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return std::exp(x); });
}
template <class T>
void expm1_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return std::expm1(x); });
}
template <class T>
void log_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return std::log(x); });
}
template <class T>
void log1p_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return std::log1p(x); });
}
template <class T>
void sqrt_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return std::sqrt(x); });
}
template <class T>
void rsqrt_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return T(1) / std::sqrt(x); });
}
template <class T>
void sin_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return std::sin(x); });
}
template <class T>
void cos_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return std::cos(x); });
}
template <class T>
void tanh_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return std::tanh(x); });
}

// 1 / (1 + exp(-x)), written so that exp never overflows
template <class T>
T sigmoid_of(T x) {
  if (x >= 0) return T(1) / (T(1) + std::exp(-x));
  T e = std::exp(x);
  return e / (T(1) + e);
}
template <class T>
void sigmoid_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return sigmoid_of(x); });
}

// ---- activations ----
// relu's backward: g where y = relu(x) > 0, else 0 (PyTorch's threshold_backward at 0).
template <class T>
void relu_backward_kernel(const KernelArgs& a) {
  map2<T>(a, [](T g, T y) { return y > T(0) ? g : T(0); });
}
template <class T>
void relu_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return x < 0 ? T(0) : x; });  // NaN stays NaN
}
// params.a: negative_slope
template <class T>
void leaky_relu_kernel(const KernelArgs& a) {
  T slope = T(params(a).a);
  map1<T>(a, [slope](T x) { return x > 0 ? x : x * slope; });
}
template <class T>
void silu_kernel(const KernelArgs& a) {
  map1<T>(a, [](T x) { return x * sigmoid_of(x); });
}
// params.a: beta, params.b: threshold (linear above it, as PyTorch)
template <class T>
void softplus_kernel(const KernelArgs& a) {
  T beta = T(params(a).a), threshold = T(params(a).b);
  map1<T>(a, [=](T x) { return x * beta > threshold ? x : std::log1p(std::exp(x * beta)) / beta; });
}

// GELU (gelu_math.h). params.a != 0 selects the tanh form.
template <class T>
void gelu_kernel(const KernelArgs& a) {
  const bool tanh_form = params(a).a != 0;
  map1<T>(a, [tanh_form](T x) { return gelu_value(x, tanh_form); });
}

// d gelu / dx: erf form Phi(x) + x phi(x); tanh form 0.5 (1 + t) + 0.5 x (1 - t^2) u'(x)
template <class T>
void gelu_backward_kernel(const KernelArgs& a) {
  if (params(a).a != 0)
    map1<T>(a, [](T x) {
      T t = std::tanh(gelu_u(x));
      T du = T(std::sqrt(2 / std::numbers::pi)) * (T(1) + T(3 * kGeluC) * x * x);
      return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du;
    });
  else
    map1<T>(a, [](T x) { return normal_cdf(x) + x * normal_pdf(x); });
}

// params.a: lower bound, params.b: upper bound (infinite when absent); min(max(x, lo), hi) as
// torch.clamp, so lo > hi gives hi everywhere.
template <class T>
void clamp_kernel(const KernelArgs& a) {
  double lo = params(a).a, hi = params(a).b;
  map1<T>(a, [=](T x) {
    if (double(x) < lo) x = T(lo);
    if (double(x) > hi) x = T(hi);
    return x;
  });
}

// ---- selection ----
template <class T>
void where_kernel(const KernelArgs& a) {
  map3<bool, T, T, T>(a, [](bool c, T x, T y) { return c ? x : y; });
}
// params.a: the fill value
template <class T>
void masked_fill_kernel(const KernelArgs& a) {
  const Tensor &x = a.in[0], &m = a.in[1], &y = a.out[0];
  const T* xp = base<T>(x);
  const bool* mp = base<bool>(m);
  T* yp = base<T>(y);
  T value = T(params(a).a);
  for_each_offset<3>(y.sizes(), {&y.strides(), &x.strides(), &m.strides()},
                     {y.offset(), x.offset(), m.offset()},
                     [&](int64_t oy, int64_t ox, int64_t om) { yp[oy] = mp[om] ? value : xp[ox]; });
}

// ---- comparisons (bool output) and logic ----
template <class T>
void eq_kernel(const KernelArgs& a) {
  map2<T, bool>(a, [](T x, T y) { return x == y; });
}
template <class T>
void ne_kernel(const KernelArgs& a) {
  map2<T, bool>(a, [](T x, T y) { return x != y; });
}
template <class T>
void lt_kernel(const KernelArgs& a) {
  map2<T, bool>(a, [](T x, T y) { return x < y; });
}
template <class T>
void le_kernel(const KernelArgs& a) {
  map2<T, bool>(a, [](T x, T y) { return x <= y; });
}
template <class T>
void gt_kernel(const KernelArgs& a) {
  map2<T, bool>(a, [](T x, T y) { return x > y; });
}
template <class T>
void ge_kernel(const KernelArgs& a) {
  map2<T, bool>(a, [](T x, T y) { return x >= y; });
}

void logical_and_kernel(const KernelArgs& a) {
  map2<bool>(a, [](bool x, bool y) { return x && y; });
}
void logical_or_kernel(const KernelArgs& a) {
  map2<bool>(a, [](bool x, bool y) { return x || y; });
}
void logical_xor_kernel(const KernelArgs& a) {
  map2<bool>(a, [](bool x, bool y) { return x != y; });
}
void logical_not_kernel(const KernelArgs& a) {
  map1<bool>(a, [](bool x) { return !x; });
}

}  // namespace

#define TUTOR_REGISTER_NUMERIC(name, fn)                                 \
  do {                                                                   \
    TUTOR_REGISTER_FLOATING(name, fn);                                   \
    register_kernel(name, Backend::reference, DType::i64, &fn<int64_t>); \
  } while (0)

void register_elementwise() {
  TUTOR_REGISTER_NUMERIC("add", add_kernel);
  TUTOR_REGISTER_NUMERIC("sub", sub_kernel);
  TUTOR_REGISTER_NUMERIC("mul", mul_kernel);
  TUTOR_REGISTER_NUMERIC("div", div_kernel);
  TUTOR_REGISTER_NUMERIC("minimum", minimum_kernel);
  TUTOR_REGISTER_NUMERIC("maximum", maximum_kernel);
  TUTOR_REGISTER_FLOATING("pow", pow_kernel);
  TUTOR_REGISTER_FLOATING("pow_scalar", pow_scalar_kernel);

  TUTOR_REGISTER_NUMERIC("neg", neg_kernel);
  TUTOR_REGISTER_NUMERIC("abs", abs_kernel);
  TUTOR_REGISTER_NUMERIC("sign", sign_kernel);
  TUTOR_REGISTER_NUMERIC("square", square_kernel);
  TUTOR_REGISTER_FLOATING("floor", floor_kernel);
  TUTOR_REGISTER_FLOATING("reciprocal", reciprocal_kernel);

  TUTOR_REGISTER_FLOATING("exp", exp_kernel);
  TUTOR_REGISTER_FLOATING("expm1", expm1_kernel);
  TUTOR_REGISTER_FLOATING("log", log_kernel);
  TUTOR_REGISTER_FLOATING("log1p", log1p_kernel);
  TUTOR_REGISTER_FLOATING("sqrt", sqrt_kernel);
  TUTOR_REGISTER_FLOATING("rsqrt", rsqrt_kernel);
  TUTOR_REGISTER_FLOATING("sin", sin_kernel);
  TUTOR_REGISTER_FLOATING("cos", cos_kernel);
  TUTOR_REGISTER_FLOATING("tanh", tanh_kernel);
  TUTOR_REGISTER_FLOATING("sigmoid", sigmoid_kernel);

  TUTOR_REGISTER_NUMERIC("relu", relu_kernel);
  TUTOR_REGISTER_NUMERIC("relu_backward", relu_backward_kernel);
  TUTOR_REGISTER_FLOATING("leaky_relu", leaky_relu_kernel);
  TUTOR_REGISTER_FLOATING("silu", silu_kernel);
  TUTOR_REGISTER_FLOATING("softplus", softplus_kernel);
  TUTOR_REGISTER_FLOATING("gelu", gelu_kernel);
  TUTOR_REGISTER_FLOATING("gelu_backward", gelu_backward_kernel);
  TUTOR_REGISTER_NUMERIC("clamp", clamp_kernel);

  TUTOR_REGISTER_NUMERIC("where", where_kernel);
  TUTOR_REGISTER_NUMERIC("masked_fill", masked_fill_kernel);

  TUTOR_REGISTER_NUMERIC("eq", eq_kernel);
  TUTOR_REGISTER_NUMERIC("ne", ne_kernel);
  TUTOR_REGISTER_NUMERIC("lt", lt_kernel);
  TUTOR_REGISTER_NUMERIC("le", le_kernel);
  TUTOR_REGISTER_NUMERIC("gt", gt_kernel);
  TUTOR_REGISTER_NUMERIC("ge", ge_kernel);
  register_kernel("logical_and", Backend::reference, DType::b8, &logical_and_kernel);
  register_kernel("logical_or", Backend::reference, DType::b8, &logical_or_kernel);
  register_kernel("logical_xor", Backend::reference, DType::b8, &logical_xor_kernel);
  register_kernel("logical_not", Backend::reference, DType::b8, &logical_not_kernel);
}

}  // namespace tutor::kernels::reference
