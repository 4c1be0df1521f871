// DIST: knowledge distillation from a stronger teacher by Pearson correlation (Huang, You, Wang,
// Qian, Xu, NeurIPS 2022).
//
// With Y = softmax(z / tau) [B, C] and rho the Pearson correlation of two vectors:
//   inter = 1 - (1/B) sum_b rho(Y^s_{b,:}, Y^t_{b,:})
//   intra = 1 - (1/C) sum_c rho(Y^s_{:,c}, Y^t_{:,c})
//   L     = tau^2 * (beta * inter + gamma * intra)
// Source: hunto/image_classification_sota lib/models/losses/dist_kd.py::DIST (6f7a70a, the
// version with tau), the same formula as torchdistill DISTLoss. Defaults are the official
// ImageNet ones (beta 1, gamma 1, tau 1; recipes weight the term 2 beside CE 1; CIFAR uses tau 4).
// form: eps_on_product (default, the author's code: <a, b> / (||a|| ||b|| + 1e-8)) or
// clamp_norms (torchdistill: F.cosine_similarity, each norm clamped at eps); they differ only
// for near-constant rows or columns, about 1e-5 relative on intra (objectives.md §10).
// intra is a batch statistic: it needs B > 1. Parts "inter" and "intra" are tau^2 * inter and
// tau^2 * intra, before beta and gamma. The teacher is a constant.
#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class DIST : public Objective {
 public:
  explicit DIST(const Params& p)
      : Objective("dist"), beta_(p.number("beta")), gamma_(p.number("gamma")),
        tau_(p.number("tau")), eps_(p.number("eps")),
        form_(parse_pearson_form("dist", p.text("form"))) {
    TUTOR_CHECK(tau_ > 0, "objective dist: tau must be positive, got {}", tau_);
    TUTOR_CHECK(eps_ >= 0, "objective dist: eps must be >= 0, got {}", eps_);
  }

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& zs = in.at("student.logits");
    const Tensor& zt = in.at("teacher.logits");
    check_logit_pair("dist", zs, zt);
    TUTOR_CHECK(zs.size(0) >= 2, "objective dist: the intra-class term needs a batch of at least "
                "2, got logits {}", zs.sizes());
    DistRelations r = dist_relations(zs, zt, tau_, eps_, form_);
    Tensor inter = r.inter * (tau_ * tau_), intra = r.intra * (tau_ * tau_);
    return {inter * beta_ + intra * gamma_, {{"inter", inter}, {"intra", intra}}};
  }

 private:
  double beta_, gamma_, tau_, eps_;
  PearsonForm form_;
};

}  // namespace

ObjectiveSpec dist_objective() {
  return {"dist",
          "DIST: tau^2 (beta (1 - row Pearson) + gamma (1 - column Pearson)) of softmax(z / tau)",
          "hunto/image_classification_sota lib/models/losses/dist_kd.py::DIST; torchdistill DISTLoss",
          {{"student.logits", "[B, C] student logits, B >= 2"},
           {"teacher.logits", "[B, C] teacher logits (constant)"}},
          {{"beta", "1", "weight of the inter-class (per-sample) relation"},
           {"gamma", "1", "weight of the intra-class (per-class, across the batch) relation"},
           {"tau", "1", "temperature"},
           {"eps", "1e-8", "guard of the Pearson denominator"},
           {"form", "eps_on_product", "eps_on_product (author) or clamp_norms (torchdistill)"}},
          [](const Params& p, const Shapes&) { return std::make_shared<DIST>(p); }};
}

}  // namespace tutor::distill
