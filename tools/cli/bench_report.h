// The results of `tutor bench ops`: one row per workload, the aligned table and the JSON.
#pragma once

#include <string>
#include <vector>

#include "tools/cli/bench_peak.h"
#include "tools/cli/bench_workloads.h"
#include "tools/cli/json.h"

namespace tutor::cli {

struct BenchRow {
  Workload workload;
  std::vector<double> tutor_ms;    // each timed run
  std::vector<double> pytorch_ms;  // empty without --vs-pytorch
};

struct BenchReport {
  PeakResult peak;
  int repeat = 0, warmup = 0;
  std::string load_start, load_end;  // /proc/loadavg's first three fields
  std::string torch_version, pytorch_environment, pytorch_note;  // with --vs-pytorch
  std::vector<BenchRow> rows;
};

// Derived figures of one row. rate: GFLOP/s for conv, matmul and sdpa, else GB/s (rate_unit says
// which); percent_of_peak only for the FLOP-bound ops (negative otherwise); ratio = PyTorch ms /
// tutor ms (> 1: tutor is faster), negative without PyTorch.
struct RowFigures {
  double tutor_ms = 0, rate = 0, percent_of_peak = -1, pytorch_ms = -1, ratio = -1;
  const char* rate_unit = "GFLOP/s";
};
RowFigures row_figures(const BenchRow& row, double peak_gflops);

std::string format_table(const BenchReport& report);
JsonObject report_json(const BenchReport& report);

// /proc/loadavg's 1, 5 and 15 minute load averages ("0.52 0.58 0.59"), or "unknown".
std::string read_load_average();

}  // namespace tutor::cli
