// TGeo-KD: a sample-wise fusion ratio learned from the trilateral geometry of student, teacher
// and ground truth (Hu, Wu, Li, Ma, Chen, Wang, Yan, Liu, ICLR 2024, "Less or More From Teacher:
// Exploiting Trilateral Geometry For Knowledge Distillation", arXiv 2312.15112).
//
// The catalog (objectives.md §2.11) found no code; the authors' repository Chengming0501/TGeo-KD
// exists, and this file follows its image-classification path, cifar100/ at 9f8f2bc:
// lib/models/reweighting.py (the fusion network and its input), lib/losses/kd_loss.py (the
// loss), lib/trainer.py (the class means, `precompute`, and the training step).
//
//   s_i = softmax(z^s_i), t_i = softmax(z^t_i), g_i = onehot(y_i), m_i = tbar_{y_i}   (T = 1)
//   r_i = [s, t, m, g, |s - g|, |s - t|, |s - m|, (g - m) * (g - s), (g - t) * (g - s)]  (9C)
//         intra-sample relations of the triangle (S, T, G) and inter-sample relations with the
//         teacher's class-mean prediction tbar_c = mean of t_j over samples j of class c
//   alpha_i = sigmoid(W2 relu(W1 r_i + b1) + b2)         the module "reweighting":
//             Linear(9C, hidden=128) - ReLU - Linear(hidden, 1) - Sigmoid
//   L = (1/B) sum_i [ (1 - alpha_i) CE(z^s_i, y_i) + alpha_i KL_i ]
//   KL_i = sum_c KL(softmax(z^t_i / T) || softmax(z^s_i / T))   (no T^2 unless scale_t2)
// Defaults: T = 1 (the repository's --temperature), hidden = 128, scale_t2 = false (the tabular
// variant src/fusion_ratio_bilevel.py multiplies the KL by T^2).
// broadcast = true reproduces the repository's CIFAR loss as it runs: its alpha is [B, 1] and
// broadcasts against the [B] losses, so the mean is over B x B products,
//   L = mean_i(1 - alpha_i) * mean_j CE_j + mean_i alpha_i * mean_j KL_j,
// which fuses the batch averages instead of each sample's terms; the default is the paper's
// per-sample fusion (as the tabular script, which squeezes alpha to [B]).
//
// What is assumed, and where the code and the paper part ways:
// - tbar: the repository computes it once before training over a held-out loader with the
//   teacher's softmax at T = 1 (trainer.py::precompute). Here it is a buffer pair class_sum
//   [C, C] and class_count [C], updated without grad from every batch in training mode
//   (update_class_mean = true) *before* it is used, so tbar is the running mean of all teacher
//   predictions seen so far; a class never seen has tbar = 0. For the repository's fixed means,
//   load class_sum / class_count (or run one pass over the held-out data in training mode) and
//   set update_class_mean = false. Evaluation mode never updates.
// - Gradient, ratio_grad = true (default): as the repository's CIFAR code, alpha and the student
//   probabilities inside r carry gradient, so this loss trains the fusion network together with
//   the student, by the student's optimizer (single level). ratio_grad = false is the paper's
//   lower-level step (as src/fusion_ratio_bilevel.py): r and alpha are computed without grad and
//   alpha is a constant of the student's loss, so the fusion network gets no gradient here.
// - bilevel = true is the paper's training (as src/fusion_ratio_bilevel.py's lower level, and
//   ratio_grad = false implied): r is a constant, alpha keeps the fusion network's graph, and
//   the fusion network's parameters are outer parameters (Objective::outer_parameters), which the
//   student's optimizer does not step. The Distiller's bilevel_backward (distill/bilevel.h) then
//   trains them per step on a held-out batch (a recipe's data.held_out) by the exact
//   hypergradient of the student's held-out cross-entropy after a one-step look-ahead,
//   theta' = theta - lr * d L / d theta. The tabular script's own upper level calls backward on
//   a validation CE that does not depend on phi (the student's output only), so its controller
//   never receives a gradient; that step is not reproduced. The repository has no first-order
//   approximation to offer as an option; DARTS's first-order one (theta' = theta) would give phi
//   no gradient at all here, since the held-out CE does not read alpha.
#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/autograd/grad_mode.h"
#include "engine/nn/nn.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class TGeoKD : public Objective {
 public:
  TGeoKD(const Params& p, const Shapes& shapes)
      : Objective("tgeo_kd"), T_(p.number("T")), scale_t2_(p.flag("scale_t2")),
        bilevel_(p.flag("bilevel")), ratio_grad_(p.flag("ratio_grad") && !bilevel_),
        update_(p.flag("update_class_mean")), broadcast_(p.flag("broadcast")) {
    TUTOR_CHECK(T_ > 0, "objective tgeo_kd: T must be positive, got {}", T_);
    TUTOR_CHECK(!bilevel_ || !p.given().count("ratio_grad") || !p.flag("ratio_grad"),
                "objective tgeo_kd: bilevel = true trains the fusion network by the outer step "
                "alone, so ratio_grad must be false (it is implied), got ratio_grad = true");
    const int64_t hidden = p.integer("hidden");
    TUTOR_CHECK(hidden > 0, "objective tgeo_kd: hidden must be positive, got {}", hidden);
    classes_ = size_from_shapes("tgeo_kd", shapes, "student.logits", 1, p.integer("classes"),
                                "classes");
    if (classes_ == 0) return;
    reweighting_ = register_module(
        "reweighting", std::make_shared<nn::Sequential>(std::initializer_list<nn::ModulePtr>{
                           std::make_shared<nn::Linear>(9 * classes_, hidden),
                           std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(hidden, 1),
                           std::make_shared<nn::Sigmoid>()}));
    class_sum_ = register_buffer("class_sum", zeros({classes_, classes_}));
    class_count_ = register_buffer("class_count", zeros({classes_}));
  }

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& zs = in.at("student.logits");
    const Tensor& zt_in = in.at("teacher.logits");
    const Tensor& y = in.at("labels");
    check_logit_pair("tgeo_kd", zs, zt_in);
    TUTOR_CHECK(reweighting_ != nullptr,
                "objective tgeo_kd: the number of classes is unknown; build it with the input "
                "shapes or set classes");
    TUTOR_CHECK(zs.size(1) == classes_, "objective tgeo_kd: built for {} classes, got logits {}",
                classes_, zs.sizes());
    check_labels("tgeo_kd", y, zs.size(0), classes_);
    const Tensor zt = zt_in.detach();
    Tensor t = softmax(zt, 1);
    Tensor g = one_hot(y, classes_).to(zs.dtype());
    if (update_ && is_training()) {
      NoGradGuard no_grad;
      class_sum_.copy_raw_(class_sum_ + matmul(g.t(), t).to(class_sum_.dtype()));
      class_count_.copy_raw_(class_count_ + g.sum({0}).to(class_count_.dtype()));
    }
    Tensor mean = class_sum_.to(zs.dtype()) /
                  clamp(class_count_.to(zs.dtype()), 1.0, std::nullopt).unsqueeze(1);
    Tensor m = index_select(mean, 0, y);
    Tensor alpha = fusion_ratio(ratio_grad_ ? zs : zs.detach(), t, m, g);
    if (!ratio_grad_ && !bilevel_) alpha = alpha.detach();
    Tensor ce = cross_entropy(zs, y, {}, -100, Reduction::none);
    Tensor kl = kl_per_sample(zs, zt, T_);
    if (scale_t2_) kl = kl * (T_ * T_);
    Tensor loss = broadcast_ ? (1.0 - alpha).mean() * ce.mean() + alpha.mean() * kl.mean()
                             : ((1.0 - alpha) * ce + alpha * kl).mean();
    return {loss, {{"alpha_mean", alpha.detach().mean()}}};
  }

  std::vector<Tensor> outer_parameters() const override {
    return bilevel_ && reweighting_ ? reweighting_->parameters() : std::vector<Tensor>{};
  }

 private:
  // alpha [B] from the relations r [B, 9C]; `zs` is detached by the caller when the ratio
  // carries no gradient. Bilevel: r is a constant, alpha keeps the fusion network's graph.
  Tensor fusion_ratio(const Tensor& zs, const Tensor& t, const Tensor& m, const Tensor& g) {
    Tensor r;
    {
      std::optional<NoGradGuard> no_grad;
      if (!ratio_grad_) no_grad.emplace();
      Tensor s = softmax(zs, 1);
      r = cat({s, t, m, g, abs(s - g), abs(s - t), abs(s - m), (g - m) * (g - s),
               (g - t) * (g - s)},
              1);
    }
    std::optional<NoGradGuard> no_grad;
    if (!ratio_grad_ && !bilevel_) no_grad.emplace();
    return (*reweighting_)(r).reshape({zs.size(0)});
  }

  double T_;
  bool scale_t2_, bilevel_, ratio_grad_, update_, broadcast_;
  int64_t classes_ = 0;
  std::shared_ptr<nn::Sequential> reweighting_;
  Tensor class_sum_, class_count_;
};

}  // namespace

ObjectiveSpec tgeo_kd_objective() {
  return {"tgeo_kd",
          "TGeo-KD: per-sample (1 - a_i) CE + a_i KL, a_i = sigmoid(MLP(trilateral relations))",
          "Chengming0501/TGeo-KD cifar100/lib/models/reweighting.py, lib/losses/kd_loss.py, "
          "lib/trainer.py (arXiv 2312.15112)",
          {{"student.logits", "[B, C] student logits"},
           {"teacher.logits", "[B, C] teacher logits (constant)"},
           {"labels", "i64 [B] class indices"}},
          {{"T", "1", "temperature of the KL term"},
           {"hidden", "128", "hidden width of the fusion network"},
           {"scale_t2", "false", "multiply the KL by T^2 (the tabular script's form)"},
           {"ratio_grad", "true",
            "the fusion ratio carries gradient (single-level, as the repository's CIFAR code); "
            "false: a constant of the student's loss (the paper's bilevel lower level)"},
           {"bilevel", "false",
            "the paper's bilevel training: the fusion network is an outer parameter, trained by "
            "the outer step (distill/bilevel.h) on held-out data; implies ratio_grad = false"},
           {"update_class_mean", "true",
            "update the teacher's class means from each training batch before use"},
           {"broadcast", "false",
            "the repository's [B, 1] x [B] broadcast: fuse the batch means, not each sample"},
           {"classes", "0", "C (0: from the shape of student.logits)"}},
          [](const Params& p, const Shapes& s) { return std::make_shared<TGeoKD>(p, s); }};
}

}  // namespace tutor::distill
