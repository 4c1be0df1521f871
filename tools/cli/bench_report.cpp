#include "tools/cli/bench_report.h"

#include <fmt/format.h>

#include <fstream>

namespace tutor::cli {

RowFigures row_figures(const BenchRow& row, double peak_gflops) {
  RowFigures f;
  f.tutor_ms = median(row.tutor_ms);
  double seconds = f.tutor_ms / 1e3;
  if (is_compute_bound(row.workload)) {
    f.rate = workload_flops(row.workload) / seconds / 1e9;
    f.percent_of_peak = 100.0 * f.rate / peak_gflops;
  } else {
    f.rate = workload_bytes(row.workload) / seconds / 1e9;
    f.rate_unit = "GB/s";
  }
  if (!row.pytorch_ms.empty()) {
    f.pytorch_ms = median(row.pytorch_ms);
    f.ratio = f.pytorch_ms / f.tutor_ms;
  }
  return f;
}

std::string format_table(const BenchReport& report) {
  size_t width = 8;
  for (const BenchRow& row : report.rows) width = std::max(width, row.workload.name.size());
  std::string out = fmt::format(
      "peak {:.1f} GFLOP/s f32 ({} FMA loop, {} threads); median of {} runs after {} warm-up; "
      "load average {} at start, {} at end\n",
      report.peak.gflops, report.peak.isa, report.peak.threads, report.repeat, report.warmup,
      report.load_start, report.load_end);
  if (!report.torch_version.empty())
    out += fmt::format("PyTorch {} with {}\n", report.torch_version, report.pytorch_environment);
  if (!report.pytorch_note.empty()) out += "note: " + report.pytorch_note + "\n";
  out += fmt::format("{:<{}}  {:>10}  {:>14}  {:>7}  {:>10}  {:>6}\n", "workload", width,
                     "tutor ms", "rate", "% peak", "PyTorch ms", "ratio");
  for (const BenchRow& row : report.rows) {
    RowFigures f = row_figures(row, report.peak.gflops);
    out += fmt::format("{:<{}}  {:>10.3f}  {:>14}  {:>7}  {:>10}  {:>6}\n", row.workload.name,
                       width, f.tutor_ms, fmt::format("{:.1f} {}", f.rate, f.rate_unit),
                       f.percent_of_peak < 0 ? "-" : fmt::format("{:.1f}", f.percent_of_peak),
                       f.pytorch_ms < 0 ? "-" : fmt::format("{:.3f}", f.pytorch_ms),
                       f.ratio < 0 ? "-" : fmt::format("{:.2f}", f.ratio));
  }
  if (!report.torch_version.empty())
    out += "ratio = PyTorch ms / tutor ms (> 1: tutor is faster)\n";
  return out;
}

static JsonArray numbers(const std::vector<double>& values) {
  JsonArray a;
  for (double v : values) a.push(v);
  return a;
}

JsonObject report_json(const BenchReport& report) {
  JsonObject root;
  root.add("peak_gflops", report.peak.gflops)
      .add("peak_isa", report.peak.isa)
      .add("threads", report.peak.threads)
      .add("repeat", report.repeat)
      .add("warmup", report.warmup)
      .add("load_average_start", report.load_start)
      .add("load_average_end", report.load_end);
  if (!report.torch_version.empty())
    root.add("torch", report.torch_version).add("pytorch_environment", report.pytorch_environment);
  if (!report.pytorch_note.empty()) root.add("pytorch_note", report.pytorch_note);
  JsonArray rows;
  for (const BenchRow& row : report.rows) {
    RowFigures f = row_figures(row, report.peak.gflops);
    JsonArray dims;
    for (int64_t d : row.workload.dims) dims.push(d);
    JsonObject o;
    o.add("name", row.workload.name)
        .add("op", row.workload.op)
        .add("dims", dims)
        .add("backward", row.workload.backward)
        .add("tutor_ms", f.tutor_ms)
        .add("tutor_runs_ms", numbers(row.tutor_ms));
    if (is_compute_bound(row.workload))
      o.add("gflop", workload_flops(row.workload) / 1e9)
          .add("gflops", f.rate)
          .add("percent_of_peak", f.percent_of_peak);
    else
      o.add("gbytes", workload_bytes(row.workload) / 1e9).add("gbps", f.rate);
    if (f.pytorch_ms >= 0)
      o.add("pytorch_ms", f.pytorch_ms)
          .add("pytorch_runs_ms", numbers(row.pytorch_ms))
          .add("ratio", f.ratio);
    rows.push(o);
  }
  root.add("workloads", rows);
  return root;
}

std::string read_load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  if (!(in >> a >> b >> c)) return "unknown";
  return a + " " + b + " " + c;
}

}  // namespace tutor::cli
