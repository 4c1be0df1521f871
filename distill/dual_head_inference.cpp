#include "distill/dual_head_inference.h"

#include "engine/autograd/grad_mode.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

void check_heads(const char* fn, const Tensor& ce, const Tensor& kd) {
  TUTOR_CHECK(ce.dim() == 2 && ce.sizes() == kd.sizes(),
              "{}: ce and kd logits must both be [N, C], got {} and {}", fn, ce.sizes(),
              kd.sizes());
  TUTOR_CHECK(is_floating(ce.dtype()) && ce.dtype() == kd.dtype(),
              "{}: logits must share a floating dtype, got {} and {}", fn, ce.dtype(), kd.dtype());
}

}  // namespace

Tensor dual_head_blend(const Tensor& ce_logits, const Tensor& kd_logits, double alpha,
                       double beta) {
  check_heads("dual_head_blend", ce_logits, kd_logits);
  TUTOR_CHECK(alpha >= 0 && alpha <= 1, "dual_head_blend: alpha must be in [0, 1], got {}", alpha);
  TUTOR_CHECK(beta > 0, "dual_head_blend: beta must be positive, got {}", beta);
  return softmax(ce_logits, 1) * (1 - alpha) + softmax(kd_logits / beta, 1) * alpha;
}

std::vector<double> dual_head_alphas() {
  std::vector<double> out;
  for (int k = 0; k <= 20; ++k) out.push_back(k * 0.05);
  return out;
}

std::vector<double> dual_head_betas() { return {0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 4.0}; }

DualHeadChoice dual_head_search(const Tensor& ce_logits, const Tensor& kd_logits,
                                const Tensor& labels, const std::vector<double>& alphas,
                                const std::vector<double>& betas) {
  check_heads("dual_head_search", ce_logits, kd_logits);
  const int64_t N = ce_logits.size(0);
  TUTOR_CHECK(labels.dtype() == DType::i64 && labels.dim() == 1 && labels.size(0) == N && N > 0,
              "dual_head_search: labels must be i64 [{}] with N > 0, got {} {}", N,
              labels.dtype(), labels.sizes());
  NoGradGuard no_grad;
  const std::vector<int64_t> y = labels.to_vector<int64_t>();
  DualHeadChoice best;
  for (double beta : betas) {
    for (double alpha : alphas) {
      std::vector<int64_t> pred =
          argmax(dual_head_blend(ce_logits, kd_logits, alpha, beta), 1).to_vector<int64_t>();
      int64_t correct = 0;
      for (int64_t i = 0; i < N; ++i) correct += pred[size_t(i)] == y[size_t(i)];
      const double accuracy = 100.0 * double(correct) / double(N);
      if (accuracy > best.accuracy) best = {alpha, beta, accuracy};
    }
  }
  return best;
}

}  // namespace tutor::distill
