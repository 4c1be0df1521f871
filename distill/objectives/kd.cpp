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
// "ls_kd" registers LS-KD under its own name: this same class with standardize always on and
// the LS-KD defaults (T 2: the original repo's --base-temp 2 and torchdistill's sample config,
// whose loss is alpha * CE + beta * T^2 * KL, so the KL here keeps T^2; torchdistill's
// LogitStdKDLoss with alpha None returns the bare KL, scale_t2=false).
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
  KD(const std::string& name, double T, bool standardize, bool scale_t2)
      : Objective(name), T_(T), standardize_(standardize), scale_t2_(scale_t2) {
    TUTOR_CHECK(T_ > 0, "objective {}: T must be positive, got {}", name, T_);
  }

  Result compute(const Inputs& in, const Context&) override {
    Tensor zs = in.at("student.logits"), zt = in.at("teacher.logits");
    check_logit_pair(name(), zs, zt);
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
          [](const Params& p, const Shapes&) {
            return std::make_shared<KD>("kd", p.number("T"), p.flag("standardize"),
                                        p.flag("scale_t2"));
          }};
}

ObjectiveSpec ls_kd_objective() {
  return {"ls_kd",
          "LS-KD: KD on standardized logits, (z - mean) / (std + 1e-7) per row, then T^2 * KL",
          "torchdistill LogitStdKDLoss; sunshangquan/logit-standardization-KD KD.py",
          {{"student.logits", "[B, C] student logits"},
           {"teacher.logits", "[B, C] teacher logits (constant)"}},
          {{"T", "2", "base temperature (applied to the standardized logits)"},
           {"scale_t2", "true", "multiply the KL by T^2"}},
          [](const Params& p, const Shapes&) {
            return std::make_shared<KD>("ls_kd", p.number("T"), /*standardize=*/true,
                                        p.flag("scale_t2"));
          }};
}

}  // namespace tutor::distill
