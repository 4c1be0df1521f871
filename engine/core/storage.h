// Storage: one allocation that tensors view. CPU memory is 64-byte aligned (a cache line, and the
// width of an AVX-512 register). The version counter lives here, so every view of the storage
// sees an in-place change, which is what autograd needs to detect stale saved tensors.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/core/device.h"

namespace tutor {

class Storage {
 public:
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  std::atomic<uint64_t> version_{0};
};

inline constexpr size_t kCpuAlignment = 64;

}  // namespace tutor
