// Times one workload through tutor's ops: the inputs are made once, then each run is the forward
// pass (under no-grad) or the forward pass plus backward through autograd (leaf gradients reset
// first, as PyTorch's `x.grad = None`).
#pragma once

#include <functional>
#include <vector>

#include "engine/ops/kernel_profile.h"
#include "tools/cli/bench_workloads.h"

namespace tutor::cli {

// Milliseconds of each of `repeat` runs of `step` after `warmup` untimed runs (steady_clock).
// With `kernels`, the timed runs are also profiled by kernel (ops::KernelProfile) into it.
std::vector<double> time_runs(const std::function<void()>& step, int warmup, int repeat,
                              std::vector<ops::KernelTime>* kernels = nullptr);

std::vector<double> time_tutor_workload(const Workload& w, int warmup, int repeat);

}  // namespace tutor::cli
