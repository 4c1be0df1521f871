// SSKD stage 1 (Xu et al. ECCV 2020): train the teacher's self-supervision module to tell, for
// each rotated view, which normal image it comes from; torchdistill losses/mid_level.py::
// AuxSSKDLoss (refactored from xuguodong03/SSKD student.py's "train ssp_head" loop).
//
//   S[r, j] = cos(f_aug_r, f_normal_j)   on the ss-module outputs of a rotation batch [4n, D]
//   L = CE(S, r / 3)         (mean over the 3n rotated rows; the cosines are the logits)
//
// The network being trained here is the future teacher, so its ss-module output is read as
// student.ss_feat (in stage 1 it is the model that learns).
#include "distill/objective.h"
#include "distill/rotation.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class SSKDAux : public Objective {
 public:
  explicit SSKDAux(const Params&) : Objective("sskd_aux") {}

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& f = in.at("student.ss_feat");
    TUTOR_CHECK(f.dim() == 2 && f.size(0) >= 4 && f.size(0) % 4 == 0 &&
                    is_floating(f.dtype()),
                "objective sskd_aux: student.ss_feat must be floating [4n, D] (a rotation "
                "batch), got {} {}", f.dtype(), f.sizes());
    const int64_t n = f.size(0) / 4;
    Tensor own = repeat_interleave(arange(double(n), TensorOptions(DType::i64)), 3);
    return {cross_entropy(rotation_similarities(f), own), {}};
  }
};

}  // namespace

ObjectiveSpec sskd_aux_objective() {
  return {"sskd_aux",
          "SSKD stage 1: CE over cosine similarities of each rotated view to the batch's normal "
          "views (trains the ss module)",
          "torchdistill losses/mid_level.py::AuxSSKDLoss (xuguodong03/SSKD student.py)",
          {{"student.ss_feat", "[4n, D] ss-module outputs on an interleaved rotation batch"}},
          {},
          [](const Params& p, const Shapes&) { return std::make_shared<SSKDAux>(p); }};
}

}  // namespace tutor::distill
