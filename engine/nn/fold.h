// Folding an evaluation-mode BatchNorm into the convolution before it, for inference: with
// s = gamma / sqrt(running_var + eps) per output channel (gamma = 1 and beta = 0 without affine),
//   BN(conv(x; W, b)) = conv(x; W s, (b - running_mean) s + beta)
// (W scaled along its output-channel dim, b = 0 when the conv has none). It holds for every
// groups, stride, padding and dilation, since each output channel has its own filter.
#pragma once

#include "engine/nn/conv.h"
#include "engine/nn/normalization.h"

namespace tutor::nn {

// The folded weight and bias, computed in f64 and returned in the conv weight's dtype.
struct FoldedConv {
  Tensor weight, bias;
};
FoldedConv folded_conv(const Conv2d& conv, const BatchNorm& bn);

// Makes `conv` carry folded_conv(conv, bn) (new tensors in its weight and bias slots: a state dict
// taken before keeps the unfolded values) and `bn` an identity. Both must be in evaluation mode,
// `bn` must have running statistics and conv.out_channels features, and neither may be folded
// already; an Error naming the layers otherwise. Never done implicitly: training needs the BN.
void fold_batch_norm(Conv2d& conv, BatchNorm& bn);

}  // namespace tutor::nn
