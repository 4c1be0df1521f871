// The body of loops_elementwise.cpp, compiled once per ISA (loops_isa.h): no include guard, no
// includes.

// y = f(a, b) and y = f(x) in f32 (elementwise in loops_simd.h).
template <class F>
void binary(const KernelArgs& a, F f) {
  elementwise<float, float, float>(a, f);
}

template <class F>
void unary(const KernelArgs& a, F f) {
  elementwise<float, float>(a, f);
}

void add_kernel(const KernelArgs& a) {
  binary(a, [](float x, float y) { return x + y; });
}
void sub_kernel(const KernelArgs& a) {
  binary(a, [](float x, float y) { return x - y; });
}
void mul_kernel(const KernelArgs& a) {
  binary(a, [](float x, float y) { return x * y; });
}
void div_kernel(const KernelArgs& a) {
  binary(a, [](float x, float y) { return x / y; });
}

void neg_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return -x; });
}
void abs_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return std::abs(x); });
}
void square_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return x * x; });
}
void relu_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return x < 0 ? 0.0f : x; });  // NaN stays NaN
}
void relu_backward_kernel(const KernelArgs& a) {
  binary(a, [](float g, float y) { return y > 0 ? g : 0.0f; });
}
void exp_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return vexp(x); });
}
void log_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return vlog(x); });
}
void sqrt_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return std::sqrt(x); });
}
void rsqrt_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return 1.0f / std::sqrt(x); });
}
void tanh_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return vtanh(x); });
}
void sigmoid_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return vsigmoid(x); });
}
void silu_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return x * vsigmoid(x); });
}

// The scalar parameters of a kernel as f32 (kernels/reference/elementwise.cpp says which op reads
// which): comparing f32 x with f32(bound) picks the same side as comparing in double, since no f32
// lies strictly between a double and its nearest f32.
float param_a(const KernelArgs& a) { return float(a.p<ScalarParams>().a); }
float param_b(const KernelArgs& a) { return float(a.p<ScalarParams>().b); }

void minimum_kernel(const KernelArgs& a) {
  binary(a, [](float x, float y) { return x != x || x < y ? x : y; });  // NaN from either side
}
void maximum_kernel(const KernelArgs& a) {
  binary(a, [](float x, float y) { return x != x || x > y ? x : y; });
}
void pow_kernel(const KernelArgs& a) {
  binary(a, [](float x, float y) { return std::pow(x, y); });
}
// a: the exponent; x^2 as a product, the common case (the same f32 as a correctly rounded pow).
void pow_scalar_kernel(const KernelArgs& a) {
  const float e = param_a(a);
  if (e == 2.0f)
    unary(a, [](float x) { return x * x; });
  else
    unary(a, [e](float x) { return std::pow(x, e); });
}
// a, b: the bounds (infinite when absent); min(max(x, lo), hi), NaN passes.
void clamp_kernel(const KernelArgs& a) {
  const float lo = param_a(a), hi = param_b(a);
  unary(a, [lo, hi](float x) {
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
  });
}
void sign_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return float((0.0f < x) - (x < 0.0f)); });  // NaN gives 0
}
void floor_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return std::floor(x); });
}
void reciprocal_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return 1.0f / x; });
}
void expm1_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return std::expm1(x); });
}
void log1p_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return vlog1p(x); });
}
void sin_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return std::sin(x); });
}
void cos_kernel(const KernelArgs& a) {
  unary(a, [](float x) { return std::cos(x); });
}
// a: negative_slope
void leaky_relu_kernel(const KernelArgs& a) {
  const float slope = param_a(a);
  unary(a, [slope](float x) { return x > 0 ? x : x * slope; });
}
// a: beta, b: threshold; log(1 + exp(beta x)) / beta, and x where beta x > threshold (PyTorch).
void softplus_kernel(const KernelArgs& a) {
  const float beta = param_a(a), threshold = param_b(a);
  unary(a, [=](float x) { return x * beta > threshold ? x : vlog1p(vexp(x * beta)) / beta; });
}

// ---- selection and comparisons: bool operands, read and written as uint8_t 0 / 1 (GCC does not
// vectorize loads and stores of bool)
void where_kernel(const KernelArgs& a) {
  elementwise<float, uint8_t, float, float>(a,
                                            [](uint8_t c, float x, float y) { return c ? x : y; });
}
// a: the fill value
void masked_fill_kernel(const KernelArgs& a) {
  const float value = param_a(a);
  elementwise<float, float, uint8_t>(a, [value](float x, uint8_t m) { return m ? value : x; });
}
template <class Compare>
void compare_kernel(const KernelArgs& a) {
  elementwise<uint8_t, float, float>(a, [](float x, float y) { return uint8_t(Compare()(x, y)); });
}

// GELU: erf form x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2; tanh form 0.5 x (1 + tanh(u)),
// u = sqrt(2/pi) (x + 0.044715 x^3). ScalarParams::a != 0 selects the tanh form.
constexpr float kGeluC = 0.044715f;
constexpr float kSqrt2OverPi = float(0.79788456080286535588);  // sqrt(2 / pi)
constexpr float kInvSqrt2 = float(std::numbers::sqrt2 / 2);
constexpr float kInvSqrt2Pi = float(0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);

bool tanh_form(const KernelArgs& a) { return a.p<ScalarParams>().a != 0; }

void gelu_kernel(const KernelArgs& a) {
  if (tanh_form(a))
    unary(a, [](float x) {
      return 0.5f * x * (1.0f + vtanh(kSqrt2OverPi * (x + kGeluC * x * x * x)));
    });
  else
    unary(a, [](float x) { return 0.5f * x * (1.0f + verf(x * kInvSqrt2)); });
}

// d gelu / dx: erf form Phi(x) + x phi(x); tanh form 0.5 (1 + t) + 0.5 x (1 - t^2) u'(x)
void gelu_backward_kernel(const KernelArgs& a) {
  if (tanh_form(a))
    unary(a, [](float x) {
      const float t = vtanh(kSqrt2OverPi * (x + kGeluC * x * x * x));
      const float du = kSqrt2OverPi * (1.0f + 3.0f * kGeluC * x * x);
      return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
    });
  else
    unary(a, [](float x) {
      return 0.5f * (1.0f + verf(x * kInvSqrt2)) + x * vexp(-0.5f * x * x) * kInvSqrt2Pi;
    });
}

const LoopKernel kTable[] = {
    {"add", add_kernel},
    {"sub", sub_kernel},
    {"mul", mul_kernel},
    {"div", div_kernel},
    {"neg", neg_kernel},
    {"abs", abs_kernel},
    {"square", square_kernel},
    {"relu", relu_kernel},
    {"relu_backward", relu_backward_kernel},
    {"exp", exp_kernel},
    {"log", log_kernel},
    {"sqrt", sqrt_kernel},
    {"rsqrt", rsqrt_kernel},
    {"tanh", tanh_kernel},
    {"sigmoid", sigmoid_kernel},
    {"silu", silu_kernel},
    {"gelu", gelu_kernel},
    {"gelu_backward", gelu_backward_kernel},
    {"minimum", minimum_kernel},
    {"maximum", maximum_kernel},
    {"pow", pow_kernel},
    {"pow_scalar", pow_scalar_kernel},
    {"clamp", clamp_kernel},
    {"sign", sign_kernel},
    {"floor", floor_kernel},
    {"reciprocal", reciprocal_kernel},
    {"expm1", expm1_kernel},
    {"log1p", log1p_kernel},
    {"sin", sin_kernel},
    {"cos", cos_kernel},
    {"leaky_relu", leaky_relu_kernel},
    {"softplus", softplus_kernel},
    {"where", where_kernel},
    {"masked_fill", masked_fill_kernel},
    {"eq", &compare_kernel<std::equal_to<>>},
    {"ne", &compare_kernel<std::not_equal_to<>>},
    {"lt", &compare_kernel<std::less<>>},
    {"le", &compare_kernel<std::less_equal<>>},
    {"gt", &compare_kernel<std::greater<>>},
    {"ge", &compare_kernel<std::greater_equal<>>},
};
