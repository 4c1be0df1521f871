#include "distill/functional.h"

#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

void check_logit_pair(const std::string& objective, const Tensor& student, const Tensor& teacher) {
  TUTOR_CHECK(student.dim() == 2 && teacher.dim() == 2 && student.sizes() == teacher.sizes(),
              "objective {}: student and teacher logits must both be [B, C], got {} and {}",
              objective, student.sizes(), teacher.sizes());
  TUTOR_CHECK(is_floating(student.dtype()) && student.dtype() == teacher.dtype(),
              "objective {}: logits must share a floating dtype, got {} and {}", objective,
              student.dtype(), teacher.dtype());
}

void check_labels(const std::string& objective, const Tensor& labels, int64_t batch,
                  int64_t classes) {
  TUTOR_CHECK(labels.dtype() == DType::i64 && labels.dim() == 1 && labels.size(0) == batch,
              "objective {}: labels must be i64 [{}], got {} {}", objective, batch, labels.dtype(),
              labels.sizes());
  if (labels.numel() == 0) return;
  int64_t lo = min(labels).item<int64_t>(), hi = max(labels).item<int64_t>();
  TUTOR_CHECK(lo >= 0 && hi < classes, "objective {}: labels must lie in [0, {}), got [{}, {}]",
              objective, classes, lo, hi);
}

Tensor kl_batchmean(const Tensor& student_logits, const Tensor& teacher_logits, double T) {
  Tensor log_p_student = log_softmax(student_logits / T, 1);
  Tensor log_p_teacher = log_softmax(teacher_logits.detach() / T, 1);
  return kl_div(log_p_student, log_p_teacher, Reduction::batchmean, /*log_target=*/true);
}

Tensor standardize_logits(const Tensor& logits) {
  Tensor mean = logits.mean({1}, /*keepdim=*/true);
  Tensor stdev = std(logits, {1}, /*unbiased=*/true, /*keepdim=*/true);
  return (logits - mean) / (stdev + 1e-7);
}

Tensor target_class_term(const Tensor& student_logits, const Tensor& teacher_logits,
                         const Tensor& labels) {
  Tensor y = labels.unsqueeze(1);
  Tensor log_ps = gather(log_softmax(student_logits, 1), 1, y);
  Tensor pt = gather(softmax(teacher_logits.detach(), 1), 1, y);
  return -(pt * log_ps).mean();
}

Tensor non_target_indices(const Tensor& labels, int64_t classes) {
  std::vector<int64_t> y = labels.to_vector<int64_t>(), idx;
  idx.reserve(y.size() * size_t(classes - 1));
  for (int64_t label : y)
    for (int64_t c = 0; c < classes; ++c)
      if (c != label) idx.push_back(c);
  return from_vector(idx, {int64_t(y.size()), classes - 1}, TensorOptions(DType::i64));
}

}  // namespace tutor::distill
