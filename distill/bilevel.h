// The outer step of a bilevel objective (TGeo-KD, objectives.md §2.11): parameters phi that the
// objective owns (its fusion network) are trained to minimize the student's cross-entropy on a
// held-out batch after a one-step look-ahead of the student's parameters theta,
//   theta'(phi) = theta - lr * grad_theta L_train(theta, phi),
//   phi <- phi - lr_phi * d CE_val(theta'(phi)) / d phi       (the outer optimizer's step),
// as DARTS (Liu et al., ICLR 2019, eq. 6-7) writes the unrolled step. By the chain rule
//   d CE_val(theta') / d phi = -lr * v^T d(grad_theta L_train(theta, phi)) / d phi,
//   v = grad_theta' CE_val(theta'),
// which needs no functional copy of the student:
//   1. g = grad_theta L_train with create_graph. Only phi's path is differentiated again, and it
//      reaches theta's gradient through the incoming gradients of the losses and the student's
//      layers, along which they are differentiable (engine/ops/losses.h, batch_norm); a layer
//      without that (layer_norm) stops the step with an Error naming it.
//   2. theta moved in place to theta - lr g without grad, v from one forward and backward of the
//      held-out loss there, then theta and the student's buffers (running statistics) restored
//      bit for bit.
//   3. the hypergradient: the gradient of -lr * sum_i <g_i, v_i> in phi only (autograd::grad runs
//      only the nodes that lead to phi).
// The lower level steps with g itself, so one step costs one training forward, a backward with
// create_graph, a held-out forward and backward, and a second-order backward restricted to phi.
#pragma once

#include <functional>
#include <vector>

#include "engine/core/tensor.h"

namespace tutor::distill {

struct BilevelParameters {
  std::vector<Tensor> inner;    // theta: what the lower level (the student's optimizer) trains
  std::vector<Tensor> outer;    // phi: what the outer step trains
  std::vector<Tensor> buffers;  // the student's buffers, which the look-ahead forward may move
};

// For L_train (a scalar whose graph reaches theta, and phi through the weights it gives the
// losses) and `held_out_loss` (the loss on a held-out batch at the current parameters): adds
// grad_theta L_train to each inner parameter's .grad() (as backward() would), sets each outer
// parameter's .grad() to d CE_val(theta'(phi)) / d phi (zero where it has no influence), leaves
// theta and the buffers exactly as they were, and returns CE_val(theta').
double bilevel_backward(const Tensor& train_loss, const BilevelParameters& params, double lr,
                        const std::function<Tensor()>& held_out_loss);

}  // namespace tutor::distill
