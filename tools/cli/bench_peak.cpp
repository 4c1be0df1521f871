#include "tools/cli/bench_peak.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "engine/core/error.h"

namespace tutor::cli {

// 12 accumulators: 2 FMA ports x 4-cycle latency needs 8 in flight; 12 leaves slack. Each
// iteration does 12 FMAs of `width` lanes, 2 FLOPs per lane.
constexpr int kAccumulators = 12;
constexpr long kIterations = 20'000'000;

__attribute__((target("avx512f"))) static float fma_loop_avx512(long iterations, float seed) {
  __m512 acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_set1_ps(seed + float(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 sum = acc[0];
  for (int i = 1; i < kAccumulators; ++i) sum = _mm512_add_ps(sum, acc[i]);
  alignas(64) float lanes[16];  // not _mm512_reduce_add_ps: GCC 12 warns inside it
  _mm512_store_ps(lanes, sum);
  float total = 0;
  for (float v : lanes) total += v;
  return total;
}

__attribute__((target("avx2,fma"))) static float fma_loop_avx2(long iterations, float seed) {
  __m256 acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm256_set1_ps(seed + float(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 sum = acc[0];
  for (int i = 1; i < kAccumulators; ++i) sum = _mm256_add_ps(sum, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = 0;
  for (float v : lanes) total += v;
  return total;
}

PeakResult measure_peak(int threads) {
  TUTOR_CHECK(threads >= 1, "bench peak: threads must be >= 1, got {}", threads);
  const bool avx512 = __builtin_cpu_supports("avx512f");
  TUTOR_CHECK(avx512 || (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")),
              "bench peak: the CPU has neither AVX-512F nor AVX2+FMA");
  const int width = avx512 ? 16 : 8;
  double best = 0;
  std::vector<float> results(size_t(threads), 0.0f);  // keeps the loops' results alive
  for (int run = 0; run < 5; ++run) {
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&results, t, avx512] {
        results[size_t(t)] =
            avx512 ? fma_loop_avx512(kIterations, float(t)) : fma_loop_avx2(kIterations, float(t));
      });
    for (std::thread& th : pool) th.join();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double flops = double(threads) * double(kIterations) * kAccumulators * width * 2.0;
    best = std::max(best, flops / seconds / 1e9);
  }
  volatile float sink = 0;
  for (float r : results) sink = sink + r;
  return {best, threads, avx512 ? "avx512f" : "avx2+fma"};
}

}  // namespace tutor::cli
