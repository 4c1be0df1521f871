// The results of `tutor bench`: per workload, tutor's and PyTorch's step times and peak RSS (or
// why a side has none), the derived figures, the aligned table and the JSON.
#pragma once

#include <string>
#include <vector>

#include "engine/io/json.h"
#include "engine/ops/kernel_profile.h"
#include "tools/cli/bench_models.h"
#include "tools/cli/bench_report.h"

namespace tutor::cli {

// One side of a row: what its child process reported.
struct SideResult {
  std::vector<double> ms;  // each timed step; empty when `error` says why
  double rss_mb = 0;       // the child's peak resident set (VmHWM), MiB
  std::string error;
  std::vector<ops::KernelTime> kernels;  // tutor's profile, summed over the timed steps
};

struct ModelRow {
  ModelWorkload workload;
  SideResult tutor;
  SideResult pytorch;
  bool with_pytorch = false;
};

struct ModelReport {
  BenchSession session;
  bool fuse = true;  // eval-only models had their BatchNorms folded (not with --no-fuse)
  std::vector<ModelRow> rows;
};

// Figures of one side: median ms per step, images/s = batch / median, GFLOP/s = step_flops /
// median and its share of the session's peak.
struct SideFigures {
  double ms = 0, images_per_s = 0, gflops = 0, percent_of_peak = 0;
};
SideFigures side_figures(const ModelWorkload& w, const SideResult& side, double peak_gflops);

// A kernel profile as JSON ([{"kernel", "backend", "calls", "ns"}, ...]) and back; reading names
// `who` and the workload on a malformed entry.
JsonArray kernel_times_json(const std::vector<ops::KernelTime>& kernels);
std::vector<ops::KernelTime> read_kernel_times(const JsonValue& array, const std::string& who,
                                               const std::string& name);

// Per workload with a profile: the `top` kernels by time per step, the rest of the kernels, and
// the time outside any kernel, each in ms per step (mean over the timed steps) and % of the step.
std::string format_kernel_profiles(const ModelReport& report, size_t top = 12);

std::string format_model_table(const ModelReport& report);
JsonObject model_report_json(const ModelReport& report);

}  // namespace tutor::cli
