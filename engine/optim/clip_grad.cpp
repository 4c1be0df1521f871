#include "engine/optim/clip_grad.h"

#include <algorithm>
#include <cmath>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reductions.h"

namespace tutor::optim {

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  TUTOR_CHECK(norm_type == 1 || norm_type == 2 || norm_type == kInfNorm,
              "clip_grad_norm_: norm_type {} is not supported (1, 2 or inf)", norm_type);
  TUTOR_CHECK(max_norm >= 0, "clip_grad_norm_: max_norm {} must be >= 0", max_norm);
  NoGradGuard no_grad;
  std::vector<Tensor> grads;
  for (const Tensor& p : params)
    if (p.defined() && p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return 0;
  // total = norm([norm(g_1), ..., norm(g_n)]), as torch.norm(torch.stack(norms), norm_type)
  double total = 0;
  for (const Tensor& g : grads) {
    const double n = norm(g, norm_type).item();
    if (norm_type == kInfNorm) {
      total = std::isnan(n) || std::isnan(total) ? NAN : std::max(total, n);
    } else {
      total += norm_type == 2 ? n * n : n;
    }
  }
  if (norm_type == 2) total = std::sqrt(total);
  TUTOR_CHECK(!error_if_nonfinite || std::isfinite(total),
              "clip_grad_norm_: the total norm of order {} of the gradients of {} parameters is "
              "{}, so they cannot be clipped",
              norm_type, grads.size(), total);
  const double coef = std::min(max_norm / (total + 1e-6), 1.0);
  for (const Tensor& g : grads) mul_(g, coef);
  return total;
}

}  // namespace tutor::optim
