#include "kernels/cpu/loops.h"

#include <cstdlib>
#include <string_view>

#include "kernels/cpu/loops_common.h"

namespace tutor::kernels::cpu {

bool use_avx512() {
  static const bool yes = [] {
    const char* forced = std::getenv("TUTOR_CPU_ISA");
    if (forced && std::string_view(forced) == "baseline") return false;
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#else
    return false;
#endif
  }();
  return yes;
}

void register_loops() {
  register_elementwise_loops();
  register_reduction_loops();
  register_softmax_loops();
  register_loss_loops();
  register_indexing_loops();
  register_distance_loops();
}

}  // namespace tutor::kernels::cpu
