// WKD-L: discrete Wasserstein distillation of logits with Sinkhorn (Lv, Yang, Li, NeurIPS 2024),
// as JiamingLv/WKD mdistiller/distillers/WKD.py computes it (wkd_logit_loss_with_speration,
// wkd_logit_loss, sinkhorn; objectives.md §2.8):
//
//   L_t  = -(1/B) sum_b sg(softmax(z^t_b)_y) log softmax(z^s_b)_y              (NKD target, T=1)
//   drop the label column from both logit rows and the label row and column from
//   M' = relu(M) + 1e-8 (M the constant [C, C] category cost matrix) -> M_b [C-1, C-1];
//   a = softmax(zbar^s_b / T), c = softmax(zbar^t_b / T), K = exp(-M_b / lambda),
//   u = 1/(C-1); `iterations` times: v = c / (K^T u + 1e-8), u = a / (K v + 1e-8);
//   Pi = diag(u) K diag(v);  WD_b = sum_ij Pi_ij (M_b)_ij
//   L = L_t + gamma_e * (1/B) sum_b WD_b
// with the cosine decay of the reference distiller: gamma_e = gamma for e <= e0, else
// gamma_e = gamma/2 * (1 + cos(pi (e - e0) / (E - e0))), where e = Context::epoch + 1 (mdistiller
// counts epochs from 1) and E = Context::epochs.
//
// Defaults are the CIFAR res32x4 -> res8x4 config: gamma = 600, T = 8, lambda = 0.05,
// 10 iterations, e0 = 150 (ImageNet R34 -> R18: gamma = 30, T = 2, e0 = 0). The gradient flows
// through every unrolled Sinkhorn iteration into the student marginal a (the plan is not
// detached); the teacher and the cost matrix are constants. Row marginal = student, column
// marginal = teacher. The reference casts the probabilities to f32 under autocast; here they stay
// in the inputs' dtype. Plain-domain Sinkhorn as in the reference: exp(-M/lambda) underflows for
// costs far above 1 (the CKA cost matrix lies in [0, 1)). Parts: "target" = L_t and
// "wasserstein" = gamma_e * mean WD (they sum to the loss). The CE term is the separate "ce".
// The cost matrix comes from distill/cost_matrix.h (cka_cost_matrix), built offline.
#include <cmath>

#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class WKDL : public Objective {
 public:
  explicit WKDL(const Params& p)
      : Objective("wkd_l"),
        gamma_(p.number("gamma")),
        T_(p.number("T")),
        lambda_(p.number("lambda")),
        iterations_(p.integer("iterations")),
        e0_(p.integer("e0")) {
    TUTOR_CHECK(T_ > 0, "objective wkd_l: T must be positive, got {}", T_);
    TUTOR_CHECK(lambda_ > 0, "objective wkd_l: lambda must be positive, got {}", lambda_);
    TUTOR_CHECK(iterations_ >= 1, "objective wkd_l: iterations must be >= 1, got {}", iterations_);
  }

  Result compute(const Inputs& in, const Context& ctx) override {
    Tensor zs = in.at("student.logits"), zt = in.at("teacher.logits").detach();
    check_logit_pair("wkd_l", zs, zt);
    const int64_t B = zs.size(0), C = zs.size(1);
    TUTOR_CHECK(C >= 2, "objective wkd_l: needs at least 2 classes, got logits {}", zs.sizes());
    Tensor labels = in.at("labels");
    check_labels("wkd_l", labels, B, C);
    Tensor M = in.at("cost_matrix").detach();
    TUTOR_CHECK(M.dim() == 2 && M.size(0) == C && M.size(1) == C && M.dtype() == zs.dtype(),
                "objective wkd_l: cost_matrix must be {} [{}, {}] like the logits {}, got {} {}",
                zs.dtype(), C, C, zs.sizes(), M.dtype(), M.sizes());

    Tensor target = target_class_term(zs, zt, labels);

    const int64_t n = C - 1;
    Tensor idx = non_target_indices(labels, C);
    Tensor a = softmax(drop_label_column(zs, labels) / T_, 1).unsqueeze(2);  // [B, n, 1]
    Tensor c = softmax(drop_label_column(zt, labels) / T_, 1).unsqueeze(2);
    Tensor cost = index_select(relu(M) + 1e-8, 0, idx.flatten()).view({B, n, C});
    cost = gather(cost, 2, idx.unsqueeze(1).expand({B, n, n}).contiguous());  // [B, n, n]
    Tensor K = exp(cost / -lambda_), Kt = K.transpose(1, 2);
    Tensor u = full({B, n, 1}, 1.0 / double(n), TensorOptions(zs.dtype())), v;
    for (int64_t i = 0; i < iterations_; ++i) {
      v = c / (bmm(Kt, u) + 1e-8);
      u = a / (bmm(K, v) + 1e-8);
    }
    Tensor plan = u * K * v.transpose(1, 2);
    Tensor wd = (plan * cost).sum({1, 2}).mean();
    Tensor wasserstein = wd * weight(ctx);
    return {target + wasserstein, {{"target", target}, {"wasserstein", wasserstein}}};
  }

 private:
  double weight(const Context& ctx) const {
    const int64_t e = ctx.epoch + 1;
    if (e <= e0_) return gamma_;
    TUTOR_CHECK(ctx.epochs > e0_, "objective wkd_l: e0 = {} must be below the run's {} epochs", e0_,
                ctx.epochs);
    const double pi = std::acos(-1.0);
    return 0.5 * gamma_ * (1 + std::cos(pi * double(e - e0_) / double(ctx.epochs - e0_)));
  }

  double gamma_, T_, lambda_;
  int64_t iterations_, e0_;
};

}  // namespace

ObjectiveSpec wkd_l_objective() {
  return {"wkd_l",
          "WKD-L: NKD target term + gamma_e * Sinkhorn Wasserstein distance between non-target "
          "distributions under a category cost matrix",
          "JiamingLv/WKD mdistiller/distillers/WKD.py::wkd_logit_loss_with_speration, sinkhorn",
          {{"student.logits", "[B, C] student logits"},
           {"teacher.logits", "[B, C] teacher logits (constant)"},
           {"labels", "[B] class indices"},
           {"cost_matrix", "[C, C] category cost matrix (constant; distill/cost_matrix.h)"}},
          {{"gamma", "600", "weight of the Wasserstein term before the decay"},
           {"T", "8", "temperature of the non-target distributions"},
           {"lambda", "0.05", "Sinkhorn entropic regularization: K = exp(-M / lambda)"},
           {"iterations", "10", "Sinkhorn iterations (all unrolled in the gradient)"},
           {"e0", "150", "1-based epoch after which gamma decays by a cosine to 0 at the end"}},
          [](const Params& p, const Shapes&) { return std::make_shared<WKDL>(p); }};
}

}  // namespace tutor::distill
