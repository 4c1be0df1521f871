// Multi-teacher KD (objectives.md §2.13, generic form; [unverified]: no single reference).
// K teachers read as teacher.logits, teacher1.logits, ..., teacher{K-1}.logits; weights w_k >= 0.
//
//   mode=average_kl: L = T^2 * (1/B) sum_b KL( sum_k w_k p^{t_k}_b || p^s_b )
//                    (the weights are normalized to sum to 1 so the mixture is a distribution)
//   mode=sum_kl:     L = sum_k w_k * T^2 * (1/B) sum_b KL( p^{t_k}_b || p^s_b )
//   with p = softmax(z / T) row-wise
//                    (the weights are used as given)
//
// weights=equal means w_k = 1/K in both modes. The KL is the batchmean, T^2-scaled KD of kd.cpp
// (§0.4); the CE term is the separate objective "ce". Teachers are constants. The mixture's log
// is taken as logsumexp_k(log w_k + log_softmax(z^{t_k} / T)) so that no probability underflows
// to log 0. Parts: "kl<k>" = batchmean KL to teacher k (without T^2 or weight), in both modes.
#include <cmath>

#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class MultiTeacher : public Objective {
 public:
  explicit MultiTeacher(const Params& p)
      : Objective("multi_teacher"), T_(p.number("T")), K_(p.integer("teachers")),
        mode_(p.text("mode")) {
    TUTOR_CHECK(T_ > 0, "objective multi_teacher: T must be positive, got {}", T_);
    TUTOR_CHECK(K_ >= 1, "objective multi_teacher: teachers must be >= 1, got {}", K_);
    TUTOR_CHECK(mode_ == "average_kl" || mode_ == "sum_kl",
                "objective multi_teacher: mode must be average_kl or sum_kl, got {}", mode_);
    if (p.text("weights") == "equal") {
      w_.assign(size_t(K_), 1.0 / double(K_));
    } else {
      w_ = p.numbers("weights");
      TUTOR_CHECK(int64_t(w_.size()) == K_,
                  "objective multi_teacher: weights has {} values for {} teachers", w_.size(), K_);
      double total = 0;
      for (double w : w_) {
        TUTOR_CHECK(w >= 0, "objective multi_teacher: weights must be >= 0, got {}", w);
        total += w;
      }
      TUTOR_CHECK(total > 0, "objective multi_teacher: weights must not all be zero");
      if (mode_ == "average_kl")
        for (double& w : w_) w /= total;
    }
  }

  std::vector<std::string> inputs() const override {
    std::vector<std::string> names = {"student.logits"};
    for (int64_t k = 0; k < K_; ++k) names.push_back(teacher_input(k));
    return names;
  }

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& zs = in.at("student.logits");
    std::vector<Tensor> log_pt;
    for (int64_t k = 0; k < K_; ++k) {
      const Tensor& zt = in.at(teacher_input(k));
      check_logit_pair("multi_teacher", zs, zt);
      log_pt.push_back(log_softmax(zt.detach() / T_, 1));
    }
    Tensor log_ps = log_softmax(zs / T_, 1);
    Result r;
    std::vector<Tensor> kls;
    for (int64_t k = 0; k < K_; ++k) {
      kls.push_back(kl_div(log_ps, log_pt[size_t(k)], Reduction::batchmean, true));
      r.parts.emplace_back(fmt::format("kl{}", k), kls.back());
    }
    if (mode_ == "sum_kl") {
      Tensor loss = kls[0] * (w_[0] * T_ * T_);
      for (int64_t k = 1; k < K_; ++k) loss = loss + kls[size_t(k)] * (w_[size_t(k)] * T_ * T_);
      r.loss = loss;
    } else {
      std::vector<Tensor> terms;
      for (int64_t k = 0; k < K_; ++k)
        if (w_[size_t(k)] > 0) terms.push_back(log_pt[size_t(k)] + std::log(w_[size_t(k)]));
      Tensor log_mix = logsumexp(stack(terms, 0), {0});
      r.loss = kl_div(log_ps, log_mix, Reduction::batchmean, true) * (T_ * T_);
    }
    return r;
  }

 private:
  double T_;
  int64_t K_;
  std::string mode_;
  std::vector<double> w_;
};

}  // namespace

ObjectiveSpec multi_teacher_objective() {
  return {"multi_teacher",
          "multi-teacher KD: T^2 KL to the weighted teacher mixture, or the weighted sum of "
          "per-teacher T^2 KLs",
          "objectives.md §2.13 (generic form; transcription of the catalog formula)",
          {{"student.logits", "[B, C] student logits"},
           {"teacher.logits", "[B, C] logits of teacher 0 (constant)"},
           {"teacher1.logits", "[B, C] logits of teacher 1; teacher{k}.logits up to teachers-1"}},
          {{"T", "4", "temperature"},
           {"teachers", "2", "number of teachers K"},
           {"mode", "average_kl", "average_kl (KL to the weighted mixture) or sum_kl"},
           {"weights", "equal", "comma list of K teacher weights, or equal (1/K each)"}},
          [](const Params& p, const Shapes&) { return std::make_shared<MultiTeacher>(p); }};
}

}  // namespace tutor::distill
