// What `tutor bench` and `tutor bench ops` report: the session (machine, peak, protocol, load,
// PyTorch peer) that heads every table and JSON file, an aligned-column table, and the rows of
// `tutor bench ops` (the model workloads' rows are in bench_model_report.h).
#pragma once

#include <string>
#include <vector>

#include "tools/cli/bench_peak.h"
#include "tools/cli/bench_pytorch.h"
#include "tools/cli/bench_workloads.h"
#include "tools/cli/json.h"

namespace tutor::cli {

struct BenchSession {
  PeakResult peak;
  std::string cpu;      // /proc/cpuinfo's model name, or "unknown"
  std::string date;     // UTC, ISO 8601, when the session started
  std::string version;  // tutor's version and git describe (version_string())
  int repeat = 0, warmup = 0;
  std::string load_start, load_end;  // /proc/loadavg's first three fields
  std::string torch_version, pytorch_environment, pytorch_note;  // with --vs-pytorch
};

// Measures the peak on `threads` threads and records the machine, date, load and peer.
BenchSession start_session(int threads, int warmup, int repeat, const PytorchPeer& peer);
// The lines above a table: peak, CPU, protocol, load, tutor and PyTorch versions.
std::string format_session(const BenchSession& session);
// The session's fields as keys of `root`.
void add_session_json(JsonObject& root, const BenchSession& session);

// Rows under a header, each column as wide as its widest cell, two spaces apart; the first
// column left-aligned, the others right-aligned.
std::string format_columns(const std::vector<std::string>& header,
                           const std::vector<std::vector<std::string>>& rows);

// Each run's time as a JSON array of numbers.
JsonArray json_numbers(const std::vector<double>& values);

struct BenchRow {
  Workload workload;
  std::vector<double> tutor_ms;    // each timed run
  std::vector<double> pytorch_ms;  // empty without --vs-pytorch
};

struct BenchReport {
  BenchSession session;
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
