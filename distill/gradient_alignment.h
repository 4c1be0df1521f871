// Gradient alignment of DHKD (Yang et al. 2024, the reference's --ga; penghui-yang/DHKD
// helper/optimizer.py::OptimGradAlign, after WeiChengTseng/Pytorch-PCGrad): a one-sided PCGrad
// between the supervised loss and the distillation loss.
//
//   g_CE = d L_CE / d theta,  g_KD = d L_KD / d theta      (each flattened over all parameters,
//                                                           zero where a loss does not reach)
//   if <g_KD, g_CE> < 0:  g_KD <- g_KD - (<g_KD, g_CE> / ||g_CE||^2) g_CE
//   theta.grad <- g_CE + g_KD
//
// g_CE is never projected (the reference also projects it against itself, a no-op). Two
// backward passes: the graph is retained after the first. Every parameter's .grad() is replaced
// (zeros where neither loss reaches it, as the reference's _set_grad), so call it instead of
// loss.backward() and then step the optimizer. The caller passes the weighted losses
// (the reference passes gamma * L_CE and alpha * L_KD).
#pragma once

#include <vector>

#include "engine/core/tensor.h"

namespace tutor::distill {

struct Alignment {
  double dot = 0;          // <g_KD, g_CE> before projection
  double ce_norm_sq = 0;   // ||g_CE||^2
  bool projected = false;  // whether g_KD was projected
};

Alignment align_gradients(const std::vector<Tensor>& parameters, const Tensor& loss_ce,
                          const Tensor& loss_kd);

}  // namespace tutor::distill
