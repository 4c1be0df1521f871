// batch_norm, layer_norm and group_norm (forward and backward), f32, as OpenMP loops with the
// contract of kernels/reference/normalization.cpp (same inputs, outputs and formulas; see there
// for the derivation); batch_norm_relu and its backward (kernels/reference/fused.cpp) are
// batch_norm's kernels with the ReLU built into the passes that write y and read g (measured,
// [128, 16, 28, 28], 1 thread, forward + backward through autograd, loaded machine: 4.6 ms against
// 5.1 ms for batch_norm then relu channels-last, 2.4 against 3.2 ms NCHW). Plain loops
// rather than oneDNN's batch_normalization: on NCHW they need no reorders, serve the three norms
// alike, and produce the reference's outputs (mean and rstd, where oneDNN gives mean and variance)
// directly.
//
// The [outer, channels, inner] block is cut into segments (n, g): the cg = channels / groups
// channels of group g of sample n, contiguous. A segment belongs to statistic g (batch_norm,
// shared over outer) or n * groups + g (layer_norm, group_norm). Segments are the parallel unit;
// their partial sums (in double) are combined per statistic in a fixed order, so results do not
// depend on the thread count. layer_norm (inner = 1, one statistic per row of 64-768 elements)
// takes a row path instead: forward and backward are each one pass over the rows, every row handled
// whole while it sits in L1 (row_norm_forward, row_norm_backward).
//
// batch_norm also runs on channels-last tensors without converting them (when the op allocated
// its output so, kernels/cpu/channels_last.h): x is then a row-major [N*H*W, C] block, and every
// loop runs over rows with the channel innermost, vectorized along C; per-channel sums use fixed
// row blocks (column_sums), so they too do not depend on the thread count.
//
// The kernels are compiled twice (loops_isa.h), the AVX-512 build chosen where the CPU has it:
// their sums run in double, which the baseline SSE2 build does two lanes at a time.
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/channels_last.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/loops_common.h"
#include "kernels/cpu/threads.h"
#include "kernels/normalization_params.h"

namespace tutor::kernels::cpu {

namespace {
#define TUTOR_LOOPS_BODY "kernels/cpu/norm_pool_normalization_body.h"
#include "kernels/cpu/loops_isa.h"
#undef TUTOR_LOOPS_BODY
}  // namespace

void register_normalization() {
  register_table(isa_baseline::kTable, isa_avx512::kTable);
  for (const char* name :
       {"batch_norm", "batch_norm_backward", "batch_norm_relu", "batch_norm_relu_backward"})
    set_channels_last(name, Backend::cpu, DType::f32);
}

}  // namespace tutor::kernels::cpu
