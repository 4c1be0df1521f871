// Inference of a dual-head student (DHO, Kang et al. 2025; erjui/DHO train_imgnet.py::evaluate,
// 4b24cf9): the two heads' probabilities are blended,
//   p = (1 - alpha) softmax(ce_logits) + alpha softmax(kd_logits / beta),
// and alpha, beta are chosen by a grid search for the accuracy on given logits and labels.
//
// Convention: alpha weights the KD head, as the reference code does. (objectives.md §2.15 writes
// the mirror form p = alpha softmax(ce) + (1 - alpha) softmax(kd / beta); the grid is symmetric
// in alpha, so only the reported alpha differs: theirs is 1 - ours.)
#pragma once

#include <vector>

#include "engine/core/tensor.h"

namespace tutor::distill {

// p [N, C] for ce_logits, kd_logits [N, C]; alpha in [0, 1], beta > 0.
Tensor dual_head_blend(const Tensor& ce_logits, const Tensor& kd_logits, double alpha,
                       double beta);

struct DualHeadChoice {
  double alpha = 0;     // 0 when no pair beats 0% accuracy, as the reference's initial value
  double beta = 1;      // 1 likewise
  double accuracy = 0;  // percent, 100 * correct / N
};

// The reference's defaults: alpha = 0, 0.05, ..., 1 (k * 0.05, as np.arange(0, 1.05, 0.05)) and
// beta in {0.5, 0.75, 1, 1.25, 1.5, 2, 4}.
std::vector<double> dual_head_alphas();
std::vector<double> dual_head_betas();

// Loops beta (outer) then alpha (inner) in the given orders and keeps the first pair with a
// strictly higher accuracy; the prediction is the first maximum of p. labels: i64 [N].
DualHeadChoice dual_head_search(const Tensor& ce_logits, const Tensor& kd_logits,
                                const Tensor& labels,
                                const std::vector<double>& alphas = dual_head_alphas(),
                                const std::vector<double>& betas = dual_head_betas());

}  // namespace tutor::distill
