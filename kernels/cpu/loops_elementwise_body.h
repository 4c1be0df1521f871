// The body of loops_elementwise.cpp, compiled once per ISA (loops_isa.h): no include guard, no
// includes.

// y = f(a, b) over one run of n elements with strides s = {y, a, b}.
template <class F>
inline void binary_run(const std::array<float*, 3>& p, int64_t n, const std::array<int64_t, 3>& s,
                       F f) {
  float* y = p[0];
  const float* a = p[1];
  const float* b = p[2];
  if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], b[i]);
  } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {
    const float bv = *b;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], bv);
  } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {
    const float av = *a;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = f(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i * s[0]] = f(a[i * s[1]], b[i * s[2]]);
  }
}

template <class F>
void binary(const KernelArgs& a, F f) {
  StridedLoop<3> loop({&a.out[0], &a.in[0], &a.in[1]});
  loop.parallel_for([&](const std::array<float*, 3>& p, int64_t n,
                        const std::array<int64_t, 3>& s) { binary_run(p, n, s, f); });
}

template <class F>
void unary(const KernelArgs& a, F f) {
  StridedLoop<2> loop({&a.out[0], &a.in[0]});
  loop.parallel_for(
      [&](const std::array<float*, 2>& p, int64_t n, const std::array<int64_t, 2>& s) {
        float* y = p[0];
        const float* x = p[1];
        if (s[0] == 1 && s[1] == 1) {
#pragma omp simd
          for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
        } else {
          for (int64_t i = 0; i < n; ++i) y[i * s[0]] = f(x[i * s[1]]);
        }
      });
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
  unary(a, [](float x) { return std::log(x); });
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
};
