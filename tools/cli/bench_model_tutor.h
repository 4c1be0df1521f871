// One `tutor bench` workload run through tutor in this process (the bench runs each workload in
// a child process of its own, so the peak RSS is that workload's alone): models built with the
// reference initialization from a fixed seed, a random normal batch and random labels made once,
// then `warmup` untimed steps and `steps` timed ones (bench_models.h says what a step is).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/ops/kernel_profile.h"
#include "tools/cli/bench_models.h"

namespace tutor::cli {

struct ModelRunOptions {
  int warmup = 3, steps = 10;
  // A model that only runs in eval mode (a forward workload's, a KD step's teacher) has its
  // BatchNorms folded into its convs first (models::fuse_for_inference), as `tutor forward` does.
  bool fuse = true;
  bool profile = false;  // profile the timed steps by kernel
};

struct ModelTiming {
  std::vector<double> ms;                // each timed step
  std::vector<ops::KernelTime> kernels;  // summed over the timed steps, with `profile`
};

// A tutor::Error when a model is not in the registry.
ModelTiming time_model_workload(const ModelWorkload& w, const ModelRunOptions& options);

// This process's peak resident set size in kB (VmHWM of /proc/self/status); 0 if unreadable.
int64_t peak_rss_kb();

}  // namespace tutor::cli
