#include "engine/nn/attention.h"

#include <limits>

#include "engine/nn/init.h"
#include "engine/ops/attention.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/linalg.h"
#include "engine/ops/reductions.h"

namespace tutor::nn {

namespace {

// A PyTorch MHA mask (bool: true = excluded) as an additive one of `dtype` (0 or -inf).
Tensor additive(const Tensor& mask, DType dtype) {
  if (mask.dtype() != DType::b8) return mask;
  return masked_fill(zeros(mask.sizes(), dtype), mask, -std::numeric_limits<double>::infinity());
}

// Combines the two masks (either may be undefined), each already broadcastable to [N, H, L, S],
// into scaled_dot_product_attention's convention: bool true = attend, or additive.
Tensor combine_masks(const Tensor& attn, const Tensor& padding, DType dtype) {
  if (!attn.defined() && !padding.defined()) return Tensor();
  if (!attn.defined() || !padding.defined()) {
    const Tensor& m = attn.defined() ? attn : padding;
    return m.dtype() == DType::b8 ? logical_not(m) : m;
  }
  if (attn.dtype() == DType::b8 && padding.dtype() == DType::b8)
    return logical_not(logical_or(attn, padding));
  return add(additive(attn, dtype), additive(padding, dtype));
}

}  // namespace

MultiheadAttention::MultiheadAttention(int64_t embed, int64_t heads, double dropout_, bool bias,
                                       bool batch_first_)
    : Module("MultiheadAttention"),
      embed_dim(embed),
      num_heads(heads),
      head_dim(heads > 0 ? embed / heads : 0),
      dropout(dropout_),
      batch_first(batch_first_) {
  TUTOR_CHECK(embed > 0 && heads > 0 && embed % heads == 0,
              "MultiheadAttention: embed_dim ({}) must be a positive multiple of num_heads ({})",
              embed, heads);
  TUTOR_CHECK(dropout >= 0 && dropout <= 1, "MultiheadAttention: dropout must be in [0, 1], got {}",
              dropout);
  in_proj_weight = register_parameter("in_proj_weight", empty({3 * embed, embed}));
  in_proj_bias = register_parameter("in_proj_bias", bias ? empty({3 * embed}) : Tensor());
  out_proj = register_module("out_proj",
                             std::make_shared<NonDynamicallyQuantizableLinear>(embed, embed, bias));
  reset_parameters();
}

void MultiheadAttention::reset_parameters() {
  init::xavier_uniform_(in_proj_weight);
  if (in_proj_bias.defined()) {
    init::zeros_(in_proj_bias);
    init::zeros_(out_proj->bias);
  }
}

std::string MultiheadAttention::name() const {
  return fmt::format("MultiheadAttention(embed_dim={}, num_heads={})", embed_dim, num_heads);
}

MultiheadAttentionOutput MultiheadAttention::forward(const Tensor& query, const Tensor& key,
                                                     const Tensor& value,
                                                     const Tensor& key_padding_mask,
                                                     bool need_weights, const Tensor& attn_mask,
                                                     bool average_attn_weights) {
  const bool batched = query.dim() == 3;
  TUTOR_CHECK(
      (query.dim() == 2 || batched) && key.dim() == query.dim() && value.dim() == query.dim(),
      "{}: query, key and value must all be 3-D (batched) or 2-D (unbatched), got shapes "
      "{}, {} and {}",
      name(), shape_str(query.sizes()), shape_str(key.sizes()), shape_str(value.sizes()));
  // Everything below works on [L, N, E] (sequence first), as PyTorch's functional form.
  auto seq_first = [&](const Tensor& t) {
    if (!batched) return t.unsqueeze(1);
    return batch_first ? t.transpose(0, 1) : t;
  };
  const bool self_attention = query.is_same(key) && key.is_same(value);
  Tensor q = seq_first(query), k = seq_first(key), v = seq_first(value);
  const int64_t L = q.size(0), N = q.size(1), S = k.size(0), E = embed_dim, H = num_heads;
  TUTOR_CHECK(
      q.size(2) == E && k.size(2) == E && key.sizes() == value.sizes() && k.size(1) == N,
      "{}: expected query [L, N, {}] and key, value of one shape [S, N, {}] (batch dim first "
      "with batch_first, no N unbatched), got shapes {}, {} and {}",
      name(), E, E, shape_str(query.sizes()), shape_str(key.sizes()), shape_str(value.sizes()));

  // Masks, as [N, H, L, S]-broadcastable views.
  auto check_mask = [&](const Tensor& m, const char* what) {
    TUTOR_CHECK(m.dtype() == DType::b8 || m.dtype() == query.dtype(),
                "{}: {} must be bool or {} like the query, got {} of shape {}", name(), what,
                query.dtype(), m.dtype(), shape_str(m.sizes()));
  };
  Tensor padding, attn;
  if (key_padding_mask.defined()) {
    check_mask(key_padding_mask, "key_padding_mask");
    Shape expected = batched ? Shape{N, S} : Shape{S};
    TUTOR_CHECK(key_padding_mask.sizes() == expected,
                "{}: key_padding_mask of shape {} should be {} for key of shape {}", name(),
                shape_str(key_padding_mask.sizes()), shape_str(expected), shape_str(key.sizes()));
    padding = key_padding_mask.reshape({N, 1, 1, S});
  }
  if (attn_mask.defined()) {
    check_mask(attn_mask, "attn_mask");
    const Shape& m = attn_mask.sizes();
    TUTOR_CHECK(m == Shape({L, S}) || m == Shape({N * H, L, S}),
                "{}: attn_mask of shape {} should be [L, S] = {} or [N * num_heads, L, S] = {}",
                name(), shape_str(m), shape_str({L, S}), shape_str({N * H, L, S}));
    attn = m.size() == 2 ? attn_mask : attn_mask.view({N, H, L, S});
  }
  Tensor mask = combine_masks(attn, padding, query.dtype());

  // Input projections: rows [0, E), [E, 2E), [2E, 3E) of in_proj_weight for q, k, v; one product
  // for self-attention.
  auto rows = [&](const Tensor& t, int64_t i) {
    return t.defined() ? t.narrow(0, i * E, E) : Tensor();
  };
  Tensor qp, kp, vp;
  if (self_attention) {
    Tensor qkv = linear(q, in_proj_weight, in_proj_bias);
    qp = qkv.narrow(2, 0, E), kp = qkv.narrow(2, E, E), vp = qkv.narrow(2, 2 * E, E);
  } else {
    qp = linear(q, rows(in_proj_weight, 0), rows(in_proj_bias, 0));
    kp = linear(k, rows(in_proj_weight, 1), rows(in_proj_bias, 1));
    vp = linear(v, rows(in_proj_weight, 2), rows(in_proj_bias, 2));
  }
  // [T, N, E] -> [N, H, T, head_dim]
  auto heads = [&](const Tensor& t) {
    return t.reshape({t.size(0), N, H, head_dim}).permute({1, 2, 0, 3});
  };
  AttentionOutput a =
      scaled_dot_product_attention(heads(qp), heads(kp), heads(vp), mask,
                                   is_training() ? dropout : 0.0, false, {}, nullptr, need_weights);
  // [N, H, L, head_dim] -> [L, N, E]
  Tensor out = (*out_proj)(a.output.permute({2, 0, 1, 3}).reshape({L, N, E}));
  if (!batched)
    out = out.squeeze(1);
  else if (batch_first)
    out = out.transpose(0, 1);

  Tensor weights;
  if (need_weights) {
    weights = average_attn_weights ? mean(a.weights, {1}) : a.weights;
    if (!batched) weights = weights.squeeze(0);
  }
  return {out, weights};
}

}  // namespace tutor::nn
