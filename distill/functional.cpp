#include "distill/functional.h"

#include <fmt/format.h>

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
              "objective {}: labels must be i64 [{}], got {} {}", objective, batch,
              labels.dtype(), labels.sizes());
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

std::string teacher_input(int64_t k, const std::string& tap) {
  return k == 0 ? "teacher." + tap : fmt::format("teacher{}.{}", k, tap);
}

Tensor standardize_logits(const Tensor& logits) {
  Tensor mean = logits.mean({1}, /*keepdim=*/true);
  Tensor stdev = std(logits, {1}, /*unbiased=*/true, /*keepdim=*/true);
  return (logits - mean) / (stdev + 1e-7);
}

Tensor drop_label_column(const Tensor& logits, const Tensor& labels) {
  const int64_t C = logits.size(1);
  // Row b keeps columns j + [j >= y_b] for j in [0, C - 1).
  Tensor j = arange(double(C - 1), TensorOptions(DType::i64).device(labels.device())).unsqueeze(0);
  Tensor index = j + ge(j, labels.unsqueeze(1)).to(DType::i64);
  return gather(logits, 1, index);
}

Tensor pearson_rows(const Tensor& a, const Tensor& b, double eps, PearsonForm form) {
  Tensor ca = a - a.mean({1}, /*keepdim=*/true);
  Tensor cb = b - b.mean({1}, /*keepdim=*/true);
  if (form == PearsonForm::clamp_norms) return cosine_similarity(ca, cb, 1, eps);
  return (ca * cb).sum({1}) / (norm(ca, 2, {1}) * norm(cb, 2, {1}) + eps);
}

DistRelations dist_relations(const Tensor& student_logits, const Tensor& teacher_logits,
                             double tau, double eps, PearsonForm form) {
  Tensor ys = softmax(student_logits / tau, 1);
  Tensor yt = softmax(teacher_logits.detach() / tau, 1);
  Tensor inter = 1.0 - pearson_rows(ys, yt, eps, form).mean();
  Tensor intra = 1.0 - pearson_rows(ys.transpose(0, 1), yt.transpose(0, 1), eps, form).mean();
  return {inter, intra};
}

PearsonForm parse_pearson_form(const std::string& objective, const std::string& text) {
  if (text == "eps_on_product") return PearsonForm::eps_on_product;
  if (text == "clamp_norms") return PearsonForm::clamp_norms;
  fail("objective {}: form must be eps_on_product or clamp_norms, got '{}'", objective, text);
}

}  // namespace tutor::distill
