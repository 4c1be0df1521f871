// KL+DP: KL distillation with data partitioning between two teachers, for general knowledge
// transfer between pretrained models ("Fantastic Gains and Where to Find Them", Roth et al.
// ICLR 2024; objectives.md §2.17, [unverified]: transcribed from the paper's description).
//
//   teacher  = the external pretrained model (z^t), teacher1 = a frozen copy of the student's
//   initial weights (z^0). Per sample b the target distribution comes from
//     mode=label:      z^t if softmax(z^t_b)[y_b] >= softmax(z^0_b)[y_b], else z^0
//     mode=confidence: z^t if max softmax(z^t_b) >= max softmax(z^0_b), else z^0  (no labels)
//   L = T^2 * (1/B) sum_b KL( softmax(z^sel_b / T) || softmax(z^s_b / T) )
//
// Assumptions (the paper gives no code): the selection compares probabilities at temperature 1;
// ties go to the external teacher; the KL is the batchmean, T^2-scaled KD of kd.cpp; the
// default T = 1 is not from the paper (set T for a softened KL). Both
// teachers are constants. Part "teacher_share": the fraction of samples routed to teacher.
#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class KLDP : public Objective {
 public:
  explicit KLDP(const Params& p) : Objective("kl_dp"), T_(p.number("T")), mode_(p.text("mode")) {
    TUTOR_CHECK(T_ > 0, "objective kl_dp: T must be positive, got {}", T_);
    TUTOR_CHECK(mode_ == "label" || mode_ == "confidence",
                "objective kl_dp: mode must be label or confidence, got {}", mode_);
  }

  std::vector<std::string> inputs() const override {
    std::vector<std::string> names = {"student.logits", "teacher.logits", "teacher1.logits"};
    if (mode_ == "label") names.push_back("labels");
    return names;
  }

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& zs = in.at("student.logits");
    Tensor zt = in.at("teacher.logits").detach(), z0 = in.at("teacher1.logits").detach();
    check_logit_pair("kl_dp", zs, zt);
    check_logit_pair("kl_dp", zs, z0);
    Tensor pt = softmax(zt, 1), p0 = softmax(z0, 1);
    Tensor score_t, score_0;
    if (mode_ == "label") {
      const Tensor& y = in.at("labels");
      check_labels("kl_dp", y, zs.size(0), zs.size(1));
      Tensor idx = y.unsqueeze(1);
      score_t = gather(pt, 1, idx);
      score_0 = gather(p0, 1, idx);
    } else {
      score_t = amax(pt, {1}, true);
      score_0 = amax(p0, {1}, true);
    }
    Tensor use_teacher = ge(score_t, score_0);  // [B, 1]
    Tensor target = where(use_teacher, zt, z0);
    Tensor loss = kl_batchmean(zs, target, T_) * (T_ * T_);
    Tensor share = use_teacher.to(zs.dtype()).mean();
    return {loss, {{"teacher_share", share}}};
  }

 private:
  double T_;
  std::string mode_;
};

}  // namespace

ObjectiveSpec kl_dp_objective() {
  return {"kl_dp",
          "KL+DP (Roth et al. 2024): per-sample KD from the external teacher or the frozen "
          "initial student, whichever is better on the sample",
          "objectives.md §2.17 (paper only; [unverified])",
          {{"student.logits", "[B, C] student logits"},
           {"teacher.logits", "[B, C] external teacher logits (constant)"},
           {"teacher1.logits", "[B, C] logits of the frozen initial student (constant)"},
           {"labels", "[B] class indices (mode=label)", false}},
          {{"T", "1", "temperature"},
           {"mode", "label",
            "label: pick the teacher with the higher true-class probability; confidence: the "
            "one with the higher max probability"}},
          [](const Params& p, const Shapes&) { return std::make_shared<KLDP>(p); }};
}

}  // namespace tutor::distill
