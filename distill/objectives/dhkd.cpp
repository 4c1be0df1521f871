// DHKD: dual-head knowledge distillation with the BinaryKL-Norm loss (Yang et al. 2024,
// "Dual-Head Knowledge Distillation"), as penghui-yang/DHKD (c088f51) computes it.
//
// The student has two heads on its penultimate feature h = student.pooled [B, d]: the main head
// (the model's own fc, trained by the separate objective "ce") and an auxiliary head fc2 that
// this objective owns and that only the teacher teaches:
//   z2 = fc2(h)       head=linear: Linear(d, C)                       (models/resnet.py fc2)
//                     head=mlp:    Linear(d, 200) - Dropout(0.1) - BatchNorm1d(200) - ReLU -
//                                  Linear(200, C)        (models/classifier.py NonLinearClassifier)
//   L = alpha * T^2 * (1/B) * sum_{b,c} l_{b,c}
// loss=binary_kl_norm (default; distiller_zoo/BinaryKLNorm.py):
//   s = clamp(sigmoid((z2 - z^t) / T), eps, 1 - eps)
//   l = 1/2 (log(1/2) - log s) + 1/2 (log(1/2) - log(1 - s))   (KL of Bernoulli(1/2) from
//                                                               Bernoulli(s), per class)
// loss=binary_kl (distiller_zoo/BinaryKL.py):
//   s = clamp(sigmoid(z2 / T), eps, 1 - eps), t = clamp(sigmoid(z^t / T), eps, 1 - eps)
//   l = t (log t - log s) + (1 - t) (log(1 - t) - log(1 - s))
// Defaults T = 2, eps = 1e-8 (the reference's), alpha = 1 (its CIFAR recipe; ImageNet uses 0.1
// with the linear head). The clamp stops the gradient where it is active, as torch.clamp.
// The head's parameter names are the reference student's: fc2.weight, fc2.bias for the linear
// head; fc2.net.{0,2,4}.* for the MLP (BatchNorm1d in train mode uses the batch's statistics).
// Gradient alignment (the reference's --ga) is a training-step procedure over two losses, not
// part of this loss: distill/gradient_alignment.h.
#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/nn/nn.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

// models/classifier.py NonLinearClassifier: a child "net" so the names read fc2.net.0.weight.
std::shared_ptr<nn::Module> mlp_head(int64_t d, int64_t hidden, int64_t classes, double p) {
  auto head = std::make_shared<nn::Sequential>();
  head->push_back(std::make_shared<nn::Linear>(d, hidden));
  head->push_back(std::make_shared<nn::Dropout>(p));
  head->push_back(std::make_shared<nn::BatchNorm1d>(hidden));
  head->push_back(std::make_shared<nn::ReLU>());
  head->push_back(std::make_shared<nn::Linear>(hidden, classes));
  auto wrapper = std::make_shared<nn::Sequential>(nn::NamedModules{{"net", head}});
  return wrapper;
}

// sum over all elements of t (log t - log s) + (1 - t) (log(1 - t) - log(1 - s)), with
// s already clamped; t is a constant (a tensor or the scalar 1/2).
Tensor binary_kl_sum(const Tensor& s, const Tensor& t) {
  Tensor one_minus_t = 1.0 - t;
  return (t * (log(t) - log(s)) + one_minus_t * (log(one_minus_t) - log(1.0 - s))).sum();
}

class DHKD : public Objective {
 public:
  DHKD(const Params& p, const Shapes& shapes)
      : Objective("dhkd"), T_(p.number("T")), alpha_(p.number("alpha")), eps_(p.number("eps")),
        head_(p.text("head")), loss_(p.text("loss")) {
    TUTOR_CHECK(T_ > 0, "objective dhkd: T must be positive, got {}", T_);
    TUTOR_CHECK(eps_ >= 0 && eps_ < 0.5, "objective dhkd: eps must be in [0, 0.5), got {}", eps_);
    TUTOR_CHECK(head_ == "linear" || head_ == "mlp",
                "objective dhkd: head must be linear or mlp, got '{}'", head_);
    TUTOR_CHECK(loss_ == "binary_kl_norm" || loss_ == "binary_kl",
                "objective dhkd: loss must be binary_kl_norm or binary_kl, got '{}'", loss_);
    const double dropout = p.number("dropout");
    TUTOR_CHECK(dropout >= 0 && dropout < 1, "objective dhkd: dropout must be in [0, 1), got {}",
                dropout);
    const int64_t hidden = p.integer("hidden");
    TUTOR_CHECK(hidden > 0, "objective dhkd: hidden must be positive, got {}", hidden);
    features_ = size_from_shapes("dhkd", shapes, "student.pooled", 1, p.integer("features"),
                                 "features");
    classes_ = size_from_shapes("dhkd", shapes, "teacher.logits", 1, p.integer("classes"),
                                "classes");
    if (features_ == 0 || classes_ == 0) return;  // built once the sizes are known: see compute
    if (head_ == "linear")
      fc2_ = register_module("fc2", std::make_shared<nn::Linear>(features_, classes_));
    else
      fc2_ = register_module("fc2", mlp_head(features_, hidden, classes_, dropout));
  }

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& h = in.at("student.pooled");
    const Tensor& zt = in.at("teacher.logits");
    TUTOR_CHECK(fc2_ != nullptr,
                "objective dhkd: the head's sizes are unknown; build it with the input shapes "
                "or set features and classes");
    TUTOR_CHECK(h.dim() == 2 && h.size(1) == features_ && zt.dim() == 2 &&
                    zt.size(1) == classes_ && h.size(0) == zt.size(0),
                "objective dhkd: student.pooled must be [B, {}] and teacher.logits [B, {}], got "
                "{} and {}",
                features_, classes_, h.sizes(), zt.sizes());
    Tensor z2 = (*fc2_)(h);
    Tensor t = zt.detach();
    Tensor sum;
    if (loss_ == "binary_kl_norm") {
      Tensor s = clamp(sigmoid((z2 - t) / T_), eps_, 1 - eps_);
      sum = binary_kl_sum(s, full_like(s, 0.5));
    } else {
      Tensor s = clamp(sigmoid(z2 / T_), eps_, 1 - eps_);
      sum = binary_kl_sum(s, clamp(sigmoid(t / T_), eps_, 1 - eps_));
    }
    Tensor bkl = sum * (T_ * T_ / double(h.size(0)));
    return {bkl * alpha_, {{loss_, bkl}}};
  }

 private:
  double T_, alpha_, eps_;
  std::string head_, loss_;
  int64_t features_ = 0, classes_ = 0;
  std::shared_ptr<nn::Module> fc2_;
};

}  // namespace

ObjectiveSpec dhkd_objective() {
  return {"dhkd",
          "DHKD: alpha * BinaryKL-Norm of an auxiliary head on the pooled feature vs the teacher",
          "penghui-yang/DHKD distiller_zoo/BinaryKLNorm.py, BinaryKL.py, models/classifier.py",
          {{"student.pooled", "[B, d] student penultimate feature (input of its fc)"},
           {"teacher.logits", "[B, C] teacher logits (constant)"}},
          {{"T", "2", "temperature"},
           {"alpha", "1", "weight of the loss (the reference's --alpha)"},
           {"head", "mlp", "auxiliary head: linear | mlp"},
           {"loss", "binary_kl_norm", "binary_kl_norm | binary_kl"},
           {"hidden", "200", "hidden width of the mlp head"},
           {"dropout", "0.1", "dropout of the mlp head"},
           {"eps", "1e-8", "clamp of the sigmoids to [eps, 1 - eps]"},
           {"features", "0", "d (0: from the shape of student.pooled)"},
           {"classes", "0", "C (0: from the shape of teacher.logits)"}},
          [](const Params& p, const Shapes& s) { return std::make_shared<DHKD>(p, s); }};
}

}  // namespace tutor::distill
