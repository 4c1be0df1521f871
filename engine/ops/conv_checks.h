// conv2d's argument checks and output shape, shared by conv2d and the fused conv2d_relu
// (engine/ops/fused.h), which take the same arguments and must reject the same inputs.
#pragma once

#include "engine/core/tensor.h"
#include "engine/ops/conv_pool.h"
#include "kernels/conv_pool_params.h"

namespace tutor::ops {

struct Conv2dCall {
  kernels::Conv2dParams params;
  Shape output_shape;  // [N, O, OH, OW]
};

// Checks conv2d's arguments (ranks, dtypes, devices, channels, groups, bias, geometry) and returns
// the kernel parameters and output shape; an Error naming `op` and the shapes otherwise.
Conv2dCall check_conv2d(const char* op, const Tensor& input, const Tensor& weight,
                        const Tensor& bias, Size2 stride, Size2 padding, Size2 dilation,
                        int64_t groups);

}  // namespace tutor::ops
