// Building blocks that several objectives share, so each formula is written once.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

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

// KL(softmax(teacher_b / T) || softmax(student_b / T)) of each row: [B], no T^2 factor, the
// teacher a constant. For objectives that weight samples differently (DHO, TGeo-KD).
Tensor kl_per_sample(const Tensor& student_logits, const Tensor& teacher_logits, double T);

// The size of dimension `dim` of input `input` from the shapes given at construction, or
// `given` when it is positive (a parameter set by the user); 0 when neither is known. The Error
// names the objective when both are known and disagree.
int64_t size_from_shapes(const std::string& objective, const std::map<std::string,
                         std::vector<int64_t>>& shapes, const std::string& input, int64_t dim,
                         int64_t given, const std::string& param);

// Per-row standardization of LS-KD (Sun et al. 2024): (z - mean_c z) / (std_c z + 1e-7) with the
// unbiased std. The gradient flows through the mean and the std.
Tensor standardize_logits(const Tensor& logits);

}  // namespace tutor::distill
