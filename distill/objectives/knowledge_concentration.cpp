// Knowledge Concentration (Gao, Guo, Li, Nevatia 2017, arXiv 1711.07607; objectives.md §2.13,
// [unverified]: no public code; the paper's text was not available here, so the self-paced
// weighting below is an assumption, stated as such).
//
// K specialist teachers; teacher k covers the class subset S_k and gives logits over S_k
// (teacher{k}.logits of shape [B, |S_k|], or [B, C] of which the columns S_k are used). Its KD
// term compares its softened distribution with the student's softmax restricted to S_k and
// renormalized there, which is the softmax of the student's logits gathered at S_k:
//   L_k = T^2 * (1/B) sum_b KL( softmax(z^{t_k}_b / T) || softmax(z^s_{b, S_k} / T) )
//   L   = (1/K) sum_k w_k L_k
// pace=equal:         w_k = 1.
// pace=relative_loss: w_k = K * sg(L_k) / sum_j sg(L_j)  (assumed self-paced schedule: the student
//                     learns faster from the teachers it currently matches worst; the weights
//                     are constants for the gradient and sum to K, so equal losses give w_k = 1).
// Assumptions: every teacher's term uses every sample of the batch; the "structurally connected
// layers" of the paper are an architecture choice, not part of this loss; CE is the separate
// objective "ce". Subsets: "split" (the C classes in K contiguous blocks, the first C mod K
// blocks one class larger) or ";"-separated lists of indices and ranges, e.g. "0-4;5-9" or
// "0,2,4;1,3". Teachers are constants. Parts: kl<k> (= L_k) and w<k>.
#include <cstdlib>

#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

int64_t parse_index(const std::string& s, const std::string& spec) {
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  TUTOR_CHECK(!s.empty() && end == s.c_str() + s.size() && v >= 0,
              "objective knowledge_concentration: bad class index '{}' in subsets '{}'", s, spec);
  return int64_t(v);
}

std::vector<std::vector<int64_t>> parse_subsets(const std::string& spec) {
  std::vector<std::vector<int64_t>> subsets;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t stop = spec.find(';', start);
    if (stop == std::string::npos) stop = spec.size();
    std::string group = spec.substr(start, stop - start);
    std::vector<int64_t> classes;
    size_t a = 0;
    while (a <= group.size()) {
      size_t b = group.find(',', a);
      if (b == std::string::npos) b = group.size();
      std::string item = group.substr(a, b - a);
      size_t dash = item.find('-');
      if (dash == std::string::npos) {
        classes.push_back(parse_index(item, spec));
      } else {
        int64_t lo = parse_index(item.substr(0, dash), spec);
        int64_t hi = parse_index(item.substr(dash + 1), spec);
        TUTOR_CHECK(lo <= hi, "objective knowledge_concentration: empty range '{}' in '{}'", item,
                    spec);
        for (int64_t c = lo; c <= hi; ++c) classes.push_back(c);
      }
      a = b + 1;
    }
    subsets.push_back(classes);
    start = stop + 1;
  }
  return subsets;
}

class KnowledgeConcentration : public Objective {
 public:
  explicit KnowledgeConcentration(const Params& p)
      : Objective("knowledge_concentration"),
        T_(p.number("T")),
        K_(p.integer("teachers")),
        pace_(p.text("pace")),
        spec_(p.text("subsets")) {
    TUTOR_CHECK(T_ > 0, "objective knowledge_concentration: T must be positive, got {}", T_);
    TUTOR_CHECK(K_ >= 1, "objective knowledge_concentration: teachers must be >= 1, got {}", K_);
    TUTOR_CHECK(pace_ == "equal" || pace_ == "relative_loss",
                "objective knowledge_concentration: pace must be equal or relative_loss, got {}",
                pace_);
    if (spec_ != "split") {
      subsets_ = parse_subsets(spec_);
      TUTOR_CHECK(int64_t(subsets_.size()) == K_,
                  "objective knowledge_concentration: subsets '{}' lists {} subsets for {} "
                  "teachers",
                  spec_, subsets_.size(), K_);
    }
  }

  std::vector<std::string> inputs() const override {
    std::vector<std::string> names = {"student.logits"};
    for (int64_t k = 0; k < K_; ++k) names.push_back(teacher_input(k));
    return names;
  }

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& zs = in.at("student.logits");
    TUTOR_CHECK(zs.dim() == 2 && is_floating(zs.dtype()),
                "objective knowledge_concentration: student.logits must be floating [B, C], got "
                "{} {}",
                zs.dtype(), zs.sizes());
    const int64_t C = zs.size(1);
    std::vector<std::vector<int64_t>> subsets = subsets_;
    if (spec_ == "split") {
      TUTOR_CHECK(C >= K_,
                  "objective knowledge_concentration: cannot split {} classes among {} "
                  "teachers",
                  C, K_);
      int64_t first = 0;
      for (int64_t k = 0; k < K_; ++k) {
        int64_t n = C / K_ + (k < C % K_ ? 1 : 0);
        std::vector<int64_t> s;
        for (int64_t c = first; c < first + n; ++c) s.push_back(c);
        subsets.push_back(s);
        first += n;
      }
    }
    std::vector<Tensor> kls;
    Result r;
    for (int64_t k = 0; k < K_; ++k) {
      const std::vector<int64_t>& s = subsets[size_t(k)];
      for (int64_t c : s)
        TUTOR_CHECK(c < C,
                    "objective knowledge_concentration: subset {} names class {} but the "
                    "student has {} classes",
                    k, c, C);
      Tensor idx =
          from_vector(s, {int64_t(s.size())}, TensorOptions(DType::i64).device(zs.device()));
      Tensor zt = in.at(teacher_input(k)).detach();
      TUTOR_CHECK(zt.dim() == 2 && zt.size(0) == zs.size(0) &&
                      (zt.size(1) == int64_t(s.size()) || zt.size(1) == C) &&
                      zt.dtype() == zs.dtype(),
                  "objective knowledge_concentration: {} must be [{}, {}] (its subset) or [{}, "
                  "{}] with the student's dtype {}, got {} {}",
                  teacher_input(k), zs.size(0), s.size(), zs.size(0), C, zs.dtype(), zt.dtype(),
                  zt.sizes());
      if (zt.size(1) != int64_t(s.size())) zt = index_select(zt, 1, idx);
      kls.push_back(kl_batchmean(index_select(zs, 1, idx), zt, T_) * (T_ * T_));
      r.parts.emplace_back(fmt::format("kl{}", k), kls.back());
    }
    std::vector<double> w(size_t(K_), 1.0);
    if (pace_ == "relative_loss") {
      double total = 0;
      for (const Tensor& l : kls) total += l.item<double>();
      if (total > 0)
        for (int64_t k = 0; k < K_; ++k)
          w[size_t(k)] = double(K_) * kls[size_t(k)].item<double>() / total;
    }
    Tensor loss = kls[0] * (w[0] / double(K_));
    for (int64_t k = 1; k < K_; ++k) loss = loss + kls[size_t(k)] * (w[size_t(k)] / double(K_));
    for (int64_t k = 0; k < K_; ++k)
      r.parts.emplace_back(fmt::format("w{}", k), full({}, w[size_t(k)], zs.options()));
    r.loss = loss;
    return r;
  }

 private:
  double T_;
  int64_t K_;
  std::string pace_, spec_;
  std::vector<std::vector<int64_t>> subsets_;
};

}  // namespace

ObjectiveSpec knowledge_concentration_objective() {
  return {
      "knowledge_concentration",
      "Knowledge Concentration (Gao et al. 2017): specialist teachers, each a T^2 KD on the "
      "student's softmax renormalized to its class subset, self-paced teacher weights",
      "objectives.md §2.13 (paper only; [unverified]; self-paced weights assumed)",
      {{"student.logits", "[B, C] student logits"},
       {"teacher.logits", "[B, |S_0|] or [B, C] logits of specialist 0 (constant)"},
       {"teacher1.logits", "specialist 1; teacher{k}.logits up to teachers-1"}},
      {{"T", "4", "temperature"},
       {"teachers", "2", "number of specialist teachers K"},
       {"subsets", "split", "class subsets: split, or e.g. 0-4;5-9 or 0,2,4;1,3"},
       {"pace", "relative_loss", "teacher weights: relative_loss (self-paced) or equal"}},
      [](const Params& p, const Shapes&) { return std::make_shared<KnowledgeConcentration>(p); }};
}

}  // namespace tutor::distill
