// Building blocks that several objectives share, so each formula is written once.
#pragma once

#include <string>

#include "engine/core/tensor.h"

namespace tutor::distill {

// Checks that student and teacher logits are both [B, C] with the same sizes and floating
// dtype; the Error names the objective and both shapes.
void check_logit_pair(const std::string& objective, const Tensor& student, const Tensor& teacher);

// Checks labels: i64 [B] with values in [0, C); the Error names the objective.
void check_labels(const std::string& objective, const Tensor& labels, int64_t batch,
                  int64_t classes);

// (1/B) sum_b KL(softmax(teacher_b / T) || softmax(student_b / T)): the "batchmean" KL all three
// anchor libraries use for KD (objectives.md §0.4-1), without the T^2 factor. The teacher is
// treated as a constant.
Tensor kl_batchmean(const Tensor& student_logits, const Tensor& teacher_logits, double T);

// The input name of teacher k's tap: "teacher.<tap>" for k = 0, "teacher<k>.<tap>" otherwise.
std::string teacher_input(int64_t k, const std::string& tap = "logits");

// Per-row standardization of LS-KD (Sun et al. 2024): (z - mean_c z) / (std_c z + 1e-7) with the
// unbiased std. The gradient flows through the mean and the std.
Tensor standardize_logits(const Tensor& logits);

// The columns of logits [B, C] other than each row's label, in order: [B, C - 1]. This is NKD's
// `logit[mask].reshape(B, -1)` and DKD's exact non-target masking; the gradient scatters back
// to the kept columns. Labels must already be checked (check_labels).
Tensor drop_label_column(const Tensor& logits, const Tensor& labels);

// How a Pearson correlation guards against zero norms (objectives.md §10, DIST):
//   eps_on_product  <a, b> / (||a|| ||b|| + eps)                  (hunto dist_kd.py)
//   clamp_norms     <a, b> / (max(||a||, eps) max(||b||, eps))    (torch cosine_similarity, as
//                                                                  torchdistill's DISTLoss uses)
enum class PearsonForm { eps_on_product, clamp_norms };

// Pearson correlation of matching rows of a and b [N, M]: the cosine of the row-centred vectors,
// one value per row, [N].
Tensor pearson_rows(const Tensor& a, const Tensor& b, double eps, PearsonForm form);

// DIST's two relations (Huang et al. 2022) on Y = softmax(z / tau), without the tau^2 factor:
//   inter = 1 - mean_b rho(Y^s_{b,:}, Y^t_{b,:})    (each sample's class ranking)
//   intra = 1 - mean_c rho(Y^s_{:,c}, Y^t_{:,c})    (each class across the batch)
// rho = pearson_rows with `eps` and `form`. The teacher is a constant.
struct DistRelations {
  Tensor inter, intra;
};
DistRelations dist_relations(const Tensor& student_logits, const Tensor& teacher_logits,
                             double tau, double eps, PearsonForm form);

// "eps_on_product" or "clamp_norms" to the enum; an Error naming the objective otherwise.
PearsonForm parse_pearson_form(const std::string& objective, const std::string& text);

}  // namespace tutor::distill
