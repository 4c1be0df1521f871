// Multi-aspect KD with an MLLM (2025; objectives.md §2.16, [unverified]: no public code).
//
//   L = lambda * mean_{b,a} BCE( sigmoid(z^asp_{b,a}), q_{b,a} )
//     = lambda * mean_{b,a} [ softplus(z) - q z ]       (binary_cross_entropy_with_logits)
//
// The student has, next to its C class logits, A "aspect" logits (an extra head, exposed as the
// tap student.aspect_logits); q in [0, 1]^A are soft answers of a multimodal LLM to A aspect
// questions, extracted offline and given as the non-model input aspect_targets [B, A].
// The classification term CE(class, y) of the paper's total loss is the separate objective "ce".
// Reduction "mean" over all B*A entries, as torch.nn.BCEWithLogitsLoss's default; the paper gives
// no other. The targets are data: no gradient reaches them.
#include "distill/objective.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class MultiAspect : public Objective {
 public:
  explicit MultiAspect(const Params& p) : Objective("multi_aspect"), lambda_(p.number("lambda")) {
    TUTOR_CHECK(lambda_ >= 0, "objective multi_aspect: lambda must be >= 0, got {}", lambda_);
  }

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& z = in.at("student.aspect_logits");
    Tensor q = in.at("aspect_targets").detach();
    TUTOR_CHECK(z.dim() == 2 && z.sizes() == q.sizes(),
                "objective multi_aspect: student.aspect_logits and aspect_targets must both be "
                "[B, A], got {} and {}", z.sizes(), q.sizes());
    TUTOR_CHECK(is_floating(z.dtype()) && z.dtype() == q.dtype(),
                "objective multi_aspect: aspect logits and targets must share a floating dtype, "
                "got {} and {}", z.dtype(), q.dtype());
    if (q.numel() > 0) {
      double lo = min(q).item<double>(), hi = max(q).item<double>();
      TUTOR_CHECK(lo >= 0 && hi <= 1,
                  "objective multi_aspect: aspect_targets must lie in [0, 1], got [{}, {}]", lo,
                  hi);
    }
    Tensor bce = binary_cross_entropy_with_logits(z, q);
    return {bce * lambda_, {{"bce", bce}}};
  }

 private:
  double lambda_;
};

}  // namespace

ObjectiveSpec multi_aspect_objective() {
  return {"multi_aspect",
          "multi-aspect KD: lambda * mean BCE(sigmoid(aspect logits), soft MLLM aspect targets)",
          "objectives.md §2.16 (paper only; [unverified]); torch BCEWithLogitsLoss(mean)",
          {{"student.aspect_logits", "[B, A] student aspect-head logits"},
           {"aspect_targets", "[B, A] soft aspect targets in [0, 1] from the MLLM (data)"}},
          {{"lambda", "1", "weight of the aspect BCE"}},
          [](const Params& p, const Shapes&) { return std::make_shared<MultiAspect>(p); }};
}

}  // namespace tutor::distill
