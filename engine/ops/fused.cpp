#include "engine/ops/fused.h"

#include "engine/autograd/node.h"
#include "engine/ops/catalog.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/linalg.h"
#include "engine/ops/views.h"
#include "kernels/params.h"

namespace tutor {

using ops::Kernel;

// Training keeps the composition: the backward needs h = x W^T + b, which oneDNN's post-ops never
// write, so a fused forward would have to recompute the product in the backward. Measured with
// `tutor bench ops --only linear` (vit fc1, 6272x64x128, 2 threads, loaded machine): fused
// forward 1.76 ms, composition 4.12 ms, the matmul alone 1.06 ms; recomputing would add a
// 1.06 ms matmul to every backward to save about 2.4 ms of forward, a gain not yet measured
// end to end, so it is left to a later change.
Tensor linear_gelu(const Tensor& x, const Tensor& weight, const Tensor& bias,
                   const std::string& approximate) {
  static const Kernel k("linear_gelu");
  TUTOR_CHECK(approximate == "none" || approximate == "tanh",
              "linear_gelu: approximate must be 'none' or 'tanh', got '{}' (input of shape {})",
              approximate, shape_str(x.sizes()));
  // linear checks the shapes, dtypes and devices and names itself; the fused path has the same
  // contract, so both paths run its checks.
  const int64_t in = x.dim() >= 1 ? x.sizes().back() : -1;
  if (autograd::needs_grad({x, weight, bias}) || in <= 0 || x.numel() == 0 || weight.dim() != 2 ||
      weight.size(1) != in || weight.size(0) == 0 || !is_floating(x.dtype()))
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

void ops::add_fused_ops(std::vector<OpInfo>& ops) {
  ops.push_back({"linear_gelu", true, {"linear_gelu"}});
}

}  // namespace tutor
