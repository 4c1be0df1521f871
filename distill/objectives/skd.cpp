// SKD: "Streamlined Knowledge Distillation" (Jeong, Lee, Choi; CVPR 2026 per torchdistill's
// docstring, not verifiable here), the two terms of torchdistill losses/mid_level.py
// SKDInstanceLoss and SKDDirectionLoss as one objective (objectives.md §2.19):
//
//   instance  = (1/B) sum_b KL(softmax(z^t_b / T) || softmax(z^s_b / T))      (no T^2)
//   n(z) = z / max(||z||_2, 1e-12) row-wise;  D = n(z^s) n(z^s)^T - n(z^t) n(z^t)^T   [B, B]
//   Sigma = cov(columns of D) + tikhonov * I   (torch.cov(D^T): rows of D are the observations,
//           unbiased, / (B - 1))
//   direction = (1/B) sum_b sqrt(D_b Sigma^-1 D_b^T),  Sigma^-1 = cholesky_inverse(cholesky(Sigma))
//   loss = instance_weight * instance + direction_weight * direction
//
// One objective with both terms, as torchdistill's sample config (ilsvrc2012/skd) uses them: a
// WeightedSumLoss of the two with weights 1 and 1, T = 4, tikhonov = 0.1, and no CE term. Parts
// "instance" and "direction" are the weighted terms (they sum to the loss); a weight of 0 gives
// either term alone. The gradient flows through the covariance and the Cholesky inverse; the
// teacher is a constant. Needs B >= 2 (the covariance divides by B - 1). As in the reference,
// the square root has no finite derivative where a row's distance is 0 (student Gram = teacher
// Gram).
#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class SKD : public Objective {
 public:
  explicit SKD(const Params& p)
      : Objective("skd"),
        T_(p.number("T")),
        tikhonov_(p.number("tikhonov")),
        w_instance_(p.number("instance_weight")),
        w_direction_(p.number("direction_weight")) {
    TUTOR_CHECK(T_ > 0, "objective skd: T must be positive, got {}", T_);
    TUTOR_CHECK(tikhonov_ > 0, "objective skd: tikhonov must be positive, got {}", tikhonov_);
  }

  Result compute(const Inputs& in, const Context&) override {
    Tensor zs = in.at("student.logits"), zt = in.at("teacher.logits").detach();
    check_logit_pair("skd", zs, zt);
    const int64_t B = zs.size(0);
    TUTOR_CHECK(B >= 2, "objective skd: the direction term needs a batch of at least 2, got {}",
                zs.sizes());
    Tensor instance = kl_batchmean(zs, zt, T_) * w_instance_;

    Tensor ns = normalize(zs, 2, 1), nt = normalize(zt, 2, 1);
    Tensor D = matmul(ns, ns.t()) - matmul(nt, nt.t());
    Tensor centered = D - D.mean({0}, /*keepdim=*/true);
    Tensor sigma =
        matmul(centered.t(), centered) / double(B - 1) + eye(B, {}, D.options()) * tikhonov_;
    Tensor inverse = cholesky_inverse(cholesky(sigma));
    Tensor mahalanobis = (matmul(D, inverse) * D).sum({1});
    Tensor direction = sqrt(mahalanobis).mean() * w_direction_;
    return {instance + direction, {{"instance", instance}, {"direction", direction}}};
  }

 private:
  double T_, tikhonov_, w_instance_, w_direction_;
};

}  // namespace

ObjectiveSpec skd_objective() {
  return {"skd",
          "SKD: batchmean KL at T (no T^2) + mean Mahalanobis norm of the Gram difference of "
          "L2-normalized logits (covariance + Tikhonov, Cholesky inverse)",
          "torchdistill losses/mid_level.py SKDInstanceLoss, SKDDirectionLoss (3e4373c)",
          {{"student.logits", "[B, C] student logits (B >= 2)"},
           {"teacher.logits", "[B, C] teacher logits (constant)"}},
          {{"T", "4", "temperature of the instance term"},
           {"tikhonov", "0.1", "lambda added to the covariance's diagonal"},
           {"instance_weight", "1", "weight of the instance (KL) term"},
           {"direction_weight", "1", "weight of the direction (Mahalanobis) term"}},
          [](const Params& p, const Shapes&) { return std::make_shared<SKD>(p); }};
}

}  // namespace tutor::distill
