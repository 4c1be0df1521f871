#include "engine/ops/conv_pool.h"

#include "engine/autograd/node.h"
#include "engine/ops/catalog.h"
#include "engine/ops/conv_checks.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/reductions.h"
#include "kernels/conv_pool_params.h"

namespace tutor {

using autograd::FunctionNode;
using autograd::needs_grad;
using autograd::record;
using kernels::Conv2dParams;
using kernels::Pool2dParams;
using ops::Kernel;

namespace {

std::string pair_str(const std::array<int64_t, 2>& v) { return shape_str({v[0], v[1]}); }

// ---- convolution: three mutually adjoint linear maps, each differentiable through the others ----
//
//   Y  = conv(X, W)      y[n,o,i,j] = sum_{c,a,b} x[n, g(o)*C/G + c, i*s - p + a*d, j*s - p + b*d] w[o,c,a,b]
//   GX = conv_in(GY, W)  the adjoint in X:  <conv(X, W), GY> = <X, conv_in(GY, W)>
//   GW = conv_w(X, GY)   the adjoint in W:  <conv(X, W), GY> = <W, conv_w(X, GY)>
// (PyTorch docs, torch.nn.Conv2d). Each is bilinear, so the derivatives of each are the other two,
// which makes conv2d and conv_transpose2d differentiable any number of times. Output shapes are
// passed explicitly: conv_transpose2d's output_padding makes them not recomputable.

Tensor conv_in(const Tensor& gy, const Tensor& w, const Tensor& bias, const Shape& x_shape,
               MemoryFormat x_format, const Conv2dParams& p, const char* name);
Tensor conv_w(const Tensor& x, const Tensor& gy, const Shape& w_shape, const Conv2dParams& p);

// d/dx = conv_in(g, w), d/dw = conv_w(x, g), d/dbias = sum of g over N, H, W
Tensor conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Shape& y_shape,
            const Conv2dParams& p, const char* name) {
  static const Kernel k("conv2d");
  Tensor y = empty(y_shape, x.options(), ops::output_format(k, x));
  ops::dispatch(k, x.dtype(), {x, w, bias}, {y}, &p);
  if (needs_grad({x, w, bias}))
    record(name, {x, w, bias}, {y}, [sx = autograd::save(x), sw = autograd::save(w), p](const FunctionNode& n, const TensorList& g) {
      Tensor x_ = n.unpack(sx), w_ = n.unpack(sw);
      return TensorList{n.needs_input_grad(0) ? conv_in(g[0], w_, Tensor(), x_.sizes(), x_.suggest_memory_format(), p, "conv2d_backward_input") : Tensor(),
                        n.needs_input_grad(1) ? conv_w(x_, g[0], w_.sizes(), p) : Tensor(),
                        n.needs_input_grad(2) ? sum(g[0], {0, 2, 3}) : Tensor()};
    });
  return y;
}

// d/dgy = conv(g, w), d/dw = conv_w(g, gy), d/dbias = sum of g over N, H, W
// gx takes the layout x_format (the forward input's) where the kernel writes it.
Tensor conv_in(const Tensor& gy, const Tensor& w, const Tensor& bias, const Shape& x_shape,
               MemoryFormat x_format, const Conv2dParams& p, const char* name) {
  static const Kernel k("conv2d_backward_input");
  Tensor gx = empty(x_shape, gy.options(), ops::output_format(k, gy, x_format));
  ops::dispatch(k, gy.dtype(), {gy, w, bias}, {gx}, &p);
  if (needs_grad({gy, w, bias}))
    record(name, {gy, w, bias}, {gx}, [sgy = autograd::save(gy), sw = autograd::save(w), p](const FunctionNode& n, const TensorList& g) {
      Tensor gy_ = n.unpack(sgy), w_ = n.unpack(sw);
      return TensorList{n.needs_input_grad(0) ? conv(g[0], w_, Tensor(), gy_.sizes(), p, "conv2d") : Tensor(),
                        n.needs_input_grad(1) ? conv_w(g[0], gy_, w_.sizes(), p) : Tensor(),
                        n.needs_input_grad(2) ? sum(g[0], {0, 2, 3}) : Tensor()};
    });
  return gx;
}

// d/dx = conv_in(gy, g), d/dgy = conv(x, g)
Tensor conv_w(const Tensor& x, const Tensor& gy, const Shape& w_shape, const Conv2dParams& p) {
  static const Kernel k("conv2d_backward_weight");
  Tensor gw = empty(w_shape, x.options());
  ops::dispatch(k, x.dtype(), {x, gy}, {gw}, &p);
  if (needs_grad({x, gy}))
    record("conv2d_backward_weight", {x, gy}, {gw}, [sx = autograd::save(x), sgy = autograd::save(gy), p](const FunctionNode& n, const TensorList& g) {
      Tensor x_ = n.unpack(sx), gy_ = n.unpack(sgy);
      return TensorList{n.needs_input_grad(0) ? conv_in(gy_, g[0], Tensor(), x_.sizes(), x_.suggest_memory_format(), p, "conv2d_backward_input") : Tensor(),
                        n.needs_input_grad(1) ? conv(x_, g[0], Tensor(), gy_.sizes(), p, "conv2d") : Tensor()};
    });
  return gw;
}

// Checks what conv2d and conv_transpose2d share: ranks, dtypes, devices and the positive/non-negative
// stride, dilation, padding and groups.
Conv2dParams conv_params(const char* op, const Tensor& input, const Tensor& weight, const Tensor& bias,
                         Size2 stride, Size2 padding, Size2 dilation, int64_t groups) {
  ops::check_floating(op, input);
  ops::check_same_dtype(op, {input, weight, bias});
  ops::check_same_device(op, {input, weight, bias});
  TUTOR_CHECK(input.dim() == 4, "{}: expected a 4-D input [N, C, H, W], got shape {}", op,
              shape_str(input.sizes()));
  TUTOR_CHECK(weight.dim() == 4, "{}: expected a 4-D weight, got shape {}", op, shape_str(weight.sizes()));
  Conv2dParams p{stride.array(), padding.array(), dilation.array(), groups};
  TUTOR_CHECK(groups >= 1, "{}: groups must be positive, got {}", op, groups);
  TUTOR_CHECK(p.stride[0] > 0 && p.stride[1] > 0, "{}: stride must be positive, got {}", op, pair_str(p.stride));
  TUTOR_CHECK(p.dilation[0] > 0 && p.dilation[1] > 0, "{}: dilation must be positive, got {}", op,
              pair_str(p.dilation));
  TUTOR_CHECK(p.padding[0] >= 0 && p.padding[1] >= 0, "{}: padding must be non-negative, got {}", op,
              pair_str(p.padding));
  return p;
}

void check_bias(const char* op, const Tensor& bias, int64_t channels, const Tensor& weight) {
  if (!bias.defined()) return;
  TUTOR_CHECK(bias.dim() == 1 && bias.size(0) == channels,
              "{}: bias of shape {} does not match the {} output channels of weight {}", op,
              shape_str(bias.sizes()), channels, shape_str(weight.sizes()));
}

// floor(a / b) for b > 0
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

// OH = floor((H + 2*padding - dilation*(kH - 1) - 1) / stride) + 1 (PyTorch docs, torch.nn.Conv2d).
ops::Conv2dCall ops::check_conv2d(const char* op, const Tensor& input, const Tensor& weight,
                                  const Tensor& bias, Size2 stride, Size2 padding, Size2 dilation,
                                  int64_t groups) {
  Conv2dParams p = conv_params(op, input, weight, bias, stride, padding, dilation, groups);
  const Shape &xs = input.sizes(), &ws = weight.sizes();
  TUTOR_CHECK(xs[1] == ws[1] * groups,
              "{}: weight of shape {} with groups={} expects {} input channels, input has shape {}",
              op, shape_str(ws), groups, ws[1] * groups, shape_str(xs));
  TUTOR_CHECK(ws[0] % groups == 0, "{}: weight of shape {} has {} output channels, not divisible by groups={}",
              op, shape_str(ws), ws[0], groups);
  check_bias(op, bias, ws[0], weight);
  Shape ys = {xs[0], ws[0], 0, 0};
  for (size_t i = 0; i < 2; ++i) {
    const int64_t padded = xs[2 + i] + 2 * p.padding[i], span = p.dilation[i] * (ws[2 + i] - 1) + 1;
    TUTOR_CHECK(padded >= span,
                "{}: input of shape {} padded by {} is smaller than the kernel of weight {} "
                "(dilation {}): {} < {} along dim {}",
                op, shape_str(xs), pair_str(p.padding), shape_str(ws), pair_str(p.dilation), padded, span,
                2 + i);
    ys[2 + i] = (padded - span) / p.stride[i] + 1;
  }
  return {p, ys};
}

// y[n, o] = bias[o] + sum_c (w[o, c] star x[n, g*C/G + c]), output size as check_conv2d.
// Derivatives: see conv, conv_in and conv_w above.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Size2 stride,
              Size2 padding, Size2 dilation, int64_t groups) {
  const ops::Conv2dCall c = ops::check_conv2d("conv2d", input, weight, bias, stride, padding, dilation, groups);
  return conv(input, weight, bias, c.output_shape, c.params, "conv2d");
}

// The adjoint of conv2d(., weight) in its input, plus bias[o] on output channel o, with
// H_out = (H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1
// (PyTorch docs, torch.nn.ConvTranspose2d). Its derivatives are those of conv_in above.
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Size2 stride,
                        Size2 padding, Size2 output_padding, int64_t groups, Size2 dilation) {
  const char* op = "conv_transpose2d";
  Conv2dParams p = conv_params(op, input, weight, bias, stride, padding, dilation, groups);
  const Shape &xs = input.sizes(), &ws = weight.sizes();
  TUTOR_CHECK(xs[1] == ws[0],
              "conv_transpose2d: weight of shape {} expects {} input channels, input has shape {}",
              shape_str(ws), ws[0], shape_str(xs));
  TUTOR_CHECK(ws[0] % groups == 0,
              "conv_transpose2d: weight of shape {} has {} input channels, not divisible by groups={}",
              shape_str(ws), ws[0], groups);
  check_bias(op, bias, ws[1] * groups, weight);
  const auto op_pad = output_padding.array();
  Shape ys = {xs[0], ws[1] * groups, 0, 0};
  for (size_t i = 0; i < 2; ++i) {
    TUTOR_CHECK(op_pad[i] >= 0 && (op_pad[i] < p.stride[i] || op_pad[i] < p.dilation[i]),
                "conv_transpose2d: output_padding {} must be smaller than either stride {} or dilation {}",
                pair_str(op_pad), pair_str(p.stride), pair_str(p.dilation));
    ys[2 + i] = (xs[2 + i] - 1) * p.stride[i] - 2 * p.padding[i] + p.dilation[i] * (ws[2 + i] - 1) +
                op_pad[i] + 1;
  }
  for (size_t i = 0; i < 2; ++i)
    TUTOR_CHECK(ys[2 + i] > 0,
                "conv_transpose2d: input of shape {} with weight {}, stride {}, padding {} gives an empty "
                "output of shape {}",
                shape_str(xs), shape_str(ws), pair_str(p.stride), pair_str(p.padding), shape_str(ys));
  return conv_in(input, weight, bias, ys, input.suggest_memory_format(), p, op);
}

Tensor to_conv_layout(const Tensor& input) {
  static const Kernel k("conv2d");
  if (input.dim() != 4 || !input.is_floating_point() ||
      ops::output_format(k, input, MemoryFormat::ChannelsLast) != MemoryFormat::ChannelsLast)
    return input;
  return input.contiguous(MemoryFormat::ChannelsLast);
}

// ---- pooling ----

namespace {

void check_pool_input(const char* op, const Tensor& x) {
  ops::check_floating(op, x);
  TUTOR_CHECK(x.dim() == 4, "{}: expected a 4-D input [N, C, H, W], got shape {}", op, shape_str(x.sizes()));
  TUTOR_CHECK(x.size(2) > 0 && x.size(3) > 0, "{}: input of shape {} has an empty spatial dim", op,
              shape_str(x.sizes()));
}

// A fixed-window pooling op, checked: its kernel parameters and output shape. PyTorch's
// pooling_output_shape: OH = floor_or_ceil((H + 2*padding - dilation*(kH - 1) - 1) / stride) + 1,
// and with ceil_mode the last window must start inside the input or the left padding, else it is
// dropped. Padding is at most half the (dilated) kernel.
std::pair<Pool2dParams, Shape> pool_params(const char* op, const Tensor& x, Size2 kernel_size,
                                           std::optional<Size2> stride, Size2 padding, Size2 dilation,
                                           bool ceil_mode) {
  check_pool_input(op, x);
  Pool2dParams p;
  p.kernel_size = kernel_size.array();
  p.stride = stride.value_or(kernel_size).array();
  p.padding = padding.array();
  p.dilation = dilation.array();
  Shape out = {x.size(0), x.size(1), 0, 0};
  for (size_t i = 0; i < 2; ++i) {
    TUTOR_CHECK(p.kernel_size[i] > 0 && p.stride[i] > 0 && p.dilation[i] > 0,
                "{}: kernel_size {}, stride {} and dilation {} must be positive", op, pair_str(p.kernel_size),
                pair_str(p.stride), pair_str(p.dilation));
    const int64_t span = p.dilation[i] * (p.kernel_size[i] - 1) + 1;
    TUTOR_CHECK(p.padding[i] >= 0 && 2 * p.padding[i] <= span,
                "{}: padding {} must be non-negative and at most half of the kernel {} (dilation {})", op,
                pair_str(p.padding), pair_str(p.kernel_size), pair_str(p.dilation));
    const int64_t n = x.size(2 + int64_t(i)), s = p.stride[i], pad = p.padding[i];
    int64_t o = floor_div(n + 2 * pad - span + (ceil_mode ? s - 1 : 0), s) + 1;
    if (ceil_mode && (o - 1) * s >= n + pad) --o;
    out[2 + i] = o;
  }
  TUTOR_CHECK(out[2] > 0 && out[3] > 0,
              "{}: input of shape {} with kernel_size {}, padding {}, dilation {} gives an empty output {}", op,
              shape_str(x.sizes()), pair_str(p.kernel_size), pair_str(p.padding), pair_str(p.dilation),
              shape_str(out));
  return {p, out};
}

Shape adaptive_shape(const char* op, const Tensor& x, Size2 output_size) {
  check_pool_input(op, x);
  TUTOR_CHECK(output_size.h > 0 && output_size.w > 0, "{}: output_size {} must be positive (input {})", op,
              pair_str(output_size.array()), shape_str(x.sizes()));
  return {x.size(0), x.size(1), output_size.h, output_size.w};
}

// Max pooling's gradient goes to each window's argmax: gx[plane, idx] += g. Linear in g; its adjoint
// gathers at the same indices, so each is the other's derivative.
Tensor gather_argmax(const Tensor& gx, const Tensor& indices);

// gx takes the layout x_format (the forward input's) where the kernel writes it.
Tensor scatter_to_argmax(const Tensor& g, const Tensor& indices, const Shape& x_shape,
                         MemoryFormat x_format) {
  static const Kernel k("max_pool2d_backward");
  Tensor gx = empty(x_shape, g.options(), ops::output_format(k, g, x_format));
  ops::dispatch(k, g.dtype(), {g, indices}, {gx});
  if (needs_grad({g}))
    record("max_pool2d_backward", {g}, {gx}, [si = autograd::save(indices)](const FunctionNode& n, const TensorList& gg) {
      return TensorList{gather_argmax(gg[0], n.unpack(si))};
    });
  return gx;
}

Tensor gather_argmax(const Tensor& gx, const Tensor& indices) {
  static const Kernel k("max_pool2d_double_backward");
  Tensor y = empty(indices.sizes(), gx.options());
  ops::dispatch(k, gx.dtype(), {gx, indices}, {y});
  if (needs_grad({gx}))
    record("max_pool2d_double_backward", {gx}, {y}, [si = autograd::save(indices), xs = gx.sizes(), xf = gx.suggest_memory_format()](const FunctionNode& n, const TensorList& g) {
      return TensorList{scatter_to_argmax(g[0], n.unpack(si), xs, xf)};
    });
  return y;
}

// y = max over each window, indices = its flat position in the H*W plane; dy/dx = 1 at the argmax.
std::pair<Tensor, Tensor> max_pool(const Kernel& k, const Tensor& x, const Shape& out, const Pool2dParams* p) {
  const MemoryFormat format = ops::output_format(k, x);
  Tensor y = empty(out, x.options(), format), indices = empty(out, x.options().dtype(DType::i64), format);
  ops::dispatch(k, x.dtype(), {x}, {y, indices}, p);
  if (needs_grad({x}))
    record(k.name, {x}, {y}, [si = autograd::save(indices), xs = x.sizes(), xf = x.suggest_memory_format()](const FunctionNode& n, const TensorList& g) {
      return TensorList{scatter_to_argmax(g[0], n.unpack(si), xs, xf)};
    });
  return {y, indices};
}

// Average pooling (fixed windows with their params, or adaptive windows without) and its adjoint,
// which spreads g / divisor over each window; each is the other's derivative.
struct AvgPool {
  const Kernel* forward;
  const Kernel* backward;
  std::optional<Pool2dParams> params;
  const Pool2dParams* p() const { return params ? &*params : nullptr; }
};

Tensor avg_pool_backward(const AvgPool& a, const Tensor& g, const Shape& x_shape, MemoryFormat x_format);

Tensor avg_pool(const AvgPool& a, const Tensor& x, const Shape& out) {
  Tensor y = empty(out, x.options(), ops::output_format(*a.forward, x));
  ops::dispatch(*a.forward, x.dtype(), {x}, {y}, a.p());
  if (needs_grad({x}))
    record(a.forward->name, {x}, {y}, [a, xs = x.sizes(), xf = x.suggest_memory_format()](const FunctionNode&, const TensorList& g) {
      return TensorList{avg_pool_backward(a, g[0], xs, xf)};
    });
  return y;
}

// gx takes the layout x_format (the forward input's) where the kernel writes it.
Tensor avg_pool_backward(const AvgPool& a, const Tensor& g, const Shape& x_shape, MemoryFormat x_format) {
  Tensor gx = empty(x_shape, g.options(), ops::output_format(*a.backward, g, x_format));
  ops::dispatch(*a.backward, g.dtype(), {g}, {gx}, a.p());
  if (needs_grad({g}))
    record(a.backward->name, {g}, {gx}, [a, ys = g.sizes()](const FunctionNode&, const TensorList& gg) {
      return TensorList{avg_pool(a, gg[0], ys)};
    });
  return gx;
}

}  // namespace

// y[n, c, i, j] = max_{a, b < k} x[n, c, i*stride - padding + a*dilation, j*stride - padding + b*dilation]
// over the taps inside the input (PyTorch docs, torch.nn.MaxPool2d; output size in pool_params).
// Derivative: the gradient goes to the argmax (scatter_to_argmax).
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, Size2 kernel_size,
                                                  std::optional<Size2> stride, Size2 padding,
                                                  Size2 dilation, bool ceil_mode) {
  static const Kernel k("max_pool2d");
  auto [p, out] = pool_params("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode);
  return max_pool(k, input, out, &p);
}

Tensor max_pool2d(const Tensor& input, Size2 kernel_size, std::optional<Size2> stride, Size2 padding,
                  Size2 dilation, bool ceil_mode) {
  return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode).first;
}

// y[n, c, i, j] = sum of x over the window / divisor, the window being
// [i*stride - padding, min(i*stride - padding + k, H + padding)) clipped to the input; the divisor
// is divisor_override, else the unclipped window size when count_include_pad, else the clipped one
// (PyTorch docs and aten/src/ATen/native/cpu/AvgPoolKernel.cpp). Derivative: avg_pool_backward.
Tensor avg_pool2d(const Tensor& input, Size2 kernel_size, std::optional<Size2> stride, Size2 padding,
                  bool ceil_mode, bool count_include_pad, std::optional<int64_t> divisor_override) {
  static const Kernel fwd("avg_pool2d"), bwd("avg_pool2d_backward");
  auto [p, out] = pool_params("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode);
  TUTOR_CHECK(!divisor_override || *divisor_override != 0, "avg_pool2d: divisor_override must be non-zero");
  p.count_include_pad = count_include_pad;
  p.divisor_override = divisor_override;
  return avg_pool({&fwd, &bwd, p}, input, out);
}

// Output (i, j) averages rows [floor(i*H/OH), ceil((i+1)*H/OH)) and the columns alike
// (PyTorch, aten/src/ATen/native/AdaptiveAveragePooling.cpp). Derivative: avg_pool_backward.
Tensor adaptive_avg_pool2d(const Tensor& input, Size2 output_size) {
  static const Kernel fwd("adaptive_avg_pool2d"), bwd("adaptive_avg_pool2d_backward");
  return avg_pool({&fwd, &bwd, std::nullopt}, input, adaptive_shape("adaptive_avg_pool2d", input, output_size));
}

// The maximum over adaptive_avg_pool2d's windows, with its flat index in the H*W plane.
// Derivative: the gradient goes to the argmax.
std::pair<Tensor, Tensor> adaptive_max_pool2d_with_indices(const Tensor& input, Size2 output_size) {
  static const Kernel k("adaptive_max_pool2d");
  return max_pool(k, input, adaptive_shape("adaptive_max_pool2d", input, output_size), nullptr);
}

Tensor adaptive_max_pool2d(const Tensor& input, Size2 output_size) {
  return adaptive_max_pool2d_with_indices(input, output_size).first;
}

void ops::add_conv_pool_ops(std::vector<OpInfo>& ops) {
  ops.push_back({"conv2d", true, {"conv2d", "conv2d_backward_input", "conv2d_backward_weight"}});
  ops.push_back({"conv_transpose2d", true, {"conv2d_backward_input", "conv2d", "conv2d_backward_weight"}});
  ops.push_back({"max_pool2d", true, {"max_pool2d", "max_pool2d_backward", "max_pool2d_double_backward"}});
  ops.push_back({"avg_pool2d", true, {"avg_pool2d", "avg_pool2d_backward"}});
  ops.push_back({"adaptive_avg_pool2d", true, {"adaptive_avg_pool2d", "adaptive_avg_pool2d_backward"}});
  ops.push_back({"adaptive_max_pool2d", true,
                 {"adaptive_max_pool2d", "max_pool2d_backward", "max_pool2d_double_backward"}});
}

}  // namespace tutor
