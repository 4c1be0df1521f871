// Losses and distance functions, as torch.nn.functional. Each loss computes its per-element loss
// (reduction 'none') and its input gradients with its own kernels; 'mean', 'sum' and 'batchmean'
// are applied on top with sum and div. Formulas and derivatives are in losses.cpp.
//
// Second-order gradients along the incoming gradient only: a backward pass with create_graph
// through the class losses (cross_entropy, nll_loss) and the element-wise ones (kl_div, mse_loss,
// l1/smooth_l1/huber, binary_cross_entropy[_with_logits]) gives input gradients that are
// differentiable in the output gradient they were computed from (they are linear in it), which is
// what a hypergradient through a loss weighted by learned factors needs (distill/bilevel.h). A
// second derivative in the input or target, and any through cosine_similarity, normalize and
// cdist, fails loudly rather than silently being zero.
#pragma once

#include <string_view>

#include "engine/core/tensor.h"

namespace tutor {

// PyTorch's reduction argument. 'batchmean' (sum / input.size(0)) is accepted by kl_div only.
enum class Reduction { none, mean, sum, batchmean };

// "none" | "mean" | "sum" | "batchmean"; throws naming `op` and the string otherwise.
Reduction reduction_from_string(std::string_view name, const char* op);
std::string_view reduction_name(Reduction r);

// input [N, C, d...] or [C] of logits; target either class indices (i64, [N, d...] or 0-dim) or
// class probabilities (the input's shape and dtype). weight: [C] or undefined.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                     int64_t ignore_index = -100, Reduction reduction = Reduction::mean,
                     double label_smoothing = 0.0);
// input [N, C, d...] or [C] of log-probabilities; target class indices as for cross_entropy.
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                int64_t ignore_index = -100, Reduction reduction = Reduction::mean);
// input: log-probabilities; target: probabilities (log-probabilities when log_target).
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean,
              bool log_target = false);

// Element-wise losses: target must have the input's shape (no broadcasting).
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target,
                      Reduction reduction = Reduction::mean, double beta = 1.0);
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean,
                  double delta = 1.0);
// input: probabilities in [0, 1]; weight broadcasts to the input's shape.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                            Reduction reduction = Reduction::mean);
// input: logits; weight and pos_weight broadcast to the input's shape (pos_weight is usually
// [C], one weight per class along the last dim).
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight = {},
                                        Reduction reduction = Reduction::mean,
                                        const Tensor& pos_weight = {});

// x1 and x2 broadcast; the result drops `dim`.
Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim = 1, double eps = 1e-8);
// x / max(||x||_p, eps) along `dim`, p > 0.
Tensor normalize(const Tensor& x, double p = 2.0, int64_t dim = 1, double eps = 1e-12);
// Pairwise p-norm distances, p = 1 or 2: x1 [..., P, M] and x2 [..., R, M] give [..., P, R],
// the batch dims broadcast.
Tensor cdist(const Tensor& x1, const Tensor& x2, double p = 2.0);

}  // namespace tutor
