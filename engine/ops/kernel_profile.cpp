#include "engine/ops/kernel_profile.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <utility>

#include "engine/core/error.h"
#include "kernels/registry.h"

namespace tutor::ops {

namespace {

struct Totals {
  int64_t calls = 0, ns = 0;
};

std::atomic<bool> profiling{false};
std::mutex mutex;
std::map<std::pair<int, int>, Totals> totals;  // by (kernel id, backend)

}  // namespace

KernelProfile::KernelProfile() {
  TUTOR_CHECK(!profiling.exchange(true), "KernelProfile: another profile is already running");
  std::lock_guard lock(mutex);
  totals.clear();
}

KernelProfile::~KernelProfile() { profiling = false; }

std::vector<KernelTime> KernelProfile::times() const {
  std::vector<KernelTime> out;
  {
    std::lock_guard lock(mutex);
    for (const auto& [key, t] : totals)
      out.push_back({std::string(kernels::kernel_name(key.first)),
                     std::string(kernels::backend_name(kernels::Backend(key.second))), t.calls,
                     t.ns});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const KernelTime& a, const KernelTime& b) { return a.ns > b.ns; });
  return out;
}

namespace detail {

bool kernel_profiling() { return profiling.load(std::memory_order_relaxed); }

void record_kernel(int kernel_id, int backend, int64_t ns) {
  std::lock_guard lock(mutex);
  Totals& t = totals[{kernel_id, backend}];
  ++t.calls;
  t.ns += ns;
}

}  // namespace detail

}  // namespace tutor::ops
