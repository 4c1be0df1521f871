#include "distill/bilevel.h"

#include <cmath>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

namespace {

// The parameters that require grad, for autograd::grad (a frozen one has no gradient to take).
std::vector<size_t> trainable(const std::vector<Tensor>& params) {
  std::vector<size_t> at;
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].requires_grad()) at.push_back(i);
  return at;
}

TensorList gradients(const Tensor& root, const std::vector<Tensor>& params,
                     const std::vector<size_t>& at, bool create_graph) {
  TensorList wrt;
  for (size_t i : at) wrt.push_back(params[i]);
  TensorList found = autograd::grad({root}, wrt, {}, /*retain_graph=*/create_graph, create_graph);
  TensorList out(params.size());
  for (size_t k = 0; k < at.size(); ++k) out[at[k]] = found[k];
  return out;
}

// Copies of `tensors` to put back with restore(); copy_raw_ writes the same bytes back and leaves
// the version counters alone, so graphs that saved the originals stay valid.
TensorList snapshot(const std::vector<Tensor>& tensors) {
  NoGradGuard no_grad;
  TensorList copies;
  for (const Tensor& t : tensors) copies.push_back(t.defined() ? t.detach().clone() : Tensor());
  return copies;
}

void restore(const std::vector<Tensor>& tensors, const TensorList& copies) {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].defined()) tensors[i].copy_raw_(copies[i]);
}

}  // namespace

double bilevel_backward(const Tensor& train_loss, const BilevelParameters& params, double lr,
                        const std::function<Tensor()>& held_out_loss) {
  TUTOR_CHECK(train_loss.defined() && train_loss.numel() == 1 && train_loss.requires_grad(),
              "bilevel: the training loss must be a scalar with a graph, got {}",
              train_loss.defined() ? shape_str(train_loss.sizes()) : std::string("none"));
  TUTOR_CHECK(std::isfinite(lr) && lr > 0, "bilevel: the look-ahead lr must be positive, got {}",
              lr);
  TUTOR_CHECK(!params.outer.empty(), "bilevel: no outer parameters to train");
  const std::vector<size_t> inner_at = trainable(params.inner);
  const std::vector<size_t> outer_at = trainable(params.outer);
  TUTOR_CHECK(!inner_at.empty(), "bilevel: no inner parameter requires grad");

  TensorList g;
  {
    EnableGradGuard grad_mode;
    g = gradients(train_loss, params.inner, inner_at, /*create_graph=*/true);
  }

  // v at the look-ahead point theta' = theta - lr g.
  TensorList saved_inner = snapshot(params.inner), saved_buffers = snapshot(params.buffers);
  TensorList v;
  double val = 0;
  try {
    {
      NoGradGuard no_grad;
      for (size_t i : inner_at)
        if (g[i].defined()) params.inner[i].copy_raw_(sub(params.inner[i], mul(g[i].detach(), lr)));
    }
    EnableGradGuard grad_mode;
    Tensor loss = held_out_loss();
    TUTOR_CHECK(loss.defined() && loss.numel() == 1,
                "bilevel: the held-out loss must be a scalar, got {}",
                loss.defined() ? shape_str(loss.sizes()) : std::string("none"));
    val = loss.item();
    TUTOR_CHECK(std::isfinite(val), "bilevel: the held-out loss at the look-ahead is {}", val);
    if (loss.requires_grad()) v = gradients(loss, params.inner, inner_at, false);
  } catch (...) {
    restore(params.inner, saved_inner);
    restore(params.buffers, saved_buffers);
    throw;
  }
  restore(params.inner, saved_inner);
  restore(params.buffers, saved_buffers);

  // The hypergradient: d/dphi of -lr <g(phi), v>, v constant.
  Tensor dot;
  {
    EnableGradGuard grad_mode;
    for (size_t i : inner_at) {
      if (!g[i].defined() || i >= v.size() || !v[i].defined() || !g[i].requires_grad()) continue;
      Tensor term = sum(mul(g[i], v[i].detach()));
      dot = dot.defined() ? add(dot, term) : term;
    }
  }
  TensorList hyper(params.outer.size());
  if (dot.defined() && !outer_at.empty()) {
    EnableGradGuard grad_mode;
    hyper = gradients(mul(dot, -lr), params.outer, outer_at, /*create_graph=*/false);
  }
  NoGradGuard no_grad;
  for (size_t i : outer_at)
    params.outer[i].mutable_grad() =
        hyper[i].defined() ? hyper[i].detach() : zeros_like(params.outer[i].detach());
  for (size_t i : inner_at) {
    if (!g[i].defined()) continue;
    Tensor& grad = params.inner[i].mutable_grad();
    grad = grad.defined() ? add(grad.detach(), g[i].detach()) : g[i].detach().clone();
  }
  return val;
}

}  // namespace tutor::distill
