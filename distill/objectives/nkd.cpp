// NKD: normalized knowledge distillation (Yang, Zeng, Li, Zhang, Yuan, Li, ICCV 2023, "From
// Knowledge Distillation to Self-Knowledge Distillation").
//
// With y the label, the target term at temperature 1 and the non-target term at T over the
// C - 1 non-target classes (the target column deleted from both logit rows, then a softmax):
//   L_t  = -(1/B) sum_b sg(softmax(z^t_b)_y) * log_softmax(z^s_b)_y
//   L_nt = -gamma * T^2 * (1/B) sum_b sum_{c != y} q^t_{b,c} log q^s_{b,c},
//          q = softmax(z_{b, c != y} / T)
//   L    = L_t + L_nt
// Source: yzd-v/cls_KD mmcls/models/dis_losses/nkd.py::NKDLoss (1e5d48f), transcribed; both
// terms are cross-entropies with the teacher (value differs from a KL by the teacher's entropy,
// gradient equal). Defaults are the ImageNet ones (T 1, gamma 1.5, the class defaults); the
// CIFAR-100 configs use T 3, gamma 3.5. The reference takes soft / mixed labels to their argmax;
// tutor's labels are class indices. Parts "target" and "non_target" are L_t and L_nt. The
// teacher is a constant.
#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class NKD : public Objective {
 public:
  explicit NKD(const Params& p) : Objective("nkd"), T_(p.number("T")), gamma_(p.number("gamma")) {
    TUTOR_CHECK(T_ > 0, "objective nkd: T must be positive, got {}", T_);
  }

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& zs = in.at("student.logits");
    Tensor zt = in.at("teacher.logits").detach();
    const Tensor& y = in.at("labels");
    check_logit_pair("nkd", zs, zt);
    TUTOR_CHECK(zs.size(1) >= 2, "objective nkd: needs at least 2 classes, got logits {}",
                zs.sizes());
    check_labels("nkd", y, zs.size(0), zs.size(1));
    Tensor label = y.unsqueeze(1);
    Tensor s_target = gather(log_softmax(zs, 1), 1, label);
    Tensor t_target = gather(softmax(zt, 1), 1, label);
    Tensor target = -(t_target * s_target).mean();
    Tensor log_q_s = log_softmax(drop_label_column(zs, y) / T_, 1);
    Tensor q_t = softmax(drop_label_column(zt, y) / T_, 1);
    Tensor non_target = (q_t * log_q_s).sum({1}).mean() * (-gamma_ * T_ * T_);
    return {target + non_target, {{"target", target}, {"non_target", non_target}}};
  }

 private:
  double T_, gamma_;
};

}  // namespace

ObjectiveSpec nkd_objective() {
  return {"nkd",
          "normalized KD: teacher-weighted target CE + gamma T^2 CE over non-target classes",
          "yzd-v/cls_KD mmcls/models/dis_losses/nkd.py::NKDLoss",
          {{"student.logits", "[B, C] student logits"},
           {"teacher.logits", "[B, C] teacher logits (constant)"},
           {"labels", "i64 [B] class indices"}},
          {{"T", "1", "temperature of the non-target term (CIFAR-100 configs: 3)"},
           {"gamma", "1.5", "weight of the non-target term (CIFAR-100 configs: 3.5)"}},
          [](const Params& p, const Shapes&) { return std::make_shared<NKD>(p); }};
}

}  // namespace tutor::distill
