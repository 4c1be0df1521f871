#include "kernels/cpu/threads.h"

#include <omp.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <mutex>

#include "engine/core/error.h"

namespace tutor::kernels::cpu {

namespace {

std::atomic<int> configured{0};  // 0: not yet decided

// TUTOR_NUM_THREADS if set, else the OpenMP default.
int initial_threads() {
  const char* env = std::getenv("TUTOR_NUM_THREADS");
  return env == nullptr || *env == '\0' ? omp_get_max_threads() : parse_num_threads(env);
}

}  // namespace

int parse_num_threads(std::string_view value) {
  int n = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, n);
  TUTOR_CHECK(ec == std::errc() && ptr == end && n >= 1,
              "TUTOR_NUM_THREADS: expected a positive integer, got '{}'", value);
  return n;
}

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
