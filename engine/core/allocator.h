// The CPU allocator behind Storage: a cache of large blocks, because touching fresh memory costs
// about 10 us per 4 KiB page on the development machine (DESIGN.md, Performance) and a training
// step frees and re-allocates the same activation sizes every step.
//
// Blocks of at least kCacheMin bytes are rounded to a size class (powers of two up to 2 MiB,
// then multiples of 2 MiB), kept on a free list when released, and handed out again for the same
// class; blocks of 2 MiB and more are 2 MiB aligned and ask the kernel for transparent huge pages.
// Smaller blocks go straight to aligned_alloc. The cache holds at most cache_limit() bytes
// (TUTOR_ALLOCATOR_CACHE_MB, default 4096); empty_cache() returns everything to the system.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tutor::cpu_allocator {

inline constexpr size_t kCacheMin = size_t(256) << 10;

void* allocate(size_t nbytes);               // 64-byte aligned; throws std::bad_alloc
void deallocate(void* p, size_t nbytes);     // nbytes as passed to allocate

struct Stats {
  size_t in_use = 0;       // bytes handed out and not yet released (after rounding)
  size_t peak_in_use = 0;
  size_t cached = 0;       // bytes on the free lists
  uint64_t hits = 0;       // allocations served from the cache
  uint64_t misses = 0;     // allocations of cacheable size that went to the system
};
Stats stats();
void empty_cache();
size_t cache_limit();

// The size class an allocation of nbytes occupies (nbytes itself below kCacheMin).
size_t size_class(size_t nbytes);

}  // namespace tutor::cpu_allocator
