// The PyTorch peer of `tutor bench ops --vs-pytorch`: runs tools/bench/pytorch_ops.py with
// Debian's /usr/bin/python3 in the configuration benchmarks.md calls PyTorch's strongest here
// (OpenMP OpenBLAS when installed, OPENBLAS_CORETYPE=SkylakeX, glibc malloc keeping freed memory,
// torch.set_num_threads(T)) and reads back each workload's run times.
#pragma once

#include <string>
#include <vector>

#include "tools/cli/bench_workloads.h"

namespace tutor::cli {

struct PytorchPeer {
  std::string script;       // path of pytorch_ops.py
  std::string environment;  // the variables set for it, "NAME=value ..."
  std::string note;         // what differs from the strongest configuration; empty when nothing
};

// The script shipped in the source tree (tools/bench/pytorch_ops.py).
std::string default_pytorch_script();

// Checks that /usr/bin/python3 runs, imports torch, and that `script` exists; a tutor::Error
// saying which is missing otherwise.
PytorchPeer find_pytorch_peer(const std::string& script);

// The run times in milliseconds of each workload, in order (tutor::Error if the script fails or
// prints something other than its JSON). Returns the torch version in *torch_version.
std::vector<std::vector<double>> run_pytorch(const PytorchPeer& peer,
                                             const std::vector<Workload>& workloads, int threads,
                                             int warmup, int repeat, std::string* torch_version);

}  // namespace tutor::cli
