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

namespace tutor {

using autograd::FunctionNode;
using autograd::needs_grad;
using autograd::record;

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

// Checks every argument against the attention scores' shape [broadcast batch dims, L, S].
void check_arguments(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
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
  Shape scores;
  try {
    scores = broadcast_shapes(broadcast_shapes(leading(q), leading(k), kOp), leading(v), kOp);
  } catch (const Error&) {
    fail("{}: the batch dims of query {}, key {} and value {} do not broadcast", kOp,
         shape_str(q.sizes()), shape_str(k.sizes()), shape_str(v.sizes()));
  }
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
}

}  // namespace

// Attention(Q, K, V) = softmax(Q K^T * scale + M) V  (Vaswani et al. 2017; PyTorch docs of
// scaled_dot_product_attention), with M = 0 / -inf from a bool or causal mask, or the additive
// mask itself. Fully masked rows (every score -inf) give zero weights and a zero output, as
// PyTorch's math backend does since 2.5 (_safe_softmax; earlier versions gave NaN). Dropout
// multiplies the weights by bernoulli(1 - p) / (1 - p). Gradients flow through matmul, the
// softmax, the mask fill and add, so q, k, v and an additive mask all get them.
AttentionOutput scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const Tensor& attn_mask, double dropout_p,
                                             bool is_causal, std::optional<double> scale,
                                             Generator* generator, bool need_weights) {
  check_arguments(q, k, v, attn_mask, dropout_p, is_causal);
  const double inf = std::numeric_limits<double>::infinity();
  Tensor scores =
      mul(matmul(q, k.transpose(-2, -1)), scale.value_or(1.0 / std::sqrt(double(q.size(-1)))));
  if (is_causal)
    scores = keep_or_fill(scores, causal_keep(q.size(-2), k.size(-2), q.device()), -inf);
  if (attn_mask.defined())
    scores = attn_mask.dtype() == DType::b8 ? keep_or_fill(scores, attn_mask, -inf)
                                            : add(scores, attn_mask);
  Tensor weights = safe_softmax(scores, -1);
  Tensor dropped = weights;
  if (dropout_p > 0) {
    Tensor keep = bernoulli(weights.sizes(), 1 - dropout_p, weights.options(), generator);
    dropped = mul(weights, mul(keep, dropout_p < 1 ? 1 / (1 - dropout_p) : 0.0));
  }
  return {matmul(dropped, v), need_weights ? weights : Tensor()};
}

void ops::add_attention_ops(std::vector<OpInfo>& ops) {
  ops.push_back({"scaled_dot_product_attention", true, {}});
}

}  // namespace tutor
