#include "engine/ops/fused.h"

#include "engine/autograd/node.h"
#include "engine/ops/catalog.h"
#include "engine/ops/conv_checks.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/linalg.h"
#include "engine/ops/views.h"
#include "kernels/params.h"

namespace tutor {

using ops::Kernel;

// Training keeps the composition: the backward needs h = x W^T + b, which oneDNN's post-ops never
// write, so a fused forward would have to recompute the product (one more matmul) in the
// backward. Measured with `tutor bench ops --only linear` (2 threads, shared machine, after the
// vectorized GELU's verf was inlined): forward, fused vs composition, 1.72 vs 1.66 ms on vit fc1
// (6272x64x128) and 0.55 vs 0.58 ms on mixer token fc1 (8192x49x32); the matmul alone 1.03 ms.
// Within the machine's noise, so the fusion is not yet shown to pay.
Tensor linear_gelu(const Tensor& x, const Tensor& weight, const Tensor& bias,
                   const std::string& approximate) {
  static const Kernel k("linear_gelu");
  TUTOR_CHECK(approximate == "none" || approximate == "tanh",
              "linear_gelu: approximate must be 'none' or 'tanh', got '{}' (input of shape {})",
              approximate, shape_str(x.sizes()));
  // linear checks the shapes, dtypes and devices and names itself; the fused path has the same
  // contract, so both paths run its checks.
  const int64_t in = x.dim() >= 1 ? x.sizes().back() : -1;
  if (ops::UnfusedGuard::active() || autograd::needs_grad({x, weight, bias}) || in <= 0 ||
      x.numel() == 0 || weight.dim() != 2 || weight.size(1) != in || weight.size(0) == 0 ||
      !is_floating(x.dtype()))
    return gelu(linear(x, weight, bias), approximate);
  ops::check_same_dtype("linear_gelu", {x, weight, bias});
  ops::check_same_device("linear_gelu", {x, weight, bias});
  if (bias.defined())
    TUTOR_CHECK(bias.sizes() == Shape{weight.size(0)},
                "linear_gelu: bias of shape {} does not match weight of shape {} (expected [{}])",
                shape_str(bias.sizes()), shape_str(weight.sizes()), weight.size(0));
  const int64_t rows = x.numel() / in, out_features = weight.size(0);
  Tensor x2 = x.detach();
  if (auto st = view_strides(x2.sizes(), x2.strides(), {rows, in}))
    x2 = x2.as_strided_raw({rows, in}, *st, x2.offset());
  else
    x2 = x2.contiguous_raw(), x2 = x2.as_strided_raw({rows, in}, {in, 1}, x2.offset());
  Tensor out = empty({rows, out_features}, x.options());
  kernels::ScalarParams p{approximate == "tanh" ? 1.0 : 0.0, 0};
  ops::dispatch(k, x.dtype(), {x2, weight.detach(), bias.defined() ? bias.detach() : Tensor()},
                {out}, &p);
  Shape shape(x.sizes().begin(), x.sizes().end() - 1);
  shape.push_back(out_features);
  return out.view(shape);
}

// Training keeps the composition for the same reason as linear_gelu: relu's backward needs the
// pre-activation (or its sign), which the post-ops never write.
Tensor conv2d_relu(const Tensor& input, const Tensor& weight, const Tensor& bias, Size2 stride,
                   Size2 padding, Size2 dilation, int64_t groups, const Tensor& residual) {
  static const Kernel k("conv2d_relu");
  const ops::Conv2dCall c =
      ops::check_conv2d("conv2d_relu", input, weight, bias, stride, padding, dilation, groups);
  if (residual.defined()) {
    ops::check_same_dtype("conv2d_relu", {input, residual});
    ops::check_same_device("conv2d_relu", {input, residual});
    TUTOR_CHECK(residual.sizes() == c.output_shape,
                "conv2d_relu: residual of shape {} does not match the convolution's output of "
                "shape {} (input {}, weight {})",
                shape_str(residual.sizes()), shape_str(c.output_shape), shape_str(input.sizes()),
                shape_str(weight.sizes()));
  }
  if (ops::UnfusedGuard::active() || autograd::needs_grad({input, weight, bias, residual}) ||
      weight.numel() == 0 || shape_numel(c.output_shape) == 0) {
    Tensor y = conv2d(input, weight, bias, stride, padding, dilation, groups);
    return relu(residual.defined() ? add(y, residual) : y);
  }
  Tensor y = empty(c.output_shape, input.options(), ops::output_format(k, input));
  ops::dispatch(k, input.dtype(),
                {input.detach(), weight.detach(), bias.defined() ? bias.detach() : Tensor(),
                 residual.defined() ? residual.detach() : Tensor()},
                {y}, &c.params);
  return y;
}

void ops::add_fused_ops(std::vector<OpInfo>& ops) {
  ops.push_back({"linear_gelu", true, {"linear_gelu"}});
  ops.push_back({"conv2d_relu", true, {"conv2d_relu"}});
}

}  // namespace tutor
