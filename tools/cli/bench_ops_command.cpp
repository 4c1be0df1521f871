// `tutor bench ops`: times each op workload through tutor and, with --vs-pytorch, through
// Debian's PyTorch in the same run, group by group in turn, so both see the same machine load.
#include <fmt/format.h>

#include "engine/io/atomic_file.h"
#include "kernels/cpu/threads.h"
#include "tools/cli/bench_pytorch.h"
#include "tools/cli/bench_report.h"
#include "tools/cli/bench_tutor.h"
#include "tools/cli/command.h"

namespace tutor::cli {

// The runs of consecutive workloads that share a group: [begin, end) index pairs.
static std::vector<std::pair<size_t, size_t>> group_spans(const std::vector<Workload>& list) {
  std::vector<std::pair<size_t, size_t>> spans;
  for (size_t i = 0; i < list.size(); ++i)
    if (spans.empty() || list[i].group != list[spans.back().first].group)
      spans.emplace_back(i, i + 1);
    else
      spans.back().second = i + 1;
  return spans;
}

static void run_bench_ops(const Args& args, Io& io) {
  const int repeat = int(args.get_int_in("repeat", 1, 1'000'000));
  const int warmup = int(args.get_int_in("warmup", 0, 1000));
  const int threads = int(args.get_int_in("threads", 1, 1024));
  std::vector<Workload> workloads = filter_workloads(all_workloads(), args.get_string("only"));
  if (args.get_bool("channels-last")) workloads = with_channels_last(std::move(workloads));
  if (workloads.empty())
    throw UsageError(
        fmt::format("tutor bench ops: no workload name contains '{}'", args.get_string("only")));
  const bool vs_pytorch = args.get_bool("vs-pytorch");
  PytorchPeer peer;
  if (vs_pytorch) peer = find_pytorch_peer(args.get_string("pytorch-script"));

  kernels::cpu::set_num_threads(threads);
  BenchReport report;
  report.session = start_session(threads, warmup, repeat, peer);
  for (auto [begin, end] : group_spans(workloads)) {
    std::vector<Workload> group(workloads.begin() + long(begin), workloads.begin() + long(end));
    io.err << fmt::format("bench ops: {} ({} workloads): tutor", group[0].group, group.size());
    io.err.flush();
    for (const Workload& w : group)
      report.rows.push_back({w, time_tutor_workload(w, warmup, repeat), {}});
    if (vs_pytorch) {
      io.err << ", PyTorch";
      io.err.flush();
      std::vector<std::vector<double>> ms =
          run_pytorch(peer, group, threads, warmup, repeat, &report.session.torch_version);
      for (size_t i = 0; i < group.size(); ++i) report.rows[begin + i].pytorch_ms = ms[i];
    }
    io.err << "\n";
  }
  report.session.load_end = read_load_average();
  io.out << format_table(report);
  if (args.given("json"))
    write_file_atomic(args.get_string("json"), report_json(report).str() + "\n");
}

Command bench_ops_command() {
  CommandSpec spec{
      {"bench", "ops"},
      "time conv, matmul, attention and norm ops against the machine's peak (and PyTorch)",
      "Measures the machine's f32 peak with an FMA loop on every thread, then times each workload\n"
      "(CIFAR-ResNet and ResNet-18 convs, square and ViT/Mixer matmuls, attention, layer_norm,\n"
      "batch_norm, softmax, cross_entropy; forward, and forward+backward through autograd):\n"
      "median wall time of --repeat runs after --warmup, GFLOP/s (or GB/s for memory-bound ops)\n"
      "and % of the peak. --vs-pytorch also runs each group of workloads through Debian's\n"
      "PyTorch (/usr/bin/python3, tools/bench/pytorch_ops.py) in the same run, alternating with\n"
      "tutor group by group, and prints the ratio PyTorch ms / tutor ms (> 1: tutor is faster).\n"
      "Conv and batch_norm inputs are contiguous NCHW; --channels-last gives them (and the output\n"
      "gradients) in channels-last memory on both sides, as tutor's CNN models run, and adds\n"
      "_nhwc to those workloads' names.",
      {
          {"only", FlagType::string, "", "only the workloads whose name contains SUBSTR", "SUBSTR"},
          {"vs-pytorch", FlagType::boolean, "", "also time each workload through PyTorch"},
          {"channels-last", FlagType::boolean, "",
           "conv and batch_norm inputs in channels-last (NHWC) memory"},
          {"json", FlagType::string, "", "also write every figure as JSON to FILE (atomically)",
           "FILE"},
          {"repeat", FlagType::integer, "10", "timed runs per workload (the median is quoted)"},
          {"warmup", FlagType::integer, "2", "untimed runs before them"},
          {"threads", FlagType::integer, "2", "threads for tutor, PyTorch and the peak loop"},
          {"pytorch-script", FlagType::string, bench_script("pytorch_ops.py"),
           "the PyTorch side's script", "FILE"},
      },
      {}};
  return {spec, run_bench_ops};
}

}  // namespace tutor::cli
