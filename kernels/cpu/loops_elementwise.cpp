// Element-wise f32 kernels: arithmetic with broadcasting, the unary math and activations,
// comparisons (bool output) and selection (bool condition or mask). Inputs arrive broadcast to the
// output's shape (stride 0 along broadcast dims, any strides); the output is written at its own
// strides (in-place ops pass the target as input 0 and as output). StridedLoop merges dims, so
// [N, C] + [C] becomes rows of C contiguous elements and [N, C, H, W] + [1, C, 1, 1] runs of H*W
// elements against one scalar; map_run (loops_simd.h) vectorizes each run whatever its strides.
// sin, cos, expm1 and pow call glibc's vector variants of sinf, cosf, expm1f and powf
// (kernels/cpu/libmvec.h), 16 lanes at a time in the AVX-512 build.
#include <cmath>
#include <functional>
#include <numbers>

#include "kernels/cpu/libmvec.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/loops_common.h"
#include "kernels/params.h"
#include "kernels/registry.h"

namespace tutor::kernels::cpu {

namespace {
#define TUTOR_LOOPS_BODY "kernels/cpu/loops_elementwise_body.h"
#include "kernels/cpu/loops_isa.h"
#undef TUTOR_LOOPS_BODY
}  // namespace

void register_elementwise_loops() { register_table(isa_baseline::kTable, isa_avx512::kTable); }

}  // namespace tutor::kernels::cpu
