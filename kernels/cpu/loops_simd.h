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
[[gnu::always_inline]] inline float vexp(float x) {
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

// log(x) in f32 without a libm call (Cephes logf): x = m 2^e with m in [sqrt(1/2), sqrt 2), then
// log(1 + f), f = m - 1, by its degree-9 polynomial (rel. error ~1e-7), plus e ln 2 in two parts.
// Subnormals are scaled by 2^23 first; 0 gives -inf, negatives NaN, inf and NaN pass through.
// Always inlined: a call would keep the loops that use it from vectorizing.
[[gnu::always_inline]] inline float vlog(float x) {
  constexpr float kSqrtHalf = 0.707106781186547524f;
  const bool tiny = x < 1.17549435e-38f;  // below the smallest normal (and <= 0, handled below)
  const float xs = tiny ? x * 8388608.0f : x;
  const int32_t bits = std::bit_cast<int32_t>(xs);
  float e = float(((bits >> 23) & 0xff) - 126) - (tiny ? 23.0f : 0.0f);
  const float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f000000);  // in [0.5, 1)
  const bool low = m < kSqrtHalf;
  e = low ? e - 1.0f : e;
  const float f = low ? m + m - 1.0f : m - 1.0f;
  const float z = f * f;
  float y = 7.0376836292e-2f;
  y = y * f - 1.1514610310e-1f;
  y = y * f + 1.1676998740e-1f;
  y = y * f - 1.2420140846e-1f;
  y = y * f + 1.4249322787e-1f;
  y = y * f - 1.6668057665e-1f;
  y = y * f + 2.0000714765e-1f;
  y = y * f - 2.4999993993e-1f;
  y = y * f + 3.3333331174e-1f;
  y = y * f * z + e * -2.12194440e-4f - 0.5f * z;
  float r = f + y + e * 0.693359375f;
  r = x == std::numeric_limits<float>::infinity() ? x : r;
  r = x == 0.0f ? -std::numeric_limits<float>::infinity() : r;
  return x < 0.0f || x != x ? std::numeric_limits<float>::quiet_NaN() : r;
}

// log(1 + x) = log(u) x / (u - 1), u = 1 + x rounded (Goldberg, "What every computer scientist
// should know about floating-point arithmetic", thm. 4): the rounding of u cancels, so small x
// keep their digits; x itself where u == 1, inf for inf.
[[gnu::always_inline]] inline float vlog1p(float x) {
  const float u = 1.0f + x;
  const float r = u == 1.0f ? x : vlog(u) * (x / (u - 1.0f));
  return x == std::numeric_limits<float>::infinity() ? x : r;
}

// 1 / (1 + exp(-x)) from exp(-|x|), which never overflows.
[[gnu::always_inline]] inline float vsigmoid(float x) {
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
[[gnu::always_inline]] inline float vtanh(float x) {
  const float ax = std::abs(x);
  const float e = vexp(-2.0f * ax);
  const float big = (1.0f - e) / (1.0f + e);
  const float x2 = x * x;
  const float small = x * (1.0f + x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * (-17.0f / 315))));
  return ax < 0.0625f ? small : std::copysign(big, x);
}

// erf(x) by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7):
// 1 - (a1 t + ... + a5 t^5) exp(-x^2), t = 1 / (1 + 0.3275911 |x|), odd in x.
[[gnu::always_inline]] inline float verf(float x) {
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

// ---- element-wise runs: f applied to the elements of K operands (the first Outs outputs, the
// rest inputs) over one run of StridedLoop (loops_common.h), called as f(out..., in...) with the
// outputs by reference and the inputs by value.

// Elements per block of a run with operands of stride other than 1: stride-0 inputs are broadcast
// once per run into a buffer of this many elements, other strided operands gathered into (inputs)
// or scattered from (outputs) one per block, so the loop over a block vectorizes whatever the
// strides.
inline constexpr int64_t kBlock = 256;

template <class T>
struct RunBuffer {
  RunBuffer() {}  // left uninitialized: every element read is written first
  alignas(64) T v[kBlock];
};

template <size_t Outs, class... T, class F, size_t... I>
void map_run(const std::array<char*, sizeof...(T)>& p, int64_t n,
             const std::array<int64_t, sizeof...(T)>& s, F f, std::index_sequence<I...>) {
  const std::tuple<T*...> ptr{reinterpret_cast<T*>(p[I])...};
  if (((s[I] == 1) && ...)) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) f(std::get<I>(ptr)[i]...);
    return;
  }
  std::tuple<RunBuffer<T>...> buf;
  auto broadcast = [&]<size_t J>() {
    if (J >= Outs && s[J] == 0)
      std::fill_n(std::get<J>(buf).v, std::min(kBlock, n), *std::get<J>(ptr));
  };
  (broadcast.template operator()<I>(), ...);
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = std::min(kBlock, n - b);
    auto gather = [&]<size_t J>() {
      if (J < Outs || s[J] == 0 || s[J] == 1) return;
      for (int64_t i = 0; i < m; ++i) std::get<J>(buf).v[i] = std::get<J>(ptr)[(b + i) * s[J]];
    };
    (gather.template operator()<I>(), ...);
    const std::tuple<T*...> q{s[I] == 1 ? std::get<I>(ptr) + b : std::get<I>(buf).v...};
#pragma omp simd
    for (int64_t i = 0; i < m; ++i) f(std::get<I>(q)[i]...);
    auto scatter = [&]<size_t J>() {
      if (J >= Outs || s[J] == 1) return;
      for (int64_t i = 0; i < m; ++i) std::get<J>(ptr)[(b + i) * s[J]] = std::get<J>(buf).v[i];
    };
    (scatter.template operator()<I>(), ...);
  }
}

// f over every element of a.out[0, Outs) and a.in[0, K - Outs), typed T... in that order; the
// inputs broadcast to the outputs' shape by the op, any strides, the threads splitting the
// elements.
template <size_t Outs, class... T, class F>
void map_outputs(const KernelArgs& a, F f) {
  constexpr size_t K = sizeof...(T);
  std::array<const Tensor*, K> t;
  for (size_t k = 0; k < K; ++k) t[k] = k < Outs ? &a.out[k] : &a.in[k - Outs];
  const StridedLoop<K> loop(t);
  loop.parallel_for([&](const std::array<char*, K>& p, int64_t n, const std::array<int64_t, K>& s) {
    map_run<Outs, T...>(p, n, s, f, std::make_index_sequence<K>());
  });
}

// out[0] = f(in...), one output of type Out from inputs of types In...
template <class Out, class... In, class F>
void elementwise(const KernelArgs& a, F f) {
  map_outputs<1, Out, In...>(a, [f](Out& y, In... x) { y = f(x...); });
}
