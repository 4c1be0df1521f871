// LELP: learning embedding linear projections (Loo et al. 2024, arXiv 2409.20449; objectives.md
// §2.14, [unverified]). The offline step (null-space projection of the teacher embeddings, per
// class PCA, pseudo-subclass logits) and its assumptions are in distill/lelp.h.
//
// The student has a C*k-way head (student.logits, column c*k + j = subclass j of class c):
//   kd = T^2 * (1/B) sum_b KL( softmax(z^sub_b / T) || softmax(z^s_b / T) )
//        z^sub = the teacher's pseudo-subclass logits (lelp_subclass_logits), a constant
//   ce = CE( log sum_j softmax(z^s)_(c,j), y ) = CE( logsumexp_j z^s_(c,j), y )
//        (class probabilities as sums of subclass probabilities, Subclass Distillation,
//        Mueller et al. 2020)
//   L  = kd_weight * kd + ce_weight * ce
// The fitted projection lives in the objective's buffers null_projector [D, D], means [C, D],
// directions [C, k, D], scales [C, k] (sized from teacher.logits and teacher.<embedding>): load a
// file written by save_lelp_projection with projection=<path>, or load_state_dict them. Without
// one, compute() is an Error (a fitted projection has every scale > 0).
#include <cstdint>

#include "distill/functional.h"
#include "distill/lelp.h"
#include "distill/objective.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class LELP : public Objective {
 public:
  LELP(const Params& p, const Shapes& shapes)
      : Objective("lelp"), T_(p.number("T")), k_(p.integer("k")),
        embedding_("teacher." + p.text("embedding")), kd_weight_(p.number("kd_weight")),
        ce_weight_(p.number("ce_weight")) {
    TUTOR_CHECK(T_ > 0, "objective lelp: T must be positive, got {}", T_);
    TUTOR_CHECK(k_ >= 1, "objective lelp: k must be >= 1, got {}", k_);
    int64_t C = 0, D = 0;
    if (auto it = shapes.find("teacher.logits"); it != shapes.end() && it->second.size() == 2)
      C = it->second[1];
    if (auto it = shapes.find(embedding_); it != shapes.end() && it->second.size() == 2)
      D = it->second[1];
    LelpProjection init{zeros({D, D}, DType::f64), zeros({C, D}, DType::f64),
                        zeros({C, k_, D}, DType::f64), zeros({C, k_}, DType::f64)};
    if (p.text("projection") != "none") {
      init = load_lelp_projection(p.text("projection"));
      TUTOR_CHECK(init.directions.dim() == 3 && init.directions.size(1) == k_,
                  "objective lelp: projection {} has directions {}, expected k = {}",
                  p.text("projection"), init.directions.sizes(), k_);
    }
    proj_.null_projector = register_buffer("null_projector", init.null_projector);
    proj_.means = register_buffer("means", init.means);
    proj_.directions = register_buffer("directions", init.directions);
    proj_.scales = register_buffer("scales", init.scales);
  }

  std::vector<std::string> inputs() const override {
    return {"student.logits", "teacher.logits", embedding_, "labels"};
  }

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& zs = in.at("student.logits");
    const Tensor& zt = in.at("teacher.logits");
    const Tensor& h = in.at(embedding_);
    TUTOR_CHECK(proj_.scales.numel() > 0 && min(proj_.scales).item<double>() > 0,
                "objective lelp: no fitted projection (scales {}): fit one with lelp_fit and "
                "pass projection=<file> or load the buffers", proj_.scales.sizes());
    const int64_t C = proj_.directions.size(0);
    TUTOR_CHECK(zs.dim() == 2 && zt.dim() == 2 && zs.size(0) == zt.size(0) &&
                    zt.size(1) == C && zs.size(1) == C * k_ && zs.dtype() == zt.dtype() &&
                    is_floating(zs.dtype()),
                "objective lelp: student.logits must be [B, C*k] = [B, {}] and teacher.logits "
                "[B, {}] of one floating dtype, got {} {} and {} {}", C * k_, C, zs.dtype(),
                zs.sizes(), zt.dtype(), zt.sizes());
    const Tensor& y = in.at("labels");
    check_labels("lelp", y, zs.size(0), C);
    Tensor sub = lelp_subclass_logits(proj_, zt, h);
    Tensor kd = kl_batchmean(zs, sub, T_) * (T_ * T_);
    Tensor ce = cross_entropy(class_logits_of_subclasses(zs, k_), y);
    return {kd * kd_weight_ + ce * ce_weight_, {{"kd", kd}, {"ce", ce}}};
  }

 private:
  double T_;
  int64_t k_;
  std::string embedding_;
  double kd_weight_, ce_weight_;
  LelpProjection proj_;
};

}  // namespace

ObjectiveSpec lelp_objective() {
  return {"lelp",
          "LELP (Loo et al. 2024): C*k-way student head vs the teacher's pseudo-subclasses from "
          "null-space PCA of its embeddings (T^2 KD) + CE on summed subclass probabilities",
          "objectives.md §2.14 (paper only; [unverified]; distill/lelp.h states the assumptions)",
          {{"student.logits", "[B, C*k] student subclass-head logits"},
           {"teacher.logits", "[B, C] teacher logits (constant)"},
           {"teacher.pooled", "[B, D] teacher embedding (input of its classifier; tap set by "
                              "'embedding')"},
           {"labels", "[B] class indices"}},
          {{"T", "4", "temperature of the subclass KD"},
           {"k", "2", "pseudo-subclasses per class"},
           {"embedding", "pooled", "teacher tap holding the embedding"},
           {"projection", "none", "safetensors file from save_lelp_projection"},
           {"kd_weight", "1", "weight of the subclass KD"},
           {"ce_weight", "1", "weight of the CE on summed subclass probabilities"}},
          [](const Params& p, const Shapes& s) { return std::make_shared<LELP>(p, s); }};
}

}  // namespace tutor::distill
