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

// Per-row standardization of LS-KD (Sun et al. 2024): (z - mean_c z) / (std_c z + 1e-7) with the
// unbiased std. The gradient flows through the mean and the std.
Tensor standardize_logits(const Tensor& logits);

// The target-class term of NKD (Yang et al. 2023, cls_KD nkd.py) at temperature 1, also WKD-L's:
//   -(1/B) sum_b sg(softmax(teacher_b)_{y_b}) * log_softmax(student_b)_{y_b}
// labels: i64 [B], checked by the caller.
Tensor target_class_term(const Tensor& student_logits, const Tensor& teacher_logits,
                         const Tensor& labels);

// The indices of the C - 1 classes other than each row's label: i64 [B, C - 1], in class order.
// Used to drop the label column from logits and the label row and column from a class-by-class
// matrix (WKD-L, NKD's non-target term).
Tensor non_target_indices(const Tensor& labels, int64_t classes);

}  // namespace tutor::distill
