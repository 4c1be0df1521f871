// f32 sum, max and min over any dims (ReduceParams::dims, sorted; the output keeps the input's
// rank and is contiguous). Partial sums are f32 chunks added in double. sum has three layouts:
//   reduced dims innermost and contiguous:  each output sums one contiguous row (rows split over
//                                            threads; a single row is split across them);
//   reduced dims leading, input contiguous:  out[k] = sum_r x[r, k], column sums blocked over k;
//   anything else:                           each output walks its slice at the input's strides.
// max and min (values and int64 positions of the first extreme, NaN winning) walk the slices,
// with a vectorized scan of every contiguous run. var, std (two passes: mean, squared
// deviations), logsumexp (two passes: max, sum of exponentials) and norm (1, 2, inf) walk the
// slices the same way.
#include <cmath>
#include <vector>

#include "kernels/cpu/loops.h"
#include "kernels/cpu/loops_common.h"
#include "kernels/params.h"
#include "kernels/registry.h"

namespace tutor::kernels::cpu {

namespace {
#define TUTOR_LOOPS_BODY "kernels/cpu/loops_reductions_body.h"
#include "kernels/cpu/loops_isa.h"
#undef TUTOR_LOOPS_BODY
}  // namespace

void register_reduction_loops() { register_table(isa_baseline::kTable, isa_avx512::kTable); }

}  // namespace tutor::kernels::cpu
