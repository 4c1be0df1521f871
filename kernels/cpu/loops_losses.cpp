// f32 loss kernels: cosine_similarity and normalize along a dim, nll_loss, the element-wise
// losses (mse, l1, smooth_l1, huber, kl_div, binary_cross_entropy with and without logits;
// forward and backward through elementwise() of loops_simd.h), and cross_entropy forward and
// backward, log-softmax fused: input [N, C, d...] seen as [N, C, inner], one row of C logits per
// (n, k), rows split over the threads (unit stride, and so vectorized, when inner == 1). The
// contract is the reference kernel's (kernels/reference/ losses.cpp): with lse = log sum_c exp x_c,
// l = sum_c a_c (lse - x_c) where
//   class indices y:  a_c = [y != ignore] ((1 - eps) w_y [c == y] + (eps / C) w_c)
//   probabilities t:  a_c = w_c ((1 - eps) t_c + eps / C)
// and d l / d x_c = p_c sum_j a_j - a_c,  d l / d t_c = -(1 - eps) w_c log p_c.
// out[1] of the forward is the 'mean' denominator: sum of w_y over kept targets, or N * inner.
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/cpu/loops.h"
#include "kernels/cpu/loops_common.h"
#include "kernels/losses_params.h"
#include "kernels/registry.h"

namespace tutor::kernels::cpu {

namespace {
#define TUTOR_LOOPS_BODY "kernels/cpu/loops_losses_body.h"
#include "kernels/cpu/loops_isa.h"
#undef TUTOR_LOOPS_BODY
}  // namespace

void register_loss_loops() { register_table(isa_baseline::kTable, isa_avx512::kTable); }

}  // namespace tutor::kernels::cpu
