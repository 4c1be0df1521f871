// `tutor bench`: benchmarks.md's training, distillation and inference workloads, each in a child
// process of its own (this binary re-run with the hidden --worker flag), so every peak RSS is one
// workload's alone; with --vs-pytorch, each workload's PyTorch run (tools/bench/
// pytorch_workloads.py) follows tutor's right away, so both see the same machine load.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "engine/core/error.h"
#include "engine/io/atomic_file.h"
#include "kernels/cpu/threads.h"
#include "tools/cli/bench_model_report.h"
#include "tools/cli/bench_model_tutor.h"
#include "tools/cli/bench_pytorch.h"
#include "tools/cli/command.h"
#include "tools/cli/model_io.h"

namespace tutor::cli {

namespace {

// The executable that runs a workload: $TUTOR_BENCH_WORKER when set (the tests, whose own binary
// is not `tutor`), else this process's binary when it is `tutor`.
std::string worker_executable() {
  if (const char* env = std::getenv("TUTOR_BENCH_WORKER"); env && *env) return env;
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  TUTOR_CHECK(!ec && self.filename() == "tutor",
              "bench: workloads run in child processes of the tutor binary, and this process is "
              "'{}'; set TUTOR_BENCH_WORKER to the tutor binary",
              ec ? std::string("unknown") : self.string());
  return self.string();
}

// One workload in this process: its run times, peak RSS and kernel profile (or its error) as one
// JSON line.
void run_worker(const std::string& name, int threads, const ModelRunOptions& options, Io& io) {
  JsonObject out;
  out.add("name", name);
  try {
    kernels::cpu::set_num_threads(threads);
    ModelTiming timing = time_model_workload(find_model_workload(name), options);
    JsonArray ns;  // integers: tutor's JSON reader takes no fractions
    for (double v : timing.ms) ns.push(int64_t(v * 1e6));
    out.add("run_ns", ns).add("vmhwm_kb", peak_rss_kb());
    if (options.profile) out.add("kernels", kernel_times_json(timing.kernels));
  } catch (const Error& e) {
    out.add("error", e.what());
  }
  io.out << out.str() << "\n";
}

// A side's result from its child's stdout: {"name", "run_ns", "vmhwm_kb"} or {"name", "error"}.
SideResult read_side(const ChildOutput& child, const std::string& who, const std::string& name,
                     std::string* torch_version) {
  SideResult side;
  try {
    JsonValue root = parse_json(child.out, who);
    if (const JsonValue* v = root.find("torch"); v && v->kind == JsonValue::Kind::string)
      *torch_version = v->string;
    if (const JsonValue* e = root.find("error"); e && e->kind == JsonValue::Kind::string) {
      side.error = e->string;
      return side;
    }
    const JsonValue* n = root.find("name");
    const JsonValue* rss = root.find("vmhwm_kb");
    TUTOR_CHECK(n && n->kind == JsonValue::Kind::string && n->string == name && rss &&
                    rss->kind == JsonValue::Kind::integer && rss->integer > 0,
                "bench: {}: expected the result of '{}' with a positive vmhwm_kb", who, name);
    side.ms = read_run_ms(root, who, name);
    side.rss_mb = double(rss->integer) / 1024.0;
    if (const JsonValue* k = root.find("kernels")) side.kernels = read_kernel_times(*k, who, name);
  } catch (const Error& e) {
    side.ms.clear();
    side.error = child.status == 0 ? e.what()
                                   : fmt::format("{} exited with status {} (its stderr is above)",
                                                 who, child.status);
  }
  return side;
}

std::string describe(const SideResult& side) {
  return side.error.empty() ? fmt::format("{:.1f} ms", median(side.ms)) : "error";
}

void run_bench(const Args& args, Io& io) {
  const int steps = int(args.get_int_in("steps", 1, 100'000));
  const int warmup = int(args.get_int_in("warmup", 0, 1000));
  const int threads = int(args.get_int_in("threads", 1, 1024));
  const bool fuse = !args.get_bool("no-fuse"), profile = args.get_bool("profile");
  if (args.given("worker")) {
    run_worker(args.get_string("worker"), threads,
               {.warmup = warmup, .steps = steps, .fuse = fuse, .profile = profile}, io);
    return;
  }
  std::vector<ModelWorkload> workloads =
      select_model_workloads(args.get_string("suite"), args.get_string("only"));
  if (workloads.empty())
    throw UsageError(
        fmt::format("tutor bench: no workload of suite '{}' has a name containing '{}'",
                    args.get_string("suite"), args.get_string("only")));
  const std::string worker = worker_executable();
  const bool vs_pytorch = args.get_bool("vs-pytorch");
  PytorchPeer peer;
  if (vs_pytorch) peer = find_pytorch_peer(args.get_string("pytorch-script"));

  ModelReport report;
  report.fuse = fuse;
  report.session = start_session(threads, warmup, steps, peer);
  const std::vector<std::string> protocol{std::to_string(threads), std::to_string(warmup),
                                          std::to_string(steps)};
  for (const ModelWorkload& w : workloads) {
    io.err << fmt::format("bench: {}: tutor", w.name);
    io.err.flush();
    ModelRow row{w, {}, {}, vs_pytorch};
    std::vector<std::string> child_args{worker,      "bench",     "--worker", w.name,
                                        "--threads", protocol[0], "--warmup", protocol[1],
                                        "--steps",   protocol[2]};
    if (!fuse) child_args.push_back("--no-fuse");
    if (profile) child_args.push_back("--profile");
    ChildOutput child = run_child("", child_args);
    row.tutor = read_side(child, "the tutor worker", w.name, &report.session.torch_version);
    io.err << " " << describe(row.tutor);
    if (vs_pytorch) {
      io.err << ", PyTorch";
      io.err.flush();
      std::vector<std::string> script_args{model_workload_json(w)};
      script_args.insert(script_args.end(), protocol.begin(), protocol.end());
      row.pytorch = read_side(run_pytorch_script(peer, script_args), peer.script, w.name,
                              &report.session.torch_version);
      io.err << " " << describe(row.pytorch);
    }
    io.err << "\n";
    report.rows.push_back(std::move(row));
  }
  report.session.load_end = read_load_average();
  io.out << format_model_table(report) << format_kernel_profiles(report);
  if (args.given("json"))
    write_file_atomic(args.get_string("json"), model_report_json(report).str() + "\n");
}

}  // namespace

Command bench_command() {
  CommandSpec spec{
      {"bench"},
      "time training, distillation and inference steps of whole models (and PyTorch's)",
      "Runs the workloads of shared/spec/benchmarks.md, each in a child process of its own:\n"
      "teacher forward without gradients, student train step (CE, SGD momentum 0.9, weight\n"
      "decay 5e-4), KD step (0.1 CE + 0.9 T^2 KL, T = 4) and batch-1 inference, on random\n"
      "normal inputs and random labels. Per workload: the median ms per step of --steps steps\n"
      "after --warmup, images/s, GFLOP/s (convs, Linears and attention counted from the\n"
      "architecture; a train step counts 3 forwards) and % of the machine's peak (an FMA loop),\n"
      "and the child's peak RSS. --vs-pytorch runs each workload through Debian's PyTorch\n"
      "(/usr/bin/python3, tools/bench/pytorch_workloads.py, in benchmarks.md's strongest\n"
      "configuration) right after tutor, and prints the ratio PyTorch ms / tutor ms (> 1: tutor\n"
      "is faster). A workload whose model is missing on a side is reported as that side's error.\n"
      "A model that only runs in eval mode (a forward workload's, a KD step's teacher) has its\n"
      "BatchNorms folded into its convs, as `tutor forward` does, unless --no-fuse. --profile\n"
      "times every kernel call of tutor's timed steps and prints, per workload, the kernels\n"
      "that took the most time per step and the time outside any kernel (allocation, autograd,\n"
      "copies).",
      {
          {"suite", FlagType::string, "all", "small (1x28x28), large (224 px) or all", "SUITE"},
          {"only", FlagType::string, "", "only the workloads whose name contains SUBSTR", "SUBSTR"},
          {"vs-pytorch", FlagType::boolean, "", "also run each workload through PyTorch"},
          {"json", FlagType::string, "", "also write every figure as JSON to FILE (atomically)",
           "FILE"},
          {"steps", FlagType::integer, "10", "timed steps per workload (the median is quoted)"},
          {"warmup", FlagType::integer, "3", "untimed steps before them"},
          {"threads", FlagType::integer, "2", "threads for tutor, PyTorch and the peak loop"},
          no_fuse_flag(),
          {"profile", FlagType::boolean, "", "also print where tutor's step time goes, by kernel"},
          {"pytorch-script", FlagType::string, bench_script("pytorch_workloads.py"),
           "the PyTorch side's script", "FILE"},
          {"worker", FlagType::string, "", "run workload NAME in this process (internal)", "NAME",
           true},
      },
      {}};
  return {spec, run_bench};
}

}  // namespace tutor::cli
