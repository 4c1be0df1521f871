// f32 gather, index_select, scatter, scatter_add, index_add, cat, flip, tril, triu and constant
// pad. gather and index_select along any dim: out[p] = x[p with p[dim] replaced by index[p]]
// (index_select's 0-d or 1-D index spread over the output's shape, as the reference does). One
// StridedLoop walks the output, the index and x with its stride along dim set to 0, so each
// element reads x at its run pointer plus index * x.stride(dim); runs are split over the threads.
// scatter, scatter_add and index_add (the backward of gather, index_select, embedding, sort and
// topk) split index's columns over the threads, so no two threads write one element
// (loops_indexing_body.h). Indices arrive checked by the op. cat copies packed inputs by memcpy
// per row, flip reads runs backwards, tril and triu mask rows, and constant pad (a fill, then the
// overlap) is a strided copy through elementwise() of loops_simd.h.
#include <cstring>

#include "kernels/cpu/loops.h"
#include "kernels/cpu/loops_common.h"
#include "kernels/indexing_params.h"
#include "kernels/registry.h"
#include "kernels/resampling_params.h"

namespace tutor::kernels::cpu {

namespace {
#define TUTOR_LOOPS_BODY "kernels/cpu/loops_indexing_body.h"
#include "kernels/cpu/loops_isa.h"
#undef TUTOR_LOOPS_BODY
}  // namespace

void register_indexing_loops() { register_table(isa_baseline::kTable, isa_avx512::kTable); }

}  // namespace tutor::kernels::cpu
