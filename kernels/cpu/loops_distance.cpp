// f32 cdist and its backward (torch.cdist, p = 1 or 2), with the reference kernel's contract
// (kernels/reference/losses.cpp): x1 [B, P, M], x2 [B, R, M], d [B, P, R] with
// d[b, i, r] = ||x1[b, i] - x2[b, r]||_p; backward in g, x1, x2, out dx1, dx2 with
//   dd/dx1 = sign(x1 - x2) (p = 1) or (x1 - x2) / d (p = 2, 0 where d = 0) = -dd/dx2.
// The distances accumulate over m with r innermost against x2 transposed to [B, M, R], so a row of
// x1 meets all R rows of x2 in unit-stride vector lanes with no horizontal sum per pair; the
// gradients go row by row (dx1 over the rows of x1, dx2 over those of x2), each vectorized along
// m, the threads splitting rows, so no two threads write one row and the sums keep a fixed order.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/loops.h"
#include "kernels/cpu/loops_common.h"
#include "kernels/losses_params.h"
#include "kernels/registry.h"

namespace tutor::kernels::cpu {

namespace {
#define TUTOR_LOOPS_BODY "kernels/cpu/loops_distance_body.h"
#include "kernels/cpu/loops_isa.h"
#undef TUTOR_LOOPS_BODY
}  // namespace

void register_distance_loops() { register_table(isa_baseline::kTable, isa_avx512::kTable); }

}  // namespace tutor::kernels::cpu
