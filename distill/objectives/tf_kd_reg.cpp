// Tf-KD_reg: teacher-free KD with a manually designed teacher (Yuan, Tay, Li, Wang, Feng,
// CVPR 2020, "Revisiting Knowledge Distillation via Label Smoothing Regularization").
//
// With y_b the label, a = correct_prob, T the temperature and m the multiplier:
//   u_{b,c} = a if c == y_b, else (1 - a) / (C - 1)       (the virtual teacher's probabilities)
//   q_b     = softmax(u_b / T)
//   L       = m * (1 / (B C)) * sum_{b,c} q_{b,c} (log q_{b,c} - log_softmax(z^s_b)_c)
//   dL/dz^s_b = (m / (B C)) (softmax(z^s_b) - q_b)
//
// Source: yuanli2333/Teacher-free-Knowledge-Distillation my_loss_function.py::
// loss_kd_regularization (880a74e), transcribed. Details of the reference kept as they are:
//   - T softens the virtual teacher only, and is applied to u, which is already a probability
//     vector (softmax(u / T), not a rescaling of u); the student is taken at temperature 1 and
//     there is no T^2 factor. At the configs' T (10 to 40) q is close to uniform.
//   - The reduction is nn.KLDivLoss()'s default 'mean': the mean over all B * C elements, not
//     'batchmean', so L is 1/C of the per-sample KL; the multiplier compensates in some configs.
//   - correct_prob is the constant 0.99 in the reference; here a parameter with that default.
//   - Defaults T 20, multiplier 100 are the repo's default config
//     (experiments/base_experiments/base_resnet18/params.json: reg_temperature 20, reg_alpha 0.1,
//     multiplier 100). Others: MobileNetV2 T 40, alpha 0.95, m 1; ShuffleNetV2 T 10, alpha 0.95,
//     m 1; GoogLeNet T 40, alpha 0.1, m 50.
// The reference returns (1 - alpha) * CE + alpha * L; here CE is the separate objective "ce" and
// this objective returns L alone. The ResNet-18 recipe is therefore
//   objectives:
//     - {name: ce, weight: 0.9}
//     - {name: tf_kd_reg, weight: 0.1, params: {T: 20, multiplier: 100}}
// The virtual teacher is built from the labels and is a constant.
// Tf-KD's self-teacher form is the objective "kd" (see kd.cpp).
#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class TfKDReg : public Objective {
 public:
  explicit TfKDReg(const Params& p)
      : Objective("tf_kd_reg"),
        T_(p.number("T")),
        correct_prob_(p.number("correct_prob")),
        multiplier_(p.number("multiplier")) {
    TUTOR_CHECK(T_ > 0, "objective tf_kd_reg: T must be positive, got {}", T_);
    TUTOR_CHECK(correct_prob_ >= 0 && correct_prob_ <= 1,
                "objective tf_kd_reg: correct_prob must be in [0, 1], got {}", correct_prob_);
  }

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& z = in.at("student.logits");
    const Tensor& y = in.at("labels");
    TUTOR_CHECK(z.dim() == 2 && is_floating(z.dtype()),
                "objective tf_kd_reg: student.logits must be floating [B, C], got {} {}",
                z.dtype(), z.sizes());
    int64_t C = z.size(1);
    TUTOR_CHECK(C >= 2, "objective tf_kd_reg: needs at least 2 classes, got logits {}",
                z.sizes());
    check_labels("tf_kd_reg", y, z.size(0), C);
    double other = (1 - correct_prob_) / double(C - 1);
    Tensor u = one_hot(y, C).to(z.dtype()) * (correct_prob_ - other) + other;
    Tensor q = softmax(u / T_, 1);
    Tensor loss = kl_div(log_softmax(z, 1), q, Reduction::mean) * multiplier_;
    return {loss, {}};
  }

 private:
  double T_, correct_prob_, multiplier_;
};

}  // namespace

ObjectiveSpec tf_kd_reg_objective() {
  return {"tf_kd_reg",
          "Tf-KD_reg: m * mean-over-B*C KL(softmax(u / T) || softmax(z_s)), u the virtual teacher "
          "(correct_prob on the label, (1 - correct_prob) / (C - 1) elsewhere)",
          "yuanli2333/Teacher-free-Knowledge-Distillation my_loss_function.py::"
          "loss_kd_regularization",
          {{"student.logits", "[B, C] student logits"}, {"labels", "i64 [B] class indices"}},
          {{"T", "20", "temperature of the virtual teacher (softmax(u / T)); student at T = 1"},
           {"correct_prob", "0.99", "the virtual teacher's probability of the label"},
           {"multiplier", "100", "scale of the term (reference configs: 1, 50, 100)"}},
          [](const Params& p, const Shapes&) { return std::make_shared<TfKDReg>(p); }};
}

}  // namespace tutor::distill
