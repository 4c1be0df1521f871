// The PyTorch peer of `tutor bench` and `tutor bench ops` (--vs-pytorch): runs a script of
// tools/bench with Debian's /usr/bin/python3 in the configuration benchmarks.md calls PyTorch's
// strongest here (OpenMP OpenBLAS when installed, OPENBLAS_CORETYPE=SkylakeX, glibc malloc keeping
// freed memory, torch.set_num_threads(T)), and the child-process plumbing both benches share:
// running a command, capturing its stdout, reading the run times it reports.
#pragma once

#include <string>
#include <vector>

#include "engine/io/json.h"
#include "tools/cli/bench_workloads.h"

namespace tutor::cli {

struct PytorchPeer {
  std::string script;       // path of the script
  std::string environment;  // the variables set for it, "NAME=value ..."
  std::string note;         // what differs from the strongest configuration; empty when nothing
};

// A script shipped in the source tree: <source>/tools/bench/<file>.
std::string bench_script(const std::string& file);

// Checks that /usr/bin/python3 runs, imports torch, and that `script` exists; a tutor::Error
// saying which is missing otherwise.
PytorchPeer find_pytorch_peer(const std::string& script);

// What a child process wrote on stdout and its exit status (-1 when it did not exit normally:
// killed by a signal); its stderr passes through to ours.
struct ChildOutput {
  std::string out;
  int status = 0;
};
// Runs `argv` (each word quoted for sh) with `environment` ("NAME=value ...", may be empty) added.
ChildOutput run_child(const std::string& environment, const std::vector<std::string>& argv);
// Runs the peer's script through /usr/bin/python3 with `args` after it.
ChildOutput run_pytorch_script(const PytorchPeer& peer, const std::vector<std::string>& args);

// The integer nanoseconds of `result`'s "run_ns" array as milliseconds; a tutor::Error naming
// `source` and `name` when it is missing, empty or not integers.
std::vector<double> read_run_ms(const JsonValue& result, const std::string& source,
                                const std::string& name);

// `tutor bench ops`: the run times in milliseconds of each workload, in order (tutor::Error if
// the script fails or prints something other than its JSON). Returns the torch version in
// *torch_version.
std::vector<std::vector<double>> run_pytorch(const PytorchPeer& peer,
                                             const std::vector<Workload>& workloads, int threads,
                                             int warmup, int repeat, std::string* torch_version);

}  // namespace tutor::cli
