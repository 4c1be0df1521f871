#include "tools/cli/bench_report.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include "tools/cli/command.h"

namespace tutor::cli {

static std::string read_cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("model name")) {
      size_t colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
    }
  return "unknown";
}

BenchSession start_session(int threads, int warmup, int repeat, const PytorchPeer& peer) {
  BenchSession s;
  s.load_start = read_load_average();
  s.cpu = read_cpu_model();
  s.date = fmt::format(
      "{:%Y-%m-%dT%H:%M:%SZ}",
      fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
  s.version = version_string();
  s.repeat = repeat;
  s.warmup = warmup;
  s.pytorch_environment = peer.environment;
  s.pytorch_note = peer.note;
  s.peak = measure_peak(threads);
  return s;
}

std::string format_session(const BenchSession& s) {
  std::string out = fmt::format(
      "peak {:.1f} GFLOP/s f32 ({} FMA loop, {} threads) on {}; median of {} runs after {} "
      "warm-up; load average {} at start, {} at end\n{}, {}\n",
      s.peak.gflops, s.peak.isa, s.peak.threads, s.cpu, s.repeat, s.warmup, s.load_start,
      s.load_end, s.version, s.date);
  if (!s.torch_version.empty())
    out += fmt::format("PyTorch {} with {}\n", s.torch_version, s.pytorch_environment);
  if (!s.pytorch_note.empty()) out += "note: " + s.pytorch_note + "\n";
  return out;
}

void add_session_json(JsonObject& root, const BenchSession& s) {
  root.add("cpu", s.cpu)
      .add("date", s.date)
      .add("tutor", s.version)
      .add("peak_gflops", s.peak.gflops)
      .add("peak_isa", s.peak.isa)
      .add("threads", s.peak.threads)
      .add("repeat", s.repeat)
      .add("warmup", s.warmup)
      .add("load_average_start", s.load_start)
      .add("load_average_end", s.load_end);
  if (!s.torch_version.empty())
    root.add("torch", s.torch_version).add("pytorch_environment", s.pytorch_environment);
  if (!s.pytorch_note.empty()) root.add("pytorch_note", s.pytorch_note);
}

std::string format_columns(const std::vector<std::string>& header,
                           const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], row[c].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size() && c < width.size(); ++c) {
      if (c > 0) out += "  ";
      out += c == 0 ? fmt::format("{:<{}}", cells[c], width[c])
                    : fmt::format("{:>{}}", cells[c], width[c]);
    }
    out.erase(out.find_last_not_of(' ') + 1);
    return out + "\n";
  };
  std::string out = line(header);
  for (const auto& row : rows) out += line(row);
  return out;
}

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
  std::vector<std::vector<std::string>> rows;
  for (const BenchRow& row : report.rows) {
    RowFigures f = row_figures(row, report.session.peak.gflops);
    rows.push_back({row.workload.name, fmt::format("{:.3f}", f.tutor_ms),
                    fmt::format("{:.1f} {}", f.rate, f.rate_unit),
                    f.percent_of_peak < 0 ? "-" : fmt::format("{:.1f}", f.percent_of_peak),
                    f.pytorch_ms < 0 ? "-" : fmt::format("{:.3f}", f.pytorch_ms),
                    f.ratio < 0 ? "-" : fmt::format("{:.2f}", f.ratio)});
  }
  std::string out =
      format_session(report.session) +
      format_columns({"workload", "tutor ms", "rate", "% peak", "PyTorch ms", "ratio"}, rows);
  if (!report.session.torch_version.empty())
    out += "ratio = PyTorch ms / tutor ms (> 1: tutor is faster)\n";
  return out;
}

JsonArray json_numbers(const std::vector<double>& values) {
  JsonArray a;
  for (double v : values) a.push(v);
  return a;
}

JsonObject report_json(const BenchReport& report) {
  JsonObject root;
  add_session_json(root, report.session);
  JsonArray rows;
  for (const BenchRow& row : report.rows) {
    RowFigures f = row_figures(row, report.session.peak.gflops);
    JsonArray dims;
    for (int64_t d : row.workload.dims) dims.push(d);
    JsonObject o;
    o.add("name", row.workload.name)
        .add("op", row.workload.op)
        .add("dims", dims)
        .add("backward", row.workload.backward)
        .add("tutor_ms", f.tutor_ms)
        .add("tutor_runs_ms", json_numbers(row.tutor_ms));
    if (is_compute_bound(row.workload))
      o.add("gflop", workload_flops(row.workload) / 1e9)
          .add("gflops", f.rate)
          .add("percent_of_peak", f.percent_of_peak);
    else
      o.add("gbytes", workload_bytes(row.workload) / 1e9).add("gbps", f.rate);
    if (f.pytorch_ms >= 0)
      o.add("pytorch_ms", f.pytorch_ms)
          .add("pytorch_runs_ms", json_numbers(row.pytorch_ms))
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
