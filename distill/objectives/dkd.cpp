// DKD: decoupled knowledge distillation (Zhao, Cui, Song, Qiu, Liang, CVPR 2022).
//
// With p = softmax(z / T), y the label and b = [p_y, 1 - p_y] the binary target / non-target
// masses, p^ = softmax over the C - 1 non-target classes of z / T:
//   TCKD = (T^2 / B) sum_b KL(b^t_b || b^s_b)
//   NCKD = (T^2 / B) sum_b KL(p^t_b || p^s_b)             (over the non-target classes)
//   L    = min(e / warmup, 1) * (alpha * TCKD + beta * NCKD)
// Source: mdistiller distillers/DKD.py::dkd_loss and DKD.forward_train (a08d46f); defaults are
// its CIFAR ones (alpha 1, beta 8, T 4, warmup 20; ImageNet uses T 1, beta 0.5, warmup 1). The
// CE term is the separate objective "ce".
//
// Epochs: mdistiller numbers epochs from 1 (trainer.py: `epoch = 1 ... while epoch < EPOCHS + 1`)
// and passes that number to the warm-up, so its first epoch is weighted 1/warmup. tutor's
// Context::epoch is 0-based, so e = ctx.epoch + 1: the same factor on the same epoch of the run.
// warmup = 0 means no warm-up (factor 1).
//
// Differences from mdistiller, both in the numerics only (objectives.md §2.2 pitfalls, §10):
//   - TCKD's log masses are computed in log space: log b_y = log_softmax(z / T)_y and
//     log b_other = logsumexp over c != y of z / T minus logsumexp over all c; mdistiller takes
//     log of the summed probabilities, which is -inf in f32 once the student is confident (a
//     non-target mass below ~1e-38).
//   - the non-target softmax drops the target column exactly; mdistiller subtracts 1000 from the
//     target logit after dividing by T, which leaves exp(-1000 + ...) behind only when a logit
//     gap exceeds ~1000 * T - 745. On ordinary inputs both agree to rounding (the fixtures).
// Parts "tckd" and "nckd" are the two terms above before alpha, beta and the warm-up factor.
// The teacher is a constant.
#include <algorithm>

#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

// log [p_y, sum_{c != y} p_c] per row of z [B, C]: [B, 2].
Tensor binary_log_masses(const Tensor& z, const Tensor& labels) {
  Tensor log_all = logsumexp(z, {1}, /*keepdim=*/true);
  Tensor log_target = gather(z, 1, labels.unsqueeze(1)) - log_all;
  Tensor log_other = logsumexp(drop_label_column(z, labels), {1}, /*keepdim=*/true) - log_all;
  return cat({log_target, log_other}, 1);
}

class DKD : public Objective {
 public:
  explicit DKD(const Params& p)
      : Objective("dkd"), alpha_(p.number("alpha")), beta_(p.number("beta")), T_(p.number("T")),
        warmup_(p.number("warmup")) {
    TUTOR_CHECK(T_ > 0, "objective dkd: T must be positive, got {}", T_);
    TUTOR_CHECK(warmup_ >= 0, "objective dkd: warmup must be >= 0 epochs, got {}", warmup_);
  }

  Result compute(const Inputs& in, const Context& ctx) override {
    const Tensor& zs = in.at("student.logits");
    const Tensor& zt = in.at("teacher.logits");
    const Tensor& y = in.at("labels");
    check_logit_pair("dkd", zs, zt);
    TUTOR_CHECK(zs.size(1) >= 2, "objective dkd: needs at least 2 classes, got logits {}",
                zs.sizes());
    check_labels("dkd", y, zs.size(0), zs.size(1));
    Tensor s = zs / T_, t = zt.detach() / T_;
    Tensor tckd = kl_div(binary_log_masses(s, y), binary_log_masses(t, y), Reduction::batchmean,
                         /*log_target=*/true) * (T_ * T_);
    Tensor nckd = kl_div(log_softmax(drop_label_column(s, y), 1),
                         log_softmax(drop_label_column(t, y), 1), Reduction::batchmean,
                         /*log_target=*/true) * (T_ * T_);
    double factor =
        warmup_ == 0 ? 1.0 : std::min(double(ctx.epoch + 1) / warmup_, 1.0);
    Tensor loss = (tckd * alpha_ + nckd * beta_) * factor;
    return {loss, {{"tckd", tckd}, {"nckd", nckd}}};
  }

 private:
  double alpha_, beta_, T_, warmup_;
};

}  // namespace

ObjectiveSpec dkd_objective() {
  return {"dkd",
          "decoupled KD: warm-up * (alpha * TCKD + beta * NCKD), target / non-target split",
          "mdistiller distillers/DKD.py::dkd_loss",
          {{"student.logits", "[B, C] student logits"},
           {"teacher.logits", "[B, C] teacher logits (constant)"},
           {"labels", "i64 [B] class indices"}},
          {{"alpha", "1", "weight of TCKD (target vs non-target mass)"},
           {"beta", "8", "weight of NCKD (distribution over non-target classes)"},
           {"T", "4", "temperature"},
           {"warmup", "20", "epochs over which the DKD term ramps linearly to full weight"}},
          [](const Params& p, const Shapes&) { return std::make_shared<DKD>(p); }};
}

}  // namespace tutor::distill
