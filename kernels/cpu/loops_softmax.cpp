// f32 softmax, log_softmax and their backward kernels along SoftmaxParams::dim. Inputs are packed
// (contiguous_raw) and seen as [outer, n, inner]; each of the outer * inner rows has n elements at
// stride `inner`. Rows are split over the threads; with inner == 1 (the last dim) the row loops
// are contiguous and vectorize. Row sums are f32 chunks added in double.
#include <cmath>
#include <limits>

#include "kernels/activations_params.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/loops_common.h"
#include "kernels/registry.h"

namespace tutor::kernels::cpu {

namespace {
#define TUTOR_LOOPS_BODY "kernels/cpu/loops_softmax_body.h"
#include "kernels/cpu/loops_isa.h"
#undef TUTOR_LOOPS_BODY
}  // namespace

void register_softmax_loops() { register_table(isa_baseline::kTable, isa_avx512::kTable); }

}  // namespace tutor::kernels::cpu
