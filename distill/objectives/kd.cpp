// KD: knowledge distillation with soft targets (Hinton, Vinyals, Dean 2015).
//
//   L_KD = T^2 * (1/B) * sum_b KL( softmax(z^t_b / T) || softmax(z^s_b / T) )
//   dL/dz^s_b = (T / B) * (softmax(z^s_b / T) - softmax(z^t_b / T))
//
// Reduction "batchmean" with the T^2 factor, as mdistiller (KD.py::kd_loss), RepDistiller
// (DistillKL) and torchdistill (KDLoss, when alpha > 0) compute it; the CE term on the labels is
// the separate objective "ce". Options:
//   standardize  LS-KD (Sun et al. 2024; sunshangquan/logit-standardization-KD KD.py): both
//                logit rows become (z - mean) / (std + 1e-7) (unbiased std) before dividing by T;
//                the gradient flows through the student's mean and std.
//   scale_t2     multiply by T^2 (default); torchdistill drops it when alpha is 0 or None.
// Tf-KD (Yuan et al. 2020) in its self-teacher form is this loss with a pretrained copy of the
// student as the teacher, a recipe choice rather than a different formula.
// The teacher is a constant: no gradient reaches teacher.logits.
#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class KD : public Objective {
 public:
  explicit KD(const Params& p)
      : Objective("kd"), T_(p.number("T")), standardize_(p.flag("standardize")),
        scale_t2_(p.flag("scale_t2")) {
    TUTOR_CHECK(T_ > 0, "objective kd: T must be positive, got {}", T_);
  }

  Result compute(const Inputs& in, const Context&) override {
    Tensor zs = in.at("student.logits"), zt = in.at("teacher.logits");
    check_logit_pair("kd", zs, zt);
    if (standardize_) {
      zs = standardize_logits(zs);
      zt = standardize_logits(zt.detach());
    }
    Tensor loss = kl_batchmean(zs, zt, T_);
    if (scale_t2_) loss = loss * (T_ * T_);
    return {loss, {}};
  }

 private:
  double T_;
  bool standardize_, scale_t2_;
};

}  // namespace

ObjectiveSpec kd_objective() {
  return {"kd",
          "Hinton KD: T^2 * batchmean KL(softmax(z_t/T) || softmax(z_s/T)); LS-KD option",
          "mdistiller distillers/KD.py::kd_loss; torchdistill KDLoss; LS-KD KD.py",
          {{"student.logits", "[B, C] student logits"},
           {"teacher.logits", "[B, C] teacher logits (constant)"}},
          {{"T", "4", "temperature"},
           {"standardize", "false", "LS-KD: standardize each logit row before dividing by T"},
           {"scale_t2", "true", "multiply the KL by T^2"}},
          [](const Params& p, const Shapes&) { return std::make_shared<KD>(p); }};
}

}  // namespace tutor::distill
