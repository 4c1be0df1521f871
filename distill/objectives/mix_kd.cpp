// MIX-KD: mixup in KD with per-sample std temperatures (Choi, Jeong, Choi, WACV 2023,
// "Understanding the Role of Mixup in Knowledge Distillation"), as hchoi71/MIX-KD (72fab8a)
// distiller_zoo/MIXSTD.py::MIXSTDLoss computes it. Both networks see the same mixed images
// (engine/data/mixing.h partial_mixup); soft_labels are the mixed one-hot targets.
//
//   tau^s_b = std_c(z^s_b), tau^t_b = std_c(z^t_b)     (unbiased; the student's is not detached)
//   L_cls = gamma * (1/B) sum_{b,c} -y~_{b,c} log softmax(z^s_b / tau^s_b)_c
//   L_kd  = alpha * (1/B) sum_b KL( softmax(z^t_b / tau^t_b) || softmax(z^s_b / tau^s_b) )
//   L = L_cls + L_kd        (no T^2 factor; parts "cls" and "kd")
// Defaults gamma = 0.1, alpha = 0.9 (the reference's CIFAR-100 recipe). The CE term is part of
// this objective because it uses the std-scaled logits and the mixed targets; do not add "ce".
// The teacher is a constant.
#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class MixKD : public Objective {
 public:
  explicit MixKD(const Params& p)
      : Objective("mix_kd"), gamma_(p.number("gamma")), alpha_(p.number("alpha")) {}

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& zs = in.at("student.logits");
    const Tensor& zt = in.at("teacher.logits");
    const Tensor& y = in.at("soft_labels");
    check_logit_pair("mix_kd", zs, zt);
    TUTOR_CHECK(y.sizes() == zs.sizes() && y.dtype() == zs.dtype(),
                "objective mix_kd: soft_labels must be {} {} like the logits, got {} {}",
                zs.dtype(), zs.sizes(), y.dtype(), y.sizes());
    TUTOR_CHECK(zs.size(1) >= 2, "objective mix_kd: the std over classes needs C >= 2, got {}",
                zs.sizes());
    Tensor scaled_s = zs / std(zs, {1}, /*unbiased=*/true, /*keepdim=*/true);
    Tensor t = zt.detach();
    Tensor scaled_t = t / std(t, {1}, /*unbiased=*/true, /*keepdim=*/true);
    const double B = double(zs.size(0));
    Tensor cls = (log_softmax(scaled_s, 1) * y).sum() * (-gamma_ / B);
    Tensor kd = kl_batchmean(scaled_s, scaled_t, 1.0) * alpha_;
    return {cls + kd, {{"cls", cls}, {"kd", kd}}};
  }

 private:
  double gamma_, alpha_;
};

}  // namespace

ObjectiveSpec mix_kd_objective() {
  return {"mix_kd",
          "MIX-KD: CE on mixed targets + KL with per-sample std temperatures, on mixed images",
          "hchoi71/MIX-KD distiller_zoo/MIXSTD.py::MIXSTDLoss",
          {{"student.logits", "[B, C] student logits on the mixed images"},
           {"teacher.logits", "[B, C] teacher logits on the same mixed images (constant)"},
           {"soft_labels", "[B, C] mixed one-hot targets (partial_mixup's targets)"}},
          {{"gamma", "0.1", "weight of the std-scaled cross-entropy"},
           {"alpha", "0.9", "weight of the std-scaled KL"}},
          [](const Params& p, const Shapes&) { return std::make_shared<MixKD>(p); }};
}

}  // namespace tutor::distill
