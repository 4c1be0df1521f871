#include "tools/cli/bench_model_report.h"

#include <fmt/format.h>

#include "engine/core/error.h"

namespace tutor::cli {

SideFigures side_figures(const ModelWorkload& w, const SideResult& side, double peak_gflops) {
  SideFigures f;
  f.ms = median(side.ms);
  f.images_per_s = double(w.input.batch) / (f.ms / 1e3);
  f.gflops = step_flops(w) / (f.ms / 1e3) / 1e9;
  f.percent_of_peak = 100.0 * f.gflops / peak_gflops;
  return f;
}

static bool has_figures(const SideResult& side) { return side.error.empty() && !side.ms.empty(); }

std::string format_model_table(const ModelReport& report) {
  const double peak = report.session.peak.gflops;
  bool with_pytorch = false;
  for (const ModelRow& row : report.rows) with_pytorch = with_pytorch || row.with_pytorch;
  std::vector<std::string> header{"workload", "batch",  "tutor ms", "img/s",
                                  "GFLOP/s",  "% peak", "RSS MB"};
  if (with_pytorch)
    header.insert(header.end(), {"PyTorch ms", "PyTorch img/s", "PyTorch RSS MB", "ratio"});
  std::vector<std::vector<std::string>> rows;
  std::string errors;
  for (const ModelRow& row : report.rows) {
    const ModelWorkload& w = row.workload;
    std::vector<std::string> cells{w.name, std::to_string(w.input.batch)};
    if (has_figures(row.tutor)) {
      SideFigures f = side_figures(w, row.tutor, peak);
      cells.insert(cells.end(),
                   {fmt::format("{:.1f}", f.ms), fmt::format("{:.1f}", f.images_per_s),
                    fmt::format("{:.1f}", f.gflops), fmt::format("{:.1f}", f.percent_of_peak),
                    fmt::format("{:.0f}", row.tutor.rss_mb)});
    } else {
      cells.insert(cells.end(), {"error", "-", "-", "-", "-"});
      errors += fmt::format("{}: tutor: {}\n", w.name, row.tutor.error);
    }
    if (row.with_pytorch) {
      if (has_figures(row.pytorch)) {
        SideFigures f = side_figures(w, row.pytorch, peak);
        cells.insert(cells.end(),
                     {fmt::format("{:.1f}", f.ms), fmt::format("{:.1f}", f.images_per_s),
                      fmt::format("{:.0f}", row.pytorch.rss_mb)});
      } else {
        cells.insert(cells.end(), {"error", "-", "-"});
        errors += fmt::format("{}: PyTorch: {}\n", w.name, row.pytorch.error);
      }
      cells.push_back(has_figures(row.tutor) && has_figures(row.pytorch)
                          ? fmt::format("{:.2f}", median(row.pytorch.ms) / median(row.tutor.ms))
                          : "-");
    } else if (with_pytorch) {
      cells.insert(cells.end(), {"-", "-", "-", "-"});
    }
    rows.push_back(std::move(cells));
  }
  std::string out = format_session(report.session) + format_columns(header, rows);
  out += report.fuse ? "tutor: the BatchNorms of eval-only models (forward workloads, KD teachers) "
                       "folded into their convs (--no-fuse: kept apart)\n"
                     : "tutor: --no-fuse, every BatchNorm kept apart\n";
  if (with_pytorch)
    out +=
        "ratio = PyTorch ms / tutor ms (> 1: tutor is faster); RSS: each process's peak "
        "resident set (VmHWM)\n";
  return out + errors;
}

static JsonObject side_json(const ModelWorkload& w, const SideResult& side, double peak) {
  JsonObject o;
  if (!has_figures(side)) return o.add("error", side.error);
  if (!side.kernels.empty()) o.add("kernels", kernel_times_json(side.kernels));
  SideFigures f = side_figures(w, side, peak);
  return o.add("ms", f.ms)
      .add("runs_ms", json_numbers(side.ms))
      .add("images_per_s", f.images_per_s)
      .add("gflops", f.gflops)
      .add("percent_of_peak", f.percent_of_peak)
      .add("peak_rss_mb", side.rss_mb);
}

JsonObject model_report_json(const ModelReport& report) {
  const double peak = report.session.peak.gflops;
  JsonObject root;
  add_session_json(root, report.session);
  root.add("tutor_fuse", report.fuse);
  JsonArray rows;
  for (const ModelRow& row : report.rows) {
    const ModelWorkload& w = row.workload;
    JsonObject o;
    o.add("name", w.name)
        .add("suite", w.suite)
        .add("step", step_kind_name(w.kind))
        .add("model", w.model);
    if (!w.teacher.empty()) o.add("teacher", w.teacher);
    o.add("batch", w.input.batch)
        .add("input", fmt::format("{}x{}x{}", w.input.channels, w.input.size, w.input.size))
        .add("classes", w.input.classes)
        .add("gflop_per_step", step_flops(w) / 1e9)
        .add("tutor", side_json(w, row.tutor, peak));
    if (row.with_pytorch) {
      o.add("pytorch", side_json(w, row.pytorch, peak));
      if (has_figures(row.tutor) && has_figures(row.pytorch))
        o.add("ratio", median(row.pytorch.ms) / median(row.tutor.ms))
            .add("rss_ratio", row.pytorch.rss_mb / row.tutor.rss_mb);
    }
    rows.push(o);
  }
  root.add("workloads", rows);
  return root;
}

JsonArray kernel_times_json(const std::vector<ops::KernelTime>& kernels) {
  JsonArray a;
  for (const ops::KernelTime& k : kernels)
    a.push(JsonObject()
               .add("kernel", k.kernel)
               .add("backend", k.backend)
               .add("calls", k.calls)
               .add("ns", k.ns));
  return a;
}

std::vector<ops::KernelTime> read_kernel_times(const JsonValue& array, const std::string& who,
                                               const std::string& name) {
  auto bad = [&](const std::string& what) {
    return Error(fmt::format("bench: {}: {}: 'kernels': {}", who, name, what));
  };
  if (array.kind != JsonValue::Kind::array) throw bad("expected an array");
  std::vector<ops::KernelTime> out;
  for (const JsonValue& e : array.array) {
    const JsonValue *kernel = e.find("kernel"), *backend = e.find("backend"),
                    *calls = e.find("calls"), *ns = e.find("ns");
    if (!kernel || kernel->kind != JsonValue::Kind::string || !backend ||
        backend->kind != JsonValue::Kind::string || !calls ||
        calls->kind != JsonValue::Kind::integer || calls->integer < 1 || !ns ||
        ns->kind != JsonValue::Kind::integer || ns->integer < 0)
      throw bad(
          fmt::format("entry {} is not {{kernel, backend, calls >= 1, ns >= 0}}", out.size()));
    out.push_back({kernel->string, backend->string, calls->integer, ns->integer});
  }
  return out;
}

std::string format_kernel_profiles(const ModelReport& report, size_t top) {
  std::string out;
  for (const ModelRow& row : report.rows) {
    const SideResult& side = row.tutor;
    if (!has_figures(side) || side.kernels.empty()) continue;
    const double steps = double(side.ms.size());
    double step_ms = 0, kernel_ms = 0;
    for (double ms : side.ms) step_ms += ms / steps;
    std::vector<std::vector<std::string>> rows;
    auto add = [&](const std::string& what, const std::string& backend, const std::string& calls,
                   double ms) {
      rows.push_back({what, backend, calls, fmt::format("{:.2f}", ms),
                      fmt::format("{:.1f}", 100.0 * ms / step_ms)});
    };
    double rest_ms = 0;
    int64_t rest_calls = 0;
    for (size_t i = 0; i < side.kernels.size(); ++i) {
      const ops::KernelTime& k = side.kernels[i];
      const double ms = double(k.ns) / 1e6 / steps;
      kernel_ms += ms;
      if (i < top) {
        add(k.kernel, k.backend, fmt::format("{:.0f}", double(k.calls) / steps), ms);
      } else {
        rest_ms += ms;
        rest_calls += k.calls;
      }
    }
    if (side.kernels.size() > top)
      add(fmt::format("({} other kernels)", side.kernels.size() - top), "",
          fmt::format("{:.0f}", double(rest_calls) / steps), rest_ms);
    add("(outside kernels)", "", "", step_ms - kernel_ms);
    out += fmt::format("\nprofile of {}: {:.2f} ms per step (mean of {}), {:.1f}% in kernels\n",
                       row.workload.name, step_ms, side.ms.size(), 100.0 * kernel_ms / step_ms);
    out += format_columns({"kernel", "backend", "calls/step", "ms/step", "% step"}, rows);
  }
  return out;
}

}  // namespace tutor::cli
