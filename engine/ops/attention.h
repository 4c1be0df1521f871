// Scaled dot-product attention (torch.nn.functional.scaled_dot_product_attention); the formula
// and its conventions are in attention.cpp. Without dropout and without the weights it runs on the
// attention kernels (kernels/attention_params.h: f32 and f64; the CPU's blocked f32 kernel never
// holds more than a tile of the [L, S] weights); dropout_p > 0, need_weights, an additive mask that
// requires grad, or a dtype other than f32/f64 take the composite path (matmul, masking,
// safe_softmax), which forms the weights.
#pragma once

#include <optional>

#include "engine/core/rng.h"
#include "engine/core/tensor.h"

namespace tutor {

struct AttentionOutput {
  Tensor output;   // [..., L, Ev]
  Tensor weights;  // [..., L, S], the softmax probabilities; defined only when asked for
};

// q [..., L, E], k [..., S, E], v [..., S, Ev]; the batch dims broadcast.
// attn_mask (optional), broadcastable to [..., L, S]: bool (true = the key takes part, as in
//   PyTorch) or additive, of q's dtype (0 to keep, -inf to drop, or any bias).
// dropout_p: attention weights are zeroed with probability dropout_p and the rest scaled by
//   1 / (1 - dropout_p), drawing from `generator` (the default generator when null).
// is_causal: query i attends to keys j <= i (top-left aligned, as PyTorch); excludes attn_mask.
// scale: defaults to 1 / sqrt(E).
// need_weights: also return the attention weights (before dropout).
AttentionOutput scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const Tensor& attn_mask = Tensor(),
                                             double dropout_p = 0, bool is_causal = false,
                                             std::optional<double> scale = {},
                                             Generator* generator = nullptr,
                                             bool need_weights = false);

}  // namespace tutor
