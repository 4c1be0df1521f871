// Where a program's time goes, by kernel: while a KernelProfile is alive, every dispatch (one
// kernel call on one backend) is timed by the wall clock and summed per kernel and backend. What
// no kernel accounts for (allocation, autograd bookkeeping, Tensor copies, the caller's own work)
// is the difference between the caller's wall time and the sum. `tutor bench --profile` prints it
// per workload. Kernels never call dispatch, so the times do not nest. Off, it costs a relaxed
// atomic load per dispatch. On CUDA a kernel's time is its launch's (kernels run asynchronously).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tutor::ops {

struct KernelTime {
  std::string kernel;   // the registry's name, e.g. "conv2d_backward_weight"
  std::string backend;  // "cpu", "reference" or "cuda"
  int64_t calls = 0;
  int64_t ns = 0;  // summed wall time of the calls
};

// Profiles the dispatches of every thread from construction to destruction. One at a time.
class KernelProfile {
 public:
  KernelProfile();
  ~KernelProfile();
  KernelProfile(const KernelProfile&) = delete;
  KernelProfile& operator=(const KernelProfile&) = delete;

  // The kernels called so far, the most time first.
  std::vector<KernelTime> times() const;
};

namespace detail {
bool kernel_profiling();  // whether a KernelProfile is alive
void record_kernel(int kernel_id, int backend, int64_t ns);
}  // namespace detail

}  // namespace tutor::ops
