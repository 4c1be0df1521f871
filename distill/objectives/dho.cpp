// DHO: dual-head optimization for semi-supervised distillation from a vision-language teacher
// (Kang et al. 2025), as erjui/DHO (4b24cf9) train_imgnet.py::train_student computes it.
//
// The student's backbone feature h = student.pooled feeds two Linear heads: ce_head (the
// model's own classifier, trained by the objective "ce" with weight 1/2 on the labeled rows)
// and kd_head, which this objective owns and which only the teacher teaches:
//   L = 1/2 * [ T^2 * (1/|L|) sum_{b in L} KL(softmax(z^t_b / T) || softmax(kd_head(h_b) / T))
//             + T^2 * (1/|U|) sum_{b in U} KL(same) ]                                 T = 2
// L and U are the labeled and unlabeled rows of one batch. The reference runs the student once
// on the concatenation [labeled; unlabeled] and splits the outputs; here the optional input
// unlabeled_mask (i64 or bool [B], nonzero = unlabeled row, any order) says which rows are
// which, and without it every row is labeled. A set with no rows contributes 0. Parts:
// "kl_labeled" and "kl_unlabeled" (each T^2 * batchmean KL over its rows).
// kd_head's parameters are named kd_head.weight, kd_head.bias as in the reference's
// StudentModel. Inference blends both heads: distill/dual_head_inference.h.
#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/nn/linear.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class DHO : public Objective {
 public:
  DHO(const Params& p, const Shapes& shapes) : Objective("dho"), T_(p.number("T")) {
    TUTOR_CHECK(T_ > 0, "objective dho: T must be positive, got {}", T_);
    features_ = size_from_shapes("dho", shapes, "student.pooled", 1, p.integer("features"),
                                 "features");
    classes_ = size_from_shapes("dho", shapes, "teacher.logits", 1, p.integer("classes"),
                                "classes");
    if (features_ > 0 && classes_ > 0)
      kd_head_ = register_module("kd_head", std::make_shared<nn::Linear>(features_, classes_));
  }

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& h = in.at("student.pooled");
    const Tensor& zt = in.at("teacher.logits");
    TUTOR_CHECK(kd_head_ != nullptr,
                "objective dho: the head's sizes are unknown; build it with the input shapes or "
                "set features and classes");
    TUTOR_CHECK(h.dim() == 2 && h.size(1) == features_ && zt.dim() == 2 &&
                    zt.size(1) == classes_ && h.size(0) == zt.size(0),
                "objective dho: student.pooled must be [B, {}] and teacher.logits [B, {}], got {} "
                "and {}",
                features_, classes_, h.sizes(), zt.sizes());
    const int64_t B = h.size(0);
    std::vector<int64_t> unlabeled(size_t(B), 0);
    if (in.has("unlabeled_mask")) {
      const Tensor& m = in.at("unlabeled_mask");
      TUTOR_CHECK((m.dtype() == DType::i64 || m.dtype() == DType::b8) && m.dim() == 1 &&
                      m.size(0) == B,
                  "objective dho: unlabeled_mask must be i64 or bool [{}], got {} {}", B,
                  m.dtype(), m.sizes());
      unlabeled = m.to(DType::i64).to_vector<int64_t>();
    }
    int64_t n_unlabeled = 0;
    for (int64_t u : unlabeled) n_unlabeled += u != 0;
    const int64_t n_labeled = B - n_unlabeled;
    // Row weights 1/|L| or 1/|U|: the two batchmeans as one weighted sum over the batch.
    std::vector<double> w_l(size_t(B), 0.0), w_u(size_t(B), 0.0);
    for (int64_t b = 0; b < B; ++b) {
      if (unlabeled[size_t(b)] != 0)
        w_u[size_t(b)] = 1.0 / double(n_unlabeled);
      else
        w_l[size_t(b)] = 1.0 / double(n_labeled);
    }
    Tensor kl = kl_per_sample((*kd_head_)(h), zt, T_) * (T_ * T_);
    Tensor kl_l = (kl * from_vector(w_l, {B}, kl.dtype())).sum();
    Tensor kl_u = (kl * from_vector(w_u, {B}, kl.dtype())).sum();
    return {(kl_l + kl_u) * 0.5, {{"kl_labeled", kl_l}, {"kl_unlabeled", kl_u}}};
  }

 private:
  double T_;
  int64_t features_ = 0, classes_ = 0;
  std::shared_ptr<nn::Linear> kd_head_;
};

}  // namespace

ObjectiveSpec dho_objective() {
  return {"dho",
          "DHO: 1/2 T^2 KL of an owned kd_head on the pooled feature, labeled + unlabeled rows",
          "erjui/DHO train_imgnet.py::train_student",
          {{"student.pooled", "[B, d] student backbone feature (input of both heads)"},
           {"teacher.logits", "[B, C] teacher logits (constant)"},
           {"unlabeled_mask", "i64 or bool [B], nonzero where the row is unlabeled", false}},
          {{"T", "2", "temperature"},
           {"features", "0", "d (0: from the shape of student.pooled)"},
           {"classes", "0", "C (0: from the shape of teacher.logits)"}},
          [](const Params& p, const Shapes& s) { return std::make_shared<DHO>(p, s); }};
}

}  // namespace tutor::distill
