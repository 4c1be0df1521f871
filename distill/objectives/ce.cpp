// CE: the student's own cross-entropy with the labels, the supervised term that almost every
// distillation recipe adds (mdistiller's CE_WEIGHT term, RepDistiller's gamma term).
//
//   L_CE = -(1/B) * sum_b log softmax(z^s_b)_{y_b}     (with optional label smoothing eps:
//          the target is (1 - eps) * onehot(y) + eps / C, as torch.nn.functional.cross_entropy)
#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class CE : public Objective {
 public:
  explicit CE(const Params& p) : Objective("ce"), smoothing_(p.number("label_smoothing")) {
    TUTOR_CHECK(smoothing_ >= 0 && smoothing_ <= 1,
                "objective ce: label_smoothing must be in [0, 1], got {}", smoothing_);
  }

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& z = in.at("student.logits");
    const Tensor& y = in.at("labels");
    TUTOR_CHECK(z.dim() == 2, "objective ce: student.logits must be [B, C], got {}", z.sizes());
    check_labels("ce", y, z.size(0), z.size(1));
    return {cross_entropy(z, y, {}, -100, Reduction::mean, smoothing_), {}};
  }

 private:
  double smoothing_;
};

}  // namespace

ObjectiveSpec ce_objective() {
  return {"ce",
          "cross-entropy of the student logits with the labels",
          "torch.nn.functional.cross_entropy",
          {{"student.logits", "[B, C] student logits"}, {"labels", "i64 [B] class indices"}},
          {{"label_smoothing", "0", "label smoothing epsilon"}},
          [](const Params& p, const Shapes&) { return std::make_shared<CE>(p); }};
}

}  // namespace tutor::distill
