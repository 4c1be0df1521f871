// SSKD: knowledge distillation meets self-supervision (Xu, Liu, Li, Loy, ECCV 2020), stage 2,
// as torchdistill SSKDLoss (losses/mid_level.py, refactored from xuguodong03/SSKD student.py).
//
// The batch holds n images in four rotations, interleaved (distill/rotation.h): row 4i is image
// i, rows 4i+1..4i+3 its rotations by 90, 180, 270 degrees; B = 4n. "normal" = rows 4i (n of
// them), "aug" = the other 3n rows in order, aug row r belonging to image r / 3.
//   ce = CE(z^s_normal, y)                                                  (mean)
//   kd = kl_temp^2 * batchmean KL(softmax(z^t_normal / kl_temp) || softmax(z^s_normal / kl_temp))
//   tf = tf_temp^2 * batchmean over rows R_tf of KL(softmax(z^t_aug / tf_temp)
//                                                   || softmax(z^s_aug / tf_temp))
//   ss = ss_temp^2 * batchmean over rows R_ss of KL(softmax(S^t / ss_temp)
//                                                   || softmax(S^s / ss_temp))
//   L  = w1 ce + w2 kd + w3 ss + w4 tf                     (loss_weights = w1,w2,w3,w4)
// S[r, j] = cos(f_aug_r, f_normal_j) (3n x n) on the ss-module outputs (student.ss_feat,
// teacher.ss_feat; the MLP ss module belongs to each model); the teacher's S is a constant.
// Row selection: the rank of a row is the position of its true entry (label y for tf, its own
// image r / 3 for ss) in the teacher's row sorted in decreasing order. All rank-0 rows are kept,
// plus int(ratio * #wrong) of the wrong rows with the smallest ranks.
// Ties (objectives.md §10): the reference sorts tied integer ranks with an unstable argsort, so
// which of several wrong rows of equal rank are kept depends on the sort; tutor keeps the
// lower-indexed rows (a stable sort), and counts a true entry's rank as the number of entries
// strictly larger than it (the reference's position among equal values is sort-dependent too).
// Labels: [n] (one per image, as torchdistill) or [B] (one per row; the normal rows' are used).
// An empty selected set contributes 0 (the reference would give NaN).
// Stage 1 (training the teacher's ss module, torchdistill AuxSSKDLoss) is the objective sskd_aux.
#include <algorithm>
#include <numeric>

#include "distill/functional.h"
#include "distill/objective.h"
#include "distill/rotation.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

// The rows to distill: ranks[r] = position of row r's true entry; keeps every rank-0 row and
// int(ratio * wrong) wrong rows of smallest rank (ties: lower row first). Sorted row indices.
std::vector<int64_t> select_rows(const std::vector<int64_t>& ranks, double ratio) {
  std::vector<int64_t> order(ranks.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return ranks[size_t(a)] < ranks[size_t(b)]; });
  int64_t wrong = std::count_if(ranks.begin(), ranks.end(), [](int64_t r) { return r != 0; });
  int64_t correct = int64_t(ranks.size()) - wrong;
  auto keep = size_t(correct + int64_t(double(wrong) * ratio));
  order.resize(keep);
  std::sort(order.begin(), order.end());
  return order;
}

// Per row, the number of entries strictly larger than the entry at column target[r].
std::vector<int64_t> true_ranks(const Tensor& scores, const Tensor& target) {
  Tensor at_target = gather(scores, 1, target.unsqueeze(1));
  return gt(scores, at_target).to(DType::i64).sum({1}).to_vector<int64_t>();
}

// batchmean KL over the selected rows with the T^2 factor; 0 when no row is selected.
Tensor selected_kl(const Tensor& student, const Tensor& teacher, const std::vector<int64_t>& rows,
                   double T) {
  if (rows.empty()) return zeros({}, student.options());
  Tensor idx = from_vector(rows, {int64_t(rows.size())},
                           TensorOptions(DType::i64).device(student.device()));
  return kl_batchmean(index_select(student, 0, idx), index_select(teacher, 0, idx), T) * (T * T);
}

class SSKD : public Objective {
 public:
  explicit SSKD(const Params& p)
      : Objective("sskd"), kl_temp_(p.number("kl_temp")), ss_temp_(p.number("ss_temp")),
        tf_temp_(p.number("tf_temp")), ss_ratio_(p.number("ss_ratio")),
        tf_ratio_(p.number("tf_ratio")), w_(p.numbers("loss_weights")) {
    TUTOR_CHECK(kl_temp_ > 0 && ss_temp_ > 0 && tf_temp_ > 0,
                "objective sskd: temperatures must be positive, got kl_temp={} ss_temp={} "
                "tf_temp={}", kl_temp_, ss_temp_, tf_temp_);
    TUTOR_CHECK(ss_ratio_ >= 0 && ss_ratio_ <= 1 && tf_ratio_ >= 0 && tf_ratio_ <= 1,
                "objective sskd: ss_ratio and tf_ratio must lie in [0, 1], got {} and {}",
                ss_ratio_, tf_ratio_);
    TUTOR_CHECK(w_.size() == 4, "objective sskd: loss_weights needs 4 values (ce, kd, ss, tf), "
                "got {}", w_.size());
  }

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& zs = in.at("student.logits");
    Tensor zt = in.at("teacher.logits").detach();
    check_logit_pair("sskd", zs, zt);
    const int64_t B = zs.size(0), C = zs.size(1);
    TUTOR_CHECK(B >= 4 && B % 4 == 0,
                "objective sskd: the batch must hold 4 rotations per image (a multiple of 4 "
                "rows), got logits {}", zs.sizes());
    const int64_t n = B / 4;
    const Tensor& fs = in.at("student.ss_feat");
    Tensor ft = in.at("teacher.ss_feat").detach();
    TUTOR_CHECK(fs.dim() == 2 && fs.size(0) == B && fs.sizes() == ft.sizes() &&
                    fs.dtype() == zs.dtype() && ft.dtype() == zs.dtype(),
                "objective sskd: student.ss_feat and teacher.ss_feat must both be [{}, D] with "
                "the logits' dtype, got {} and {}", B, fs.sizes(), ft.sizes());
    Tensor y = in.at("labels");
    TUTOR_CHECK(y.dim() == 1 && (y.size(0) == n || y.size(0) == B),
                "objective sskd: labels must be [{}] (one per image) or [{}] (one per row), got "
                "{}", n, B, y.sizes());
    auto dev = TensorOptions(DType::i64).device(zs.device());
    if (y.size(0) == B) y = index_select(y, 0, arange(0, double(B), 4, dev));
    check_labels("sskd", y, n, C);

    std::vector<int64_t> normal_rows, aug_rows;
    for (int64_t r = 0; r < B; ++r) (r % 4 == 0 ? normal_rows : aug_rows).push_back(r);
    Tensor normal = from_vector(normal_rows, {n}, dev), aug = from_vector(aug_rows, {3 * n}, dev);

    Tensor zs_n = index_select(zs, 0, normal), zt_n = index_select(zt, 0, normal);
    Tensor ce = cross_entropy(zs_n, y);
    Tensor kd = kl_batchmean(zs_n, zt_n, kl_temp_) * (kl_temp_ * kl_temp_);

    Tensor zs_a = index_select(zs, 0, aug), zt_a = index_select(zt, 0, aug);
    Tensor y_aug = repeat_interleave(y, 3);
    std::vector<int64_t> tf_rows = select_rows(true_ranks(zt_a, y_aug), tf_ratio_);
    Tensor tf = selected_kl(zs_a, zt_a, tf_rows, tf_temp_);

    Tensor s_sim = rotation_similarities(fs), t_sim = rotation_similarities(ft);
    Tensor own = repeat_interleave(arange(double(n), dev), 3);
    std::vector<int64_t> ss_rows = select_rows(true_ranks(t_sim, own), ss_ratio_);
    Tensor ss = selected_kl(s_sim, t_sim, ss_rows, ss_temp_);

    Tensor loss = ce * w_[0] + kd * w_[1] + ss * w_[2] + tf * w_[3];
    return {loss, {{"ce", ce}, {"kd", kd}, {"ss", ss}, {"tf", tf}}};
  }

 private:
  double kl_temp_, ss_temp_, tf_temp_, ss_ratio_, tf_ratio_;
  std::vector<double> w_;
};

}  // namespace

ObjectiveSpec sskd_objective() {
  return {"sskd",
          "SSKD (Xu et al. 2020): CE + KD on normal views, KD on rotated views and on "
          "ss-module cosine similarities, rows chosen by the teacher's error rank",
          "torchdistill losses/mid_level.py::SSKDLoss (xuguodong03/SSKD student.py)",
          {{"student.logits", "[4n, C] student logits on the interleaved rotation batch"},
           {"teacher.logits", "[4n, C] teacher logits (constant)"},
           {"student.ss_feat", "[4n, D] student ss-module outputs"},
           {"teacher.ss_feat", "[4n, D] teacher ss-module outputs (constant)"},
           {"labels", "[n] labels of the images (or [4n], one per row)"}},
          {{"kl_temp", "4", "temperature of the KD on normal views"},
           {"ss_temp", "0.5", "temperature of the similarity KD"},
           {"tf_temp", "4", "temperature of the KD on rotated views"},
           {"ss_ratio", "0.75", "share of wrongly ranked similarity rows kept"},
           {"tf_ratio", "1.0", "share of wrongly ranked rotated rows kept"},
           {"loss_weights", "1,0.9,10,2.7", "weights of ce, kd, ss, tf"}},
          [](const Params& p, const Shapes&) { return std::make_shared<SSKD>(p); }};
}

}  // namespace tutor::distill
