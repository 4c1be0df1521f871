// The caching CPU allocator: size classes, reuse of released blocks, alignment, accounting.
#include <doctest/doctest.h>

#include <cstdint>

#include "engine/core/allocator.h"
#include "engine/ops/ops.h"

using namespace tutor;
namespace alloc = tutor::cpu_allocator;

TEST_CASE("allocator: size classes") {
  CHECK(alloc::size_class(100) == 100);
  CHECK(alloc::size_class(alloc::kCacheMin - 1) == alloc::kCacheMin - 1);
  CHECK(alloc::size_class(alloc::kCacheMin) == alloc::kCacheMin);
  CHECK(alloc::size_class(alloc::kCacheMin + 1) == 2 * alloc::kCacheMin);
  CHECK(alloc::size_class(3 << 20) == size_t(4) << 20);   // multiples of 2 MiB above 2 MiB
  CHECK(alloc::size_class((4 << 20) + 1) == size_t(6) << 20);
}

TEST_CASE("allocator: a released large block is handed out again, aligned") {
  const size_t n = (size_t(5) << 20) + 123;
  void* a = alloc::allocate(n);
  CHECK(reinterpret_cast<uintptr_t>(a) % (size_t(2) << 20) == 0);
  const alloc::Stats before = alloc::stats();
  CHECK(before.in_use >= alloc::size_class(n));
  alloc::deallocate(a, n);
  const alloc::Stats released = alloc::stats();
  CHECK(released.in_use == before.in_use - alloc::size_class(n));
  CHECK(released.cached >= alloc::size_class(n));
  void* b = alloc::allocate(n - 1000);  // the same class
  CHECK(b == a);
  CHECK(alloc::stats().hits == released.hits + 1);
  alloc::deallocate(b, n - 1000);
  alloc::empty_cache();
  CHECK(alloc::stats().cached == 0);
}

TEST_CASE("allocator: small blocks bypass the cache and stay 64-byte aligned") {
  const alloc::Stats before = alloc::stats();
  for (size_t n : {size_t(0), size_t(1), size_t(100), size_t(4096)}) {
    void* p = alloc::allocate(n);
    CHECK(reinterpret_cast<uintptr_t>(p) % 64 == 0);
    alloc::deallocate(p, n);
  }
  CHECK(alloc::stats().misses == before.misses);
  CHECK(alloc::stats().hits == before.hits);
}

TEST_CASE("allocator: tensors reuse the blocks of freed tensors") {
  alloc::empty_cache();
  const void* first;
  {
    Tensor t = zeros({1024, 1024});  // 4 MiB
    first = t.raw_data();
  }
  Tensor u = ones({1024, 1024});
  CHECK(u.raw_data() == first);
  CHECK(u.sum().item() == 1024.0 * 1024.0);
}
