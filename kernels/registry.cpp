#include "kernels/registry.h"

#include <array>
#include <mutex>
#include <unordered_map>

namespace tutor::kernels {

namespace {

// Slots live in a fixed array, so find_kernel (on every op call) reads without a lock: a slot
// never moves, and its functions are written by registration, which dispatch orders before any
// lookup through ensure_registered().
constexpr size_t kMaxKernels = 4096;

struct Registry {
  std::mutex mutex;  // guards ids, names and registration
  std::unordered_map<std::string, KernelId> ids;
  std::vector<std::string> names;
  std::array<std::array<std::array<KernelFn, kNumDTypes>, kNumBackends>, kMaxKernels> table{};
  std::array<std::array<std::array<bool, kNumDTypes>, kNumBackends>, kMaxKernels> channels_last{};
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

std::string_view backend_name(Backend b) {
  switch (b) {
    case Backend::reference: return "reference";
    case Backend::cpu: return "cpu";
    case Backend::cuda: return "cuda";
  }
  return "?";
}

KernelId kernel_id(std::string_view name) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.ids.find(std::string(name));
  if (it != r.ids.end()) return it->second;
  TUTOR_CHECK(r.names.size() < kMaxKernels, "kernel registry: more than {} kernels ('{}')",
              kMaxKernels, name);
  KernelId id = KernelId(r.names.size());
  r.ids.emplace(std::string(name), id);
  r.names.emplace_back(name);
  return id;
}

std::string_view kernel_name(KernelId id) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  return r.names.at(size_t(id));
}

std::vector<std::string> kernel_names() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  return r.names;
}

void register_kernel(std::string_view name, Backend backend, DType dtype, KernelFn fn) {
  KernelId id = kernel_id(name);
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.table[size_t(id)][size_t(backend)][size_t(dtype)] = fn;
}

KernelFn find_kernel(KernelId id, Backend backend, DType dtype) {
  TUTOR_CHECK(id >= 0 && size_t(id) < kMaxKernels, "find_kernel: invalid kernel id {}", id);
  return registry().table[size_t(id)][size_t(backend)][size_t(dtype)];
}

void set_channels_last(std::string_view name, Backend backend, DType dtype) {
  KernelId id = kernel_id(name);
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.channels_last[size_t(id)][size_t(backend)][size_t(dtype)] = true;
}

bool channels_last(KernelId id, Backend backend, DType dtype) {
  TUTOR_CHECK(id >= 0 && size_t(id) < kMaxKernels, "channels_last: invalid kernel id {}", id);
  return registry().channels_last[size_t(id)][size_t(backend)][size_t(dtype)];
}

}  // namespace tutor::kernels
