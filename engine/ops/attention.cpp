#include "engine/ops/attention.h"

#include <cmath>
#include <limits>

#include "engine/autograd/node.h"
#include "engine/core/random.h"
#include "engine/ops/activations.h"
#include "engine/ops/catalog.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/linalg.h"
#include "engine/ops/reductions.h"
#include "engine/ops/views.h"
#include "kernels/attention_params.h"

namespace tutor {

using autograd::FunctionNode;
using autograd::needs_grad;
using autograd::record;
using ops::Kernel;

namespace {

constexpr const char* kOp = "scaled_dot_product_attention";

// out = keep ? x : value, with `keep` (bool) broadcastable to x's shape.
Tensor keep_or_fill(const Tensor& x, const Tensor& keep, double value) {
  return masked_fill(x, logical_not(keep), value);
}

// [L, S] with true where key j <= query i (torch.ones(L, S).tril()).
Tensor causal_keep(int64_t l, int64_t s, Device device) {
  std::vector<int64_t> keep(size_t(l * s));
  for (int64_t i = 0; i < l; ++i)
    for (int64_t j = 0; j < s; ++j) keep[size_t(i * s + j)] = j <= i;
  return from_vector(keep, {l, s}, TensorOptions(DType::b8).device(device));
}

Shape leading(const Tensor& t) { return Shape(t.sizes().begin(), t.sizes().end() - 2); }

// Checks every argument against the attention scores' shape [broadcast batch dims, L, S]; returns
// the broadcast batch dims.
Shape check_arguments(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                      double dropout_p, bool is_causal) {
  ops::check_floating(kOp, q, "query");
  ops::check_same_dtype(kOp, {q, k, v});
  ops::check_same_device(kOp, {q, k, v, mask});
  TUTOR_CHECK(q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2,
              "{}: query, key and value need at least 2 dims, got shapes {}, {} and {}", kOp,
              shape_str(q.sizes()), shape_str(k.sizes()), shape_str(v.sizes()));
  TUTOR_CHECK(q.size(-1) == k.size(-1),
              "{}: query of shape {} and key of shape {} differ in embedding size ({} vs {})", kOp,
              shape_str(q.sizes()), shape_str(k.sizes()), q.size(-1), k.size(-1));
  TUTOR_CHECK(k.size(-2) == v.size(-2),
              "{}: key of shape {} and value of shape {} differ in sequence length ({} vs {})", kOp,
              shape_str(k.sizes()), shape_str(v.sizes()), k.size(-2), v.size(-2));
  Shape batch;
  try {
    batch = broadcast_shapes(broadcast_shapes(leading(q), leading(k), kOp), leading(v), kOp);
  } catch (const Error&) {
    fail("{}: the batch dims of query {}, key {} and value {} do not broadcast", kOp,
         shape_str(q.sizes()), shape_str(k.sizes()), shape_str(v.sizes()));
  }
  Shape scores = batch;
  scores.push_back(q.size(-2));
  scores.push_back(k.size(-2));
  TUTOR_CHECK(dropout_p >= 0 && dropout_p <= 1, "{}: dropout_p must be in [0, 1], got {}", kOp,
              dropout_p);
  if (mask.defined()) {
    TUTOR_CHECK(!is_causal, "{}: give either attn_mask (shape {}) or is_causal, not both", kOp,
                shape_str(mask.sizes()));
    TUTOR_CHECK(mask.dtype() == DType::b8 || mask.dtype() == q.dtype(),
                "{}: attn_mask must be bool or {} like the query, got {} (shape {})", kOp,
                q.dtype(), mask.dtype(), shape_str(mask.sizes()));
    bool fits = false;
    try {
      fits = broadcast_shapes(mask.sizes(), scores, kOp) == scores;
    } catch (const Error&) {
    }
    TUTOR_CHECK(fits,
                "{}: attn_mask of shape {} does not broadcast to the attention scores' shape {} "
                "(query {}, key {})",
                kOp, shape_str(mask.sizes()), shape_str(scores), shape_str(q.sizes()),
                shape_str(k.sizes()));
  }
  return batch;
}

// Q K^T * scale with the causal or bool mask applied as -inf, or the additive mask added.
Tensor masked_scores(const Tensor& q, const Tensor& k, const Tensor& mask, bool is_causal,
                     double scale) {
  const double inf = std::numeric_limits<double>::infinity();
  Tensor scores = mul(matmul(q, k.transpose(-2, -1)), scale);
  if (is_causal)
    scores = keep_or_fill(scores, causal_keep(q.size(-2), k.size(-2), q.device()), -inf);
  if (mask.defined())
    scores = mask.dtype() == DType::b8 ? keep_or_fill(scores, mask, -inf) : add(scores, mask);
  return scores;
}

// The attention composed of differentiable ops: any dropout, the weights on request, gradients
// for an additive mask, and every derivative order.
AttentionOutput composite_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& mask, double dropout_p, bool is_causal,
                                    double scale, Generator* generator, bool need_weights) {
  Tensor weights = safe_softmax(masked_scores(q, k, mask, is_causal, scale), -1);
  Tensor dropped = weights;
  if (dropout_p > 0) {
    Tensor keep = bernoulli(weights.sizes(), 1 - dropout_p, weights.options(), generator);
    dropped = mul(weights, mul(keep, dropout_p < 1 ? 1 / (1 - dropout_p) : 0.0));
  }
  return {matmul(dropped, v), need_weights ? weights : Tensor()};
}

// batch + {rows, cols}
Shape with_matrix(Shape batch, int64_t rows, int64_t cols) {
  batch.push_back(rows);
  batch.push_back(cols);
  return batch;
}

// The backward of the attention output written with differentiable ops (used when a backward
// pass itself records a graph, create_graph): with P the weights, D_i = sum_j P_ij dP_ij equals
// do_i . o_i but stays a function of q, k, v.
TensorList differentiable_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                   const Tensor& mask, bool is_causal, double scale,
                                   const Tensor& grad) {
  Tensor p = safe_softmax(masked_scores(q, k, mask, is_causal, scale), -1);
  Tensor dp = matmul(grad, v.transpose(-2, -1));
  Tensor ds = mul(p, sub(dp, sum(mul(dp, p), {-1}, true)));
  return {sum_to(mul(matmul(ds, k), scale), q.sizes()),
          sum_to(mul(matmul(ds.transpose(-2, -1), q), scale), k.sizes()),
          sum_to(matmul(p.transpose(-2, -1), grad), v.sizes())};
}

// The kernel path: one forward kernel that never forms the [L, S] weights, which returns the
// output and each row's log-sum-exp, and one backward kernel that recomputes the weights tile by
// tile from them (kernels/attention_params.h).
Tensor fused_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                       bool is_causal, double scale, const Shape& batch) {
  static const Kernel forward(kOp), backward("scaled_dot_product_attention_backward");
  const int64_t l = q.size(-2), s = k.size(-2), e = q.size(-1), ev = v.size(-1);
  const kernels::AttentionParams p{.scale = scale, .is_causal = is_causal};
  auto expanded = [&batch](const Tensor& t, int64_t rows, int64_t cols) {
    return t.defined() ? t.detach().expand(with_matrix(batch, rows, cols)) : Tensor();
  };
  Tensor qe = expanded(q, l, e), ke = expanded(k, s, e), ve = expanded(v, s, ev),
         me = expanded(mask, l, s);
  Tensor out = empty(with_matrix(batch, l, ev), q.options());
  Shape lse_shape = batch;
  lse_shape.push_back(l);
  Tensor lse = empty(lse_shape, q.options());
  ops::dispatch(forward, q.dtype(), {qe, ke, ve, me}, {out, lse}, &p);
  if (!needs_grad({q, k, v})) return out;
  record(kOp, {q, k, v}, {out},
         [p, batch, sm = autograd::save(mask), sq = autograd::save(q), sk = autograd::save(k),
          sv = autograd::save(v), so = autograd::save_output(out),
          slse = autograd::save(lse)](const FunctionNode& n, const TensorList& g) {
           Tensor q_ = n.unpack(sq), k_ = n.unpack(sk), v_ = n.unpack(sv), mask_ = n.unpack(sm);
           if (needs_grad({g[0], q_, k_, v_}))
             return differentiable_backward(q_, k_, v_, mask_, p.is_causal, p.scale, g[0]);
           const int64_t l_ = q_.size(-2), s_ = k_.size(-2);
           auto full = [&batch](const Tensor& t, int64_t rows, int64_t cols) {
             return t.defined() ? t.expand(with_matrix(batch, rows, cols)) : Tensor();
           };
           Tensor dq = empty(with_matrix(batch, l_, q_.size(-1)), q_.options());
           Tensor dk = empty(with_matrix(batch, s_, k_.size(-1)), q_.options());
           Tensor dv = empty(with_matrix(batch, s_, v_.size(-1)), q_.options());
           ops::dispatch(
               backward, q_.dtype(),
               {full(q_, l_, q_.size(-1)), full(k_, s_, k_.size(-1)), full(v_, s_, v_.size(-1)),
                full(mask_, l_, s_), n.unpack(so), g[0], n.unpack(slse)},
               {dq, dk, dv}, &p);
           return TensorList{n.needs_input_grad(0) ? sum_to(dq, q_.sizes()) : Tensor(),
                             n.needs_input_grad(1) ? sum_to(dk, k_.sizes()) : Tensor(),
                             n.needs_input_grad(2) ? sum_to(dv, v_.sizes()) : Tensor()};
         });
  return out;
}

}  // namespace

// Attention(Q, K, V) = softmax(Q K^T * scale + M) V  (Vaswani et al. 2017; PyTorch docs of
// scaled_dot_product_attention), with M = 0 / -inf from a bool or causal mask, or the additive
// mask itself. Fully masked rows (every score -inf) give zero weights and a zero output, as
// PyTorch's math backend does since 2.5 (_safe_softmax; earlier versions gave NaN), on both paths
// below. Dropout multiplies the weights by bernoulli(1 - p) / (1 - p).
//
// Two paths, which agree to rounding: the attention kernels (f32, f64) serve the common case and
// never hold the [L, S] weights, recomputing them in the backward (FlashAttention-2); the
// composition of matmul, masking and safe_softmax serves what they do not: dropout_p > 0, weights
// asked for, an additive mask that requires grad, other dtypes. Gradients reach q, k, v (and an
// additive mask on the composite path); a backward pass that records a graph (create_graph) runs
// the backward as differentiable ops.
AttentionOutput scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const Tensor& attn_mask, double dropout_p,
                                             bool is_causal, std::optional<double> scale,
                                             Generator* generator, bool need_weights) {
  Shape batch = check_arguments(q, k, v, attn_mask, dropout_p, is_causal);
  const double s = scale.value_or(1.0 / std::sqrt(double(q.size(-1))));
  const bool kernel_dtype = q.dtype() == DType::f32 || q.dtype() == DType::f64;
  const bool mask_grad =
      attn_mask.defined() && attn_mask.dtype() != DType::b8 && needs_grad({attn_mask});
  if (need_weights || dropout_p > 0 || mask_grad || !kernel_dtype)
    return composite_attention(q, k, v, attn_mask, dropout_p, is_causal, s, generator,
                               need_weights);
  return {fused_attention(q, k, v, attn_mask, is_causal, s, batch), Tensor()};
}

void ops::add_attention_ops(std::vector<OpInfo>& ops) {
  ops.push_back({"scaled_dot_product_attention",
                 true,
                 {"scaled_dot_product_attention", "scaled_dot_product_attention_backward"}});
}

}  // namespace tutor
