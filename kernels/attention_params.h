// The contract of the scaled_dot_product_attention kernels, shared by every backend.
//
// "scaled_dot_product_attention"
//   in:  q [B.., L, E], k [B.., S, E], v [B.., S, Ev], mask [B.., L, S] or undefined: all of one
//        batch shape B.. (the op expands them: any strides, stride 0 where broadcast). The mask is
//        bool (true = the key takes part) or additive, of q's dtype.
//   out: o [B.., L, Ev] and lse [B.., L], contiguous.
//   With s_ij = scale * q_i . k_j + m_ij (m_ij = 0 / -inf for a bool mask or is_causal's j > i, or
//   the additive mask itself): lse_i = log sum_j exp(s_ij) and o_i = sum_j exp(s_ij - lse_i) v_j.
//   A row whose scores are all -inf (every key masked, or S = 0) gets o_i = 0 and lse_i = -inf.
// "scaled_dot_product_attention_backward"
//   in:  q, k, v, mask as above, o, do [B.., L, Ev] (any strides), lse [B.., L] (contiguous).
//   out: dq [B.., L, E], dk [B.., S, E], dv [B.., S, Ev], contiguous, per batch element (the op
//        sums them over broadcast dims).
//   With p_ij = exp(s_ij - lse_i) (0 on rows with lse_i = -inf), D_i = do_i . o_i,
//   dp_ij = do_i . v_j and ds_ij = p_ij (dp_ij - D_i) (Dao 2023, FlashAttention-2, Algorithm 2):
//   dv_j = sum_i p_ij do_i,  dq_i = scale sum_j ds_ij k_j,  dk_j = scale sum_i ds_ij q_i.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"

namespace tutor::kernels {

struct AttentionParams {
  double scale = 1;
  bool is_causal = false;  // mask key j > query i (top-left aligned); never given with a mask
};

// Offset (in elements, the tensor's own offset included) of each matrix of `t` [B.., R, C], the
// batch dims B.. walked in row-major order.
inline std::vector<int64_t> batch_offsets(const Tensor& t) {
  const Shape& size = t.sizes();
  const Shape& stride = t.strides();
  const size_t nb = size.size() - 2;
  int64_t count = 1;
  for (size_t d = 0; d < nb; ++d) count *= size[d];
  std::vector<int64_t> offsets(size_t(count > 0 ? count : 0));
  std::vector<int64_t> index(nb, 0);
  int64_t off = t.offset();
  for (int64_t b = 0; b < count; ++b) {
    offsets[size_t(b)] = off;
    for (size_t d = nb; d-- > 0;) {  // advance the batch index like an odometer
      off += stride[d];
      if (++index[d] < size[d]) break;
      off -= stride[d] * size[d];
      index[d] = 0;
    }
  }
  return offsets;
}

}  // namespace tutor::kernels
