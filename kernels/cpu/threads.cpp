#include "kernels/cpu/threads.h"

#include <omp.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "engine/core/error.h"

namespace tutor::kernels::cpu {

namespace {

std::atomic<int> configured{0};  // 0: not yet decided

// TUTOR_NUM_THREADS if set (a positive integer), else the OpenMP default.
int initial_threads() {
  const char* env = std::getenv("TUTOR_NUM_THREADS");
  if (env == nullptr || *env == '\0') return omp_get_max_threads();
  int n = 0;
  const char* end = env + std::strlen(env);
  auto [ptr, ec] = std::from_chars(env, end, n);
  TUTOR_CHECK(ec == std::errc() && ptr == end && n >= 1,
              "TUTOR_NUM_THREADS: expected a positive integer, got '{}'", env);
  return n;
}

}  // namespace

int num_threads() {
  static std::once_flag once;
  std::call_once(once, [] {
    omp_set_max_active_levels(1);
    int expected = 0;
    configured.compare_exchange_strong(expected, initial_threads());
  });
  return configured.load();
}

void set_num_threads(int n) {
  TUTOR_CHECK(n >= 1, "set_num_threads: expected a positive thread count, got {}", n);
  num_threads();  // settle the environment default first so it cannot overwrite n later
  configured.store(n);
}

void apply_num_threads() {
  const int n = num_threads();
  if (omp_get_max_threads() != n) omp_set_num_threads(n);
}

}  // namespace tutor::kernels::cpu
