#include "engine/core/allocator.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

namespace tutor::cpu_allocator {

namespace {

constexpr size_t kHuge = size_t(2) << 20;
constexpr size_t kAlign = 64;

struct Cache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free_lists;  // size class -> blocks
  Stats stats;
};

Cache& cache() {
  static Cache* c = new Cache;  // never destroyed: Storages may be freed during static teardown
  return *c;
}

void* system_allocate(size_t bytes) {
  const size_t align = bytes >= kHuge ? kHuge : kAlign;
  void* p = std::aligned_alloc(align, (bytes + align - 1) / align * align);
  if (!p) throw std::bad_alloc();
  if (bytes >= kHuge) madvise(p, bytes, MADV_HUGEPAGE);  // a hint; failure is harmless
  return p;
}

}  // namespace

size_t cache_limit() {
  static const size_t limit = [] {
    const char* env = std::getenv("TUTOR_ALLOCATOR_CACHE_MB");
    size_t mb = 4096;
    if (env && *env) mb = size_t(std::strtoull(env, nullptr, 10));
    return mb << 20;
  }();
  return limit;
}

size_t size_class(size_t nbytes) {
  if (nbytes < kCacheMin) return nbytes;
  if (nbytes <= kHuge) return std::bit_ceil(nbytes);
  return (nbytes + kHuge - 1) / kHuge * kHuge;
}

void* allocate(size_t nbytes) {
  if (nbytes < kCacheMin) {
    void* p = std::aligned_alloc(kAlign, std::max((nbytes + kAlign - 1) / kAlign * kAlign, kAlign));
    if (!p) throw std::bad_alloc();
    return p;
  }
  const size_t cls = size_class(nbytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    c.stats.in_use += cls;
    c.stats.peak_in_use = std::max(c.stats.peak_in_use, c.stats.in_use);
    auto it = c.free_lists.find(cls);
    if (it != c.free_lists.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.stats.cached -= cls;
      ++c.stats.hits;
      return p;
    }
    ++c.stats.misses;
  }
  try {
    return system_allocate(cls);
  } catch (...) {
    // Out of memory with blocks cached: give them back and try once more.
    empty_cache();
    try {
      return system_allocate(cls);
    } catch (...) {
      std::lock_guard<std::mutex> lock(c.mutex);
      c.stats.in_use -= cls;
      throw;
    }
  }
}

void deallocate(void* p, size_t nbytes) {
  if (!p) return;
  if (nbytes < kCacheMin) {
    std::free(p);
    return;
  }
  const size_t cls = size_class(nbytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    c.stats.in_use -= cls;
    if (c.stats.cached + cls <= cache_limit()) {
      c.free_lists[cls].push_back(p);
      c.stats.cached += cls;
      return;
    }
  }
  std::free(p);
}

Stats stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return c.stats;
}

void empty_cache() {
  std::vector<void*> blocks;
  {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    for (auto& [cls, list] : c.free_lists) blocks.insert(blocks.end(), list.begin(), list.end());
    c.free_lists.clear();
    c.stats.cached = 0;
  }
  for (void* p : blocks) std::free(p);
}

}  // namespace tutor::cpu_allocator
