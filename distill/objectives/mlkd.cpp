// MLKD: multi-level logit distillation (Jin, Wang, Lin, CVPR 2023), the distillation terms of
// Jin-Ying/Multi-Level-Logit-Distillation mdistiller/distillers/KD_ours.py (objectives.md §2.5,
// §10). With P = softmax(z / tau) over classes, [B, C]:
//
//   KD_tau(z^s, z^t) = tau^2 * (1/B) sum_b KL(P^t_b || P^s_b)          (per-sample rows k_b)
//   CC_tau = sum_ij (P^t^T P^t - P^s^T P^s)_ij^2 / C                   ([C, C] class Gram)
//   BC_tau = sum_ij (P^t P^t^T - P^s P^s^T)_ij^2 / B                   ([B, B] batch Gram)
//
// over the temperatures {T, 3, 5, 2, 6} (T = 4 on CIFAR gives 2..6). Masks come from the
// teacher's weak-view softmax at temperature 1: conf_b = max_c softmax(z^t_weak)_bc and
// mask_b = conf_b <= median(conf); class_conf_c = sum_b softmax(z^t_weak)_bc and
// cmask_c = class_conf_c <= median(class_conf). The median is numpy's percentile(., 50) with
// linear interpolation (odd and even batches differ), computed on the host.
//
// mode = "faithful" (default), the loss exactly as the code computes it:
//   kd = frac(mask) * sum_tau KD_tau(weak)
//        + KD_T(strong) + KD_3(strong) + KD_5(strong) + KD_2(weak) + KD_6(weak)
//   cc = frac(cmask) * sum_tau CC_tau(weak)
//   bc = frac(mask)  * sum_tau BC_tau(weak)
// The code multiplies scalar losses by the masks and takes the mean, so a mask only rescales
// by the kept fraction; two "strong" terms read the weak-view logits; the strong-view CC and BC
// sums are computed there but never added, so they are absent here.
// mode = "per_sample": the masks select entries instead of rescaling:
//   kd weak part = sum_tau (1/B) sum_b mask_b k_b   (the code's commented-out reduce=False path)
//   cc = sum_tau sum_ij cmask_j (dG_tau)_ij^2 / C,   bc = sum_tau sum_ij mask_j (dG_tau)_ij^2 / B
// (the Grams are symmetric, so masking columns equals masking rows). The Gram terms keep the
// faithful mode's normalization; the code's reduce=False path would also divide them by C^2
// and B^2 through its mean. Everything else equals the faithful mode.
//
// loss = kd + cc + bc, parts "kd", "cc", "bc". The code's KD_WEIGHT multiplies all three and
// is the recipe's weight on this objective (CIFAR 0.9). The cross-entropy terms of the code,
// CE_WEIGHT * (CE(weak) + CE(strong)), are NOT part of this objective: recipes add "ce" on
// each view. The teacher is a constant; the masks carry no gradient.
#include <algorithm>
#include <cmath>

#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

// numpy.percentile(values, 50) with its default linear interpolation.
double numpy_median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const double pos = 0.5 * double(v.size() - 1);
  const size_t lo = size_t(std::floor(pos)), hi = size_t(std::ceil(pos));
  const double t = pos - double(lo), a = v[lo], b = v[hi];
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;  // numpy's _lerp
}

// 1 where values <= their median, else 0, in `like`'s dtype.
Tensor median_mask(const Tensor& values, const Tensor& like) {
  std::vector<double> v = values.to(DType::f64).to_vector<double>();
  const double thresh = numpy_median(v);
  std::vector<double> m(v.size());
  for (size_t i = 0; i < v.size(); ++i) m[i] = v[i] <= thresh ? 1.0 : 0.0;
  return from_vector(m, {int64_t(m.size())}, TensorOptions(DType::f64)).to(like.dtype());
}

Tensor kd_rows(const Tensor& zs, const Tensor& zt, double tau) {
  Tensor kl = kl_div(log_softmax(zs / tau, 1), log_softmax(zt / tau, 1), Reduction::none,
                     /*log_target=*/true);
  return kl.sum({1}) * (tau * tau);
}

// (G^t - G^s)^2 / n with G = P^T P (class Gram, n = C) or P P^T (batch Gram, n = B).
Tensor gram_gap(const Tensor& zs, const Tensor& zt, double tau, bool classes) {
  Tensor ps = softmax(zs / tau, 1), pt = softmax(zt / tau, 1);
  Tensor gs = classes ? matmul(ps.t(), ps) : matmul(ps, ps.t());
  Tensor gt = classes ? matmul(pt.t(), pt) : matmul(pt, pt.t());
  return square(gt - gs) / double(classes ? zs.size(1) : zs.size(0));
}

class MLKD : public Objective {
 public:
  explicit MLKD(const Params& p) : Objective("mlkd"), T_(p.number("T")), mode_(p.text("mode")) {
    TUTOR_CHECK(T_ > 0, "objective mlkd: T must be positive, got {}", T_);
    TUTOR_CHECK(mode_ == "faithful" || mode_ == "per_sample",
                "objective mlkd: mode must be 'faithful' or 'per_sample', got '{}'", mode_);
  }

  Result compute(const Inputs& in, const Context&) override {
    Tensor zs = in.at("student.logits"), zt = in.at("teacher.logits").detach();
    Tensor ss = in.at("student.logits_strong"), st = in.at("teacher.logits_strong").detach();
    check_logit_pair("mlkd", zs, zt);
    check_logit_pair("mlkd", ss, st);
    TUTOR_CHECK(zs.sizes() == ss.sizes() && zs.dtype() == ss.dtype(),
                "objective mlkd: weak and strong views must match, got {} {} and {} {}", zs.dtype(),
                zs.sizes(), ss.dtype(), ss.sizes());

    Tensor pt = softmax(zt, 1);
    Tensor mask = median_mask(amax(pt, {1}), zs), cmask = median_mask(pt.sum({0}), zs);
    const bool faithful = mode_ == "faithful";
    const double temps[5] = {T_, 3, 5, 2, 6};

    Tensor kd_weak, cc, bc;
    for (double tau : temps) {
      Tensor k = kd_rows(zs, zt, tau);
      Tensor c = gram_gap(zs, zt, tau, /*classes=*/true);
      Tensor b = gram_gap(zs, zt, tau, /*classes=*/false);
      if (!faithful) {
        k = k * mask;
        c = c * cmask.unsqueeze(0);
        b = b * mask.unsqueeze(0);
      }
      kd_weak = kd_weak.defined() ? kd_weak + k.mean() : k.mean();
      cc = cc.defined() ? cc + c.sum() : c.sum();
      bc = bc.defined() ? bc + b.sum() : b.sum();
    }
    if (faithful) {
      kd_weak = kd_weak * mask.mean();
      cc = cc * cmask.mean();
      bc = bc * mask.mean();
    }
    Tensor kd_strong = kd_rows(ss, st, T_).mean() + kd_rows(ss, st, 3).mean() +
                       kd_rows(ss, st, 5).mean() + kd_rows(zs, zt, 2).mean() +
                       kd_rows(zs, zt, 6).mean();
    Tensor kd = kd_weak + kd_strong;
    return {kd + cc + bc, {{"kd", kd}, {"cc", cc}, {"bc", bc}}};
  }

 private:
  double T_;
  std::string mode_;
};

}  // namespace

ObjectiveSpec mlkd_objective() {
  return {"mlkd",
          "MLKD: multi-temperature KD + class (CxC) and batch (BxB) Gram matching on weak and "
          "strong views, median-confidence masks; CE not included",
          "Jin-Ying/Multi-Level-Logit-Distillation mdistiller/distillers/KD_ours.py (6327e73)",
          {{"student.logits", "[B, C] student logits, weak view"},
           {"teacher.logits", "[B, C] teacher logits, weak view (constant)"},
           {"student.logits_strong", "[B, C] student logits, strong view"},
           {"teacher.logits_strong", "[B, C] teacher logits, strong view (constant)"}},
          {{"T", "4", "configured temperature; the others are 3, 5, 2, 6"},
           {"mode", "faithful",
            "faithful: the code's fraction-rescaled masks; per_sample: masks select samples/"
            "classes"}},
          [](const Params& p, const Shapes&) { return std::make_shared<MLKD>(p); }};
}

}  // namespace tutor::distill
