#include "distill/gradient_alignment.h"

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

// d loss / d p for each parameter, zeros where the loss does not reach it.
std::vector<Tensor> gradients_of(const Tensor& loss, const std::vector<Tensor>& params,
                                 bool retain) {
  std::vector<Tensor> out(params.size());
  if (loss.requires_grad()) {
    TensorList captured = autograd::grad({loss}, params, {}, retain);
    for (size_t i = 0; i < params.size(); ++i) out[i] = captured[i];
  }
  for (size_t i = 0; i < params.size(); ++i)
    if (!out[i].defined()) out[i] = zeros_like(params[i]);
  return out;
}

double dot(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i].to(DType::f64) * b[i].to(DType::f64)).sum().item();
  return s;
}

}  // namespace

Alignment align_gradients(const std::vector<Tensor>& parameters, const Tensor& loss_ce,
                          const Tensor& loss_kd) {
  TUTOR_CHECK(loss_ce.defined() && loss_ce.numel() == 1 && loss_kd.defined() &&
                  loss_kd.numel() == 1,
              "align_gradients: both losses must be scalars");
  for (size_t i = 0; i < parameters.size(); ++i)
    TUTOR_CHECK(parameters[i].defined() && parameters[i].requires_grad(),
                "align_gradients: parameter {} does not require grad", i);
  std::vector<Tensor> g_ce = gradients_of(loss_ce, parameters, /*retain=*/true);
  std::vector<Tensor> g_kd = gradients_of(loss_kd, parameters, /*retain=*/false);
  NoGradGuard no_grad;
  Alignment a;
  a.dot = dot(g_kd, g_ce);
  a.ce_norm_sq = dot(g_ce, g_ce);
  a.projected = a.dot < 0;
  const double factor = a.projected ? a.dot / a.ce_norm_sq : 0.0;
  for (size_t i = 0; i < parameters.size(); ++i) {
    Tensor g = a.projected ? g_kd[i] - g_ce[i] * factor : g_kd[i];
    parameters[i].mutable_grad() = (g_ce[i] + g).detach();
  }
  return a;
}

}  // namespace tutor::distill
