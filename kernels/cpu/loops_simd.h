// The vectorizable math of the CPU loop kernels, compiled once per ISA: loops_isa.h includes
// this file (and a loop file's body) into one namespace per ISA, so it has no include guard and
// no includes of its own (loops_common.h brings them).

// exp(x) in f32 without a libm call, so loops over it vectorize: x = n ln2 + r with |r| <= ln2/2,
// e^r by its degree-6 Taylor-Horner polynomial (Cephes expf coefficients, rel. error ~1.5e-7),
// times 2^n built in the exponent bits as 2^n1 * 2^n2 (n1 + n2 = n, both normal). x is clamped to
// [-104, 89], where the product already underflows to 0 or overflows to inf, so the ends need no
// branch; NaN passes through the clamps and the arithmetic. The loop files are compiled with
// -fno-trapping-math (CMakeLists.txt): otherwise GCC threads the clamps into branches around the
// float-to-int conversion and gives up vectorizing.
inline float vexp(float x) {
  constexpr float kHi = 89.0f, kLo = -104.0f;
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  float xc = x < kLo ? kLo : x;
  xc = xc > kHi ? kHi : xc;
  const float fn = (xc * kLog2e + kRound) - kRound;
  const float r = (xc - fn * kLn2Hi) - fn * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t n = int32_t(fn), n1 = n >> 1, n2 = n - n1;
  return p * std::bit_cast<float>((n1 + 127) << 23) * std::bit_cast<float>((n2 + 127) << 23);
}

// 1 / (1 + exp(-x)) from exp(-|x|), which never overflows.
inline float vsigmoid(float x) {
  const float e = vexp(-std::abs(x));
  const float r = 1.0f / (1.0f + e);
  return x >= 0 ? r : e * r;
}

// sum_{i < n} f(i): f32 partial sums over chunks of 1024 (vectorized lanes), added in double.
// The error stays near that of a double sum, and the loop vectorizes even when f mixes int and
// float math (a double reduction there does not).
template <class F>
double chunked_sum(int64_t n, F f) {
  constexpr int64_t kChunk = 1024;
  double total = 0;
  for (int64_t b = 0; b < n; b += kChunk) {
    const int64_t e = std::min(n, b + kChunk);
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = b; i < e; ++i) s += f(i);
    total += double(s);
  }
  return total;
}

// tanh(x) = sign(x) (1 - e) / (1 + e), e = exp(-2|x|); below |x| = 0.0625, where 1 - e loses
// digits, its odd Taylor series to x^7 (truncation error < 4e-13).
inline float vtanh(float x) {
  const float ax = std::abs(x);
  const float e = vexp(-2.0f * ax);
  const float big = (1.0f - e) / (1.0f + e);
  const float x2 = x * x;
  const float small = x * (1.0f + x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * (-17.0f / 315))));
  return ax < 0.0625f ? small : std::copysign(big, x);
}

// erf(x) by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7):
// 1 - (a1 t + ... + a5 t^5) exp(-x^2), t = 1 / (1 + 0.3275911 |x|), odd in x.
inline float verf(float x) {
  const float ax = std::abs(x);
  const float t = 1.0f / (1.0f + 0.3275911f * ax);
  const float poly =
      t * (0.254829592f +
           t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  return std::copysign(1.0f - poly * vexp(-ax * ax), x);
}

// ---- rows along one dim: a packed tensor seen as [outer, n, inner] has outer * inner rows of n
// elements at stride `inner` (see for_each_row in loops_common.h).

// Index of a row's element i: i itself for unit-stride rows (so loops over it vectorize), else
// i * stride.
template <bool Unit>
struct Row {
  int64_t stride;
  int64_t operator()(int64_t i) const { return Unit ? i : i * stride; }
};

// max_i x[r(i)]; NaN elements are skipped, as std::max in the reference (they still poison the
// sum of exponentials that follows).
template <bool Unit>
float row_max(const Row<Unit>& r, const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = x[r(i)] > m ? x[r(i)] : m;
  return m;
}

// sum_i exp(x[r(i)] - m).
template <bool Unit>
double row_sum_exp(const Row<Unit>& r, const float* x, int64_t n, float m) {
  return chunked_sum(n, [&](int64_t i) { return vexp(x[r(i)] - m); });
}
