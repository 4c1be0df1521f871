// DML: deep mutual learning (Zhang, Xiang, Hospedales, Lu, CVPR 2018; objectives.md §5.1), the
// mimicry term of one student of a cohort trained together (distill/distiller.h: students).
//
//   L_DML = T^2 * (1/P) * sum_{p=1..P} (1/B) sum_b KL( softmax(sg(z^p_b) / T) || softmax(z_b / T) )
//   dL/dz_b = (T / (P B)) * sum_p (softmax(z_b / T) - softmax(z^p_b / T))
//
// z the student's logits, z^p those of its P peers (the other students), constants. The paper's
// eq. 10 for K networks: L_k = L_C(k) + 1/(K - 1) sum_{l != k} KL(p_l || p_k), so P = K - 1 and the
// mean over peers (`average_peers`, default); the authors' TensorFlow code
// (YingZhangDUT/Deep-Mutual-Learning train_models.py::_tower_loss, c3d6ff1) adds the K - 1
// KLs without the 1/(K - 1) (average_peers=false); with two students both are the same.
// That code's kl_loss_compute guards the log (T = 1):
//   KL_eps = (1/B) sum_b sum_c q_bc log(eps + q_bc / (p_bc + eps)),  q = softmax(z^p), p =
//   softmax(z)
// with eps = 1e-8; `eps` > 0 selects this form (at any T, with q, p = softmax(. / T)). The guard
// is not negligible: where p < eps it caps the log ratio (on logits of std 4 over 20 classes the
// two forms differ by 1e-2 to 4e-2; tools/golden/objectives/dml.py). The default, eps = 0, is the
// exact KL of the paper and the catalog (log-softmax needs no guard).
// The CE term L_C on the labels is the separate objective "ce" (a recipe: ce + dml, the paper's
// equal weights). T defaults to 1 as in the paper; another T softens both distributions with the
// T^2 factor of KD (objectives.md §5.1 "optionally temperature-softened").
// `peers` = P: 0 (default) reads every peer the construction shapes show (peer.logits,
// peer1.logits, ... in a recipe with K students: all K - 1), 1 when none are shown.
#include <fmt/format.h>

#include "distill/functional.h"
#include "distill/objective.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

class DML : public Objective {
 public:
  DML(double T, int64_t peers, bool average, double eps)
      : Objective("dml"), T_(T), peers_(peers), average_(average), eps_(eps) {
    TUTOR_CHECK(T_ > 0, "objective dml: T must be positive, got {}", T_);
    TUTOR_CHECK(peers_ > 0, "objective dml: peers must be positive, got {}", peers_);
    TUTOR_CHECK(eps_ >= 0, "objective dml: eps must be >= 0, got {}", eps_);
  }

  std::vector<std::string> inputs() const override {
    std::vector<std::string> out = {"student.logits"};
    for (int64_t p = 0; p < peers_; ++p) out.push_back(peer_prefix(p) + ".logits");
    return out;
  }

  Result compute(const Inputs& in, const Context&) override {
    const Tensor& z = in.at("student.logits");
    Result r;
    for (int64_t p = 0; p < peers_; ++p) {
      std::string peer = peer_prefix(p);
      const Tensor& zp = in.at(peer + ".logits");
      check_logit_pair(name(), z, zp);
      Tensor kl =
          (eps_ > 0 ? guarded_kl(z, zp.detach()) : kl_batchmean(z, zp.detach(), T_)) * (T_ * T_);
      if (peers_ > 1) r.parts.emplace_back(peer, kl);
      r.loss = r.loss.defined() ? r.loss + kl : kl;
    }
    if (average_ && peers_ > 1) r.loss = r.loss / double(peers_);
    return r;
  }

 private:
  // The authors' kl_loss_compute with eps in place of 1e-8.
  Tensor guarded_kl(const Tensor& z, const Tensor& zp) const {
    Tensor p = softmax(z / T_, 1), q = softmax(zp / T_, 1);
    return (q * log(q / (p + eps_) + eps_)).sum() / double(z.size(0));
  }

  double T_;
  int64_t peers_;
  bool average_;
  double eps_;
};

// The number of consecutive peers (peer, peer1, ...) whose logits `shapes` holds.
int64_t peers_in(const Shapes& shapes) {
  int64_t p = 0;
  while (shapes.count(peer_prefix(p) + ".logits")) ++p;
  return p;
}

}  // namespace

ObjectiveSpec dml_objective() {
  return {"dml",
          "DML mimicry: T^2 * mean over peers of batchmean KL(softmax(sg(z_peer)/T) || "
          "softmax(z/T)); students trained together",
          "Zhang et al. CVPR 2018 eq. 10; YingZhangDUT/Deep-Mutual-Learning "
          "train_models.py::kl_loss_compute",
          {{"student.logits", "[B, C] this student's logits"},
           {"peer.logits", "[B, C] another student's logits (constant); peer1.logits ... more"}},
          {{"T", "1", "temperature"},
           {"peers", "0", "peers read (peer, peer1, ...); 0: every peer in the shapes, else 1"},
           {"average_peers", "true",
            "divide the sum of the peers' KLs by their number (the paper; false: the authors' "
            "code)"},
           {"eps", "0", "0: the exact KL; > 0: the authors' guarded log(eps + q / (p + eps))"}},
          [](const Params& p, const Shapes& shapes) {
            int64_t peers = p.integer("peers");
            TUTOR_CHECK(peers >= 0, "objective dml: peers must be >= 0, got {}", peers);
            if (peers == 0) peers = std::max<int64_t>(peers_in(shapes), 1);
            return std::make_shared<DML>(p.number("T"), peers, p.flag("average_peers"),
                                         p.number("eps"));
          }};
}

}  // namespace tutor::distill
