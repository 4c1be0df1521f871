// Element-wise f32 kernels: arithmetic with broadcasting, and the unary math and activations.
// Inputs arrive broadcast to the output's shape (stride 0 along broadcast dims, any strides); the
// output is written at its own strides (in-place ops pass the target as input 0 and as output).
// StridedLoop merges dims, so [N, C] + [C] becomes rows of C contiguous elements and
// [N, C, H, W] + [1, C, 1, 1] runs of H*W elements against one scalar; each run takes the
// contiguous, scalar-operand or strided loop below.
#include <cmath>
#include <numbers>

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
