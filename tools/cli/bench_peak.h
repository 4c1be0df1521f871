// The machine's f32 peak, measured: every thread runs a loop of fused multiply-adds on
// independent accumulators (enough of them to cover the FMA latency on every FMA port), so the
// loop is bound by FMA throughput alone. The denominator of every "% of peak" in `tutor bench ops`.
#pragma once

#include <string>

namespace tutor::cli {

struct PeakResult {
  double gflops = 0;  // all threads together
  int threads = 0;
  std::string isa;  // "avx512f" or "avx2+fma"
};

// Runs the loop on `threads` threads a few times and keeps the fastest run.
PeakResult measure_peak(int threads);

}  // namespace tutor::cli
