// conv2d, conv2d_backward_input and conv2d_backward_weight (NCHW) on oneDNN's convolution
// primitives. The conventions are those of kernels/reference/conv_pool.cpp: input [N, C, H, W],
// weight [O, C/G, kH, kW], output [N, O, OH, OW]; inputs with any positive strides (a permuted
// input is described by its strides).
//
// Layouts. Given contiguous (NCHW) activations, the primitives choose their own (blocked) layouts
// and the adapter reorders x, w and y at every call. Given channels-last activations (the output
// then is channels-last too: the kernels are marked so, and the ops allocate accordingly), the
// primitives are created for nhwc activations, which oneDNN's jit convolutions run directly, so
// only the weight is reordered: what keeps a channels-last CNN free of activation reorders. The
// forward's weight copy is kept between calls while the weight is unchanged (Exec::input_kept).
// One exception to both: a pass whose chosen kernel would pad a tensor 4x or more (see
// pads_heavily) runs on plain NCHW activations, reordered for that pass alone.
//
// "conv2d_relu" (engine/ops/fused.h) is the forward primitive with post-ops: a `sum` that adds
// the residual (copied into the output first, where the primitive reads it back), then ReLU, so a
// ResNet block's closing conv + BN (folded) + add + ReLU writes its output once.
//
// oneDNN's geometry differs from PyTorch's in two ways: its dilation counts the gaps (PyTorch's
// d is oneDNN's d - 1), and it takes the right/bottom padding explicitly, which must satisfy
// OH = (H + pad_l + pad_r - ((kH - 1) d + 1)) / s + 1 in integer division.
#include <algorithm>

#include "kernels/conv_pool_params.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/onednn.h"
#include "kernels/registry.h"

namespace tutor::kernels::cpu {

namespace {

using onednn::memory;

struct Geometry {
  memory::dims strides, dilates, pad_l, pad_r;
};

// x and y are the NCHW shapes of the convolution's input and output, w its weight's; x has been
// cut to the rows and columns the convolution reaches (see reached()).
Geometry geometry(const Conv2dParams& p, const Shape& x, const Shape& w, const Shape& y) {
  Geometry g;
  for (size_t i = 0; i < 2; ++i) {
    const int64_t in = x[2 + i], out = y[2 + i], span = (w[2 + i] - 1) * p.dilation[i] + 1;
    const int64_t s = p.stride[i], pad = p.padding[i];
    g.strides.push_back(s);
    g.dilates.push_back(p.dilation[i] - 1);
    g.pad_l.push_back(pad);
    // Symmetric padding when it gives the right size (conv2d always), else the exact one.
    const bool symmetric = (in + 2 * pad - span) / s + 1 == out;
    g.pad_r.push_back(symmetric ? pad : (out - 1) * s + span - in - pad);
  }
  return g;
}

// x cut, where needed, to the rows and columns that some output reads: the last output reads up
// to row (OH - 1) s - pad + span. conv_transpose2d's output_padding can make x longer than that;
// the rows beyond feed no output and get no gradient, and leaving them out keeps oneDNN's right
// padding non-negative, which it requires of dilated convolutions. Where the symmetric padding
// already gives the output's size (conv2d always, e.g. a stride-2 1x1 conv leaving x's last row
// unread), x stays whole: a cut channels-last x would no longer be dense nhwc and would cost a
// reorder.
Tensor reached(const Tensor& x, const Conv2dParams& p, const Shape& w, const Shape& y) {
  Shape sizes = x.sizes();
  for (size_t i = 0; i < 2; ++i) {
    const int64_t span = (w[2 + i] - 1) * p.dilation[i] + 1;
    const int64_t padded = sizes[2 + i] + 2 * p.padding[i];
    if (padded >= span && (padded - span) / p.stride[i] + 1 == y[2 + i]) continue;
    sizes[2 + i] = std::min(sizes[2 + i], (y[2 + i] - 1) * p.stride[i] - p.padding[i] + span);
  }
  return sizes == x.sizes() ? x : x.as_strided_raw(sizes, x.strides(), x.offset());
}

// The weight seen as oneDNN's grouped weight [G, O/G, C/G, kH, kW] (plain [O, C, kH, kW] when
// G = 1), through w's own strides.
Shape grouped_dims(const Shape& w, int64_t groups) {
  if (groups == 1) return w;
  return {groups, w[0] / groups, w[1], w[2], w[3]};
}

memory::desc weight_desc(const Tensor& w, int64_t groups) {
  if (groups == 1) return onednn::plain_desc(w);
  const Shape& s = w.strides();
  return onednn::strided_desc(w.dtype(), grouped_dims(w.sizes(), groups),
                              {s[0] * (w.size(0) / groups), s[0], s[1], s[2], s[3]});
}

// The activations' layout a call runs in: nhwc when its activation output (or, for the weight
// gradient, its input) is channels-last, else whatever oneDNN prefers.
bool nhwc(const Tensor& activation) {
  return activation.suggest_memory_format() == MemoryFormat::ChannelsLast;
}

memory::desc nhwc_desc(DType dtype, const Shape& dims) {
  return memory::desc(memory::dims(dims.begin(), dims.end()), onednn::data_type(dtype, "conv2d"),
                      memory::format_tag::nhwc);
}

// How an activation tensor is handed to a primitive: as nhwc when the call runs nhwc and the
// tensor is dense in that order (so the descriptors match and nothing is reordered; strided_desc
// would describe a size-1 dim's stride differently), else through its own strides.
memory::desc activation_desc(const Tensor& t, bool in_nhwc) {
  return in_nhwc && t.is_contiguous(MemoryFormat::ChannelsLast) ? nhwc_desc(t.dtype(), t.sizes())
                                                                : onednn::plain_desc(t);
}

// The three primitives share their descriptors: x, w and y with layouts left to oneDNN, or x and
// y nhwc.
struct Descs {
  memory::desc x, w, y, bias;
  Geometry geo;
};

Descs descs(DType dtype, const Conv2dParams& p, const Shape& x, const Shape& w, const Shape& y,
            const Tensor& bias, bool in_nhwc) {
  auto activation = [&](const Shape& dims) {
    return in_nhwc ? nhwc_desc(dtype, dims) : onednn::any_desc(dtype, dims);
  };
  return {activation(x), onednn::any_desc(dtype, grouped_dims(w, p.groups)), activation(y),
          bias.defined() ? onednn::plain_desc(bias) : memory::desc(), geometry(p, x, w, y)};
}

// True when the primitive pads a dim of a tensor it reads or writes to 4x its size or more.
// oneDNN 2.6's blocked kernels pad channels to blocks of 16: the backward data of a 1- or
// 3-channel stem pads its weight's input channels to 16, doing 16x or 5x the work (DNNL_VERBOSE,
// 1 thread: 190 ms for the ResNet-18 stem at batch 16, against 65 ms for its forward).
bool pads_heavily(const dnnl::primitive_desc_base& pd) {
  for (int arg : {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST, DNNL_ARG_DIFF_SRC,
                  DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_DST}) {
    const dnnl_memory_desc_t& md = pd.query_md(dnnl::query::exec_arg_md, arg).data;
    for (int i = 0; i < md.ndims; ++i)
      if (md.padded_dims[i] >= 4 * md.dims[i]) return true;
  }
  return false;
}

// The primitive descriptor `make` builds from `d`, unless its implementation pads heavily: then
// the one for plain NCHW activations (oneDNN's gemm convolution, which pads nothing: 60 ms for
// that stem's backward data), if oneDNN has one without padding. The activations are reordered
// into and out of NCHW for that pass alone.
template <class MakePd>
auto unpadded(Descs d, const MakePd& make) {
  auto pd = make(d);
  if (!pads_heavily(pd)) return pd;
  auto nchw = [](const memory::desc& md) {
    return memory::desc(md.dims(), md.data_type(), memory::format_tag::nchw);
  };
  d.x = nchw(d.x);
  d.y = nchw(d.y);
  d.w = memory::desc(d.w.dims(), d.w.data_type(), memory::format_tag::any);
  try {
    auto plain = make(d);
    if (!pads_heavily(plain)) return plain;
  } catch (const dnnl::error& e) {
    if (e.status != dnnl_unimplemented) throw;
  }
  return pd;
}

// What the forward primitive does after the convolution and bias: add the output's previous
// contents (`sum`: the residual), then ReLU. Fused calls are inference-only (engine/ops/fused.h).
struct PostOps {
  bool sum = false, relu = false;
};

dnnl::convolution_forward::primitive_desc forward_pd(const Descs& d, PostOps post = {}) {
  using dnnl::convolution_forward;
  const auto& g = d.geo;
  const auto prop =
      post.relu ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
  auto desc = d.bias.is_zero()
                  ? convolution_forward::desc(prop, dnnl::algorithm::convolution_direct, d.x, d.w,
                                              d.y, g.strides, g.dilates, g.pad_l, g.pad_r)
                  : convolution_forward::desc(prop, dnnl::algorithm::convolution_direct, d.x, d.w,
                                              d.bias, d.y, g.strides, g.dilates, g.pad_l, g.pad_r);
  dnnl::post_ops ops;
  if (post.sum) ops.append_sum(1.0f);
  if (post.relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  return convolution_forward::primitive_desc(desc, attr, onednn::engine());
}

onednn::Key conv_key(const char* op, const KernelArgs& a, const Tensor& in0, const Tensor& in1,
                     const Tensor& bias) {
  const auto& p = a.p<Conv2dParams>();
  return onednn::Key(op)
      .add(in0)
      .add(in1)
      .add(bias)
      .add(a.out[0].sizes())
      .add({p.stride[0], p.stride[1], p.padding[0], p.padding[1], p.dilation[0], p.dilation[1],
            p.groups});
}

const Tensor& optional_bias(const KernelArgs& a) {
  static const Tensor none;
  return a.in.size() > 2 ? a.in[2] : none;
}

// A convolution with an empty reduction (no input channels, or no kernel taps) has nothing for
// oneDNN to do; its output is the bias (or zero).
bool empty_reduction(const Tensor& w) { return w.numel() == 0; }

// out[n, c, ...] += bias[c], in place, on oneDNN's binary primitive (broadcasting bias).
void add_channel_bias(const Tensor& out, const Tensor& bias) {
  const Shape& s = out.sizes();
  const memory::desc od = onednn::plain_desc(out);
  const memory::desc bd =
      onednn::strided_desc(bias.dtype(), {1, s[1], 1, 1}, {0, bias.stride(0), 0, 0});
  const onednn::Key key = onednn::Key("channel_bias").add(out).add(bias);
  onednn::Primitive p = onednn::cached(key, [&] {
    return dnnl::binary::primitive_desc(dnnl::binary::desc(dnnl::algorithm::binary_add, od, bd, od),
                                        onednn::engine());
  });
  TUTOR_CHECK(p.prim, "conv2d: oneDNN cannot add a bias of shape {} to an output of shape {}",
              shape_str(bias.sizes()), shape_str(s));
  onednn::Exec exec(p, key);
  exec.input(DNNL_ARG_SRC_0, out, od, od);
  exec.input(DNNL_ARG_SRC_1, bias, bd, bd);
  exec.output(DNNL_ARG_DST, out, od, od);
  exec.run();
}

void fill_bias_or_zero(const Tensor& out, const Tensor& bias) {
  out.fill_raw_(0.0);
  if (bias.defined()) add_channel_bias(out, bias);
}

// in: x [N, C, H, W], w [O, C/G, kH, kW], optional bias [O], with post.sum the residual (y's
// shape); out: y [N, O, OH, OW]
void run_forward(const KernelArgs& a, const char* op, PostOps post) {
  const Tensor& y = a.out[0];
  if (y.numel() == 0) return;
  const auto& p = a.p<Conv2dParams>();
  const Tensor w = onednn::addressable_or_packed(a.in[1]);
  const Tensor x = reached(onednn::addressable_or_packed(a.in[0]), p, w.sizes(), y.sizes());
  // oneDNN's convolution reads the bias as dense whatever its descriptor's strides say (a stride-2
  // bias came out wrong, as matmul's does), and a packed copy of O values costs nothing.
  const Tensor bias = optional_bias(a).defined() ? optional_bias(a).contiguous_raw() : Tensor();
  TUTOR_CHECK(!post.relu || !empty_reduction(w),
              "{}: the fused kernel needs a non-empty reduction (weight {}); the op composes", op,
              shape_str(w.sizes()));
  if (empty_reduction(w)) return fill_bias_or_zero(y, bias);
  const bool in_nhwc = nhwc(y);
  const onednn::Key key = conv_key(op, a, x, w, bias).add(in_nhwc).add(post.sum);
  onednn::Primitive prim = onednn::cached(key, [&] {
    return unpadded(descs(y.dtype(), p, x.sizes(), w.sizes(), y.sizes(), bias, in_nhwc),
                    [post](const Descs& d) { return forward_pd(d, post); });
  });
  TUTOR_CHECK(prim.prim, "{}: oneDNN has no kernel for input {} and weight {}", op,
              shape_str(x.sizes()), shape_str(w.sizes()));
  if (post.sum) y.copy_raw_(a.in[3]);
  onednn::Exec exec(prim, key);
  exec.input(DNNL_ARG_SRC, x, activation_desc(x, in_nhwc), prim.pd.src_desc(0));
  // A packed copy of a weight is new at every call: only the weight itself is worth keeping.
  if (w.is_same(a.in[1]))
    exec.input_kept(DNNL_ARG_WEIGHTS, w, weight_desc(w, p.groups), prim.pd.weights_desc(0));
  else
    exec.input(DNNL_ARG_WEIGHTS, w, weight_desc(w, p.groups), prim.pd.weights_desc(0));
  if (bias.defined())
    exec.input(DNNL_ARG_BIAS, bias, onednn::plain_desc(bias), prim.pd.weights_desc(1));
  if (post.sum)
    exec.inout(DNNL_ARG_DST, y, activation_desc(y, in_nhwc), prim.pd.dst_desc(0));
  else
    exec.output(DNNL_ARG_DST, y, activation_desc(y, in_nhwc), prim.pd.dst_desc(0));
  exec.run();
}

void conv2d_kernel(const KernelArgs& a) { run_forward(a, "conv2d", {}); }

// in: x, w, bias (or undefined), residual (or undefined); out: y = relu(conv2d(x) + residual)
void conv2d_relu_kernel(const KernelArgs& a) {
  run_forward(a, "conv2d_relu", {.sum = a.in[3].defined(), .relu = true});
}

// The adjoint of conv2d in its input, plus bias[c] (conv_transpose2d's bias).
// in: g [N, O, OH, OW], w [O, C/G, kH, kW], optional bias [C]; out: gx [N, C, H, W]
void conv2d_backward_input_kernel(const KernelArgs& a) {
  const Tensor& full = a.out[0];
  if (full.numel() == 0) return;
  const auto& p = a.p<Conv2dParams>();
  const Tensor g = onednn::addressable_or_packed(a.in[0]),
               w = onednn::addressable_or_packed(a.in[1]);
  const Tensor bias =
      optional_bias(a).defined() ? onednn::addressable_or_packed(optional_bias(a)) : Tensor();
  if (empty_reduction(w)) return fill_bias_or_zero(full, bias);
  const Tensor gx = reached(full, p, w.sizes(), g.sizes());
  if (!gx.is_same(full)) full.fill_raw_(0.0);  // rows no output reads have a zero gradient
  const bool in_nhwc = nhwc(full);
  const onednn::Key key = conv_key("conv2d_backward_input", a, g, w, Tensor()).add(in_nhwc);
  onednn::Primitive prim = onednn::cached(key, [&] {
    using dnnl::convolution_backward_data;
    return unpadded(
        descs(gx.dtype(), p, gx.sizes(), w.sizes(), g.sizes(), Tensor(), in_nhwc),
        [](const Descs& d) {
          const auto& geo = d.geo;
          return convolution_backward_data::primitive_desc(
              convolution_backward_data::desc(dnnl::algorithm::convolution_direct, d.x, d.w, d.y,
                                              geo.strides, geo.dilates, geo.pad_l, geo.pad_r),
              onednn::engine(), forward_pd(d));
        });
  });
  TUTOR_CHECK(prim.prim, "conv2d_backward_input: oneDNN has no kernel for grad {} and weight {}",
              shape_str(g.sizes()), shape_str(w.sizes()));
  onednn::Exec exec(prim, key);
  exec.input(DNNL_ARG_DIFF_DST, g, activation_desc(g, in_nhwc), prim.pd.diff_dst_desc(0));
  exec.input(DNNL_ARG_WEIGHTS, w, weight_desc(w, p.groups), prim.pd.weights_desc(0));
  exec.output(DNNL_ARG_DIFF_SRC, gx, activation_desc(gx, in_nhwc), prim.pd.diff_src_desc(0));
  exec.run();
  if (bias.defined()) add_channel_bias(full, bias);
}

// The adjoint of conv2d in its weight. in: x [N, C, H, W], g [N, O, OH, OW]; out: gw w-shaped
void conv2d_backward_weight_kernel(const KernelArgs& a) {
  const Tensor& gw = a.out[0];
  if (gw.numel() == 0) return;
  const auto& p = a.p<Conv2dParams>();
  const Tensor g = onednn::addressable_or_packed(a.in[1]);
  const Tensor x = reached(onednn::addressable_or_packed(a.in[0]), p, gw.sizes(), g.sizes());
  if (x.numel() == 0 || g.numel() == 0) return gw.fill_raw_(0.0);
  const bool in_nhwc = nhwc(a.in[0]);
  const onednn::Key key = conv_key("conv2d_backward_weight", a, x, g, Tensor()).add(in_nhwc);
  onednn::Primitive prim = onednn::cached(key, [&] {
    using dnnl::convolution_backward_weights;
    return unpadded(
        descs(gw.dtype(), p, x.sizes(), gw.sizes(), g.sizes(), Tensor(), in_nhwc),
        [](const Descs& d) {
          const auto& geo = d.geo;
          return convolution_backward_weights::primitive_desc(
              convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, d.x, d.w, d.y,
                                                 geo.strides, geo.dilates, geo.pad_l, geo.pad_r),
              onednn::engine(), forward_pd(d));
        });
  });
  TUTOR_CHECK(prim.prim, "conv2d_backward_weight: oneDNN has no kernel for input {} and grad {}",
              shape_str(x.sizes()), shape_str(g.sizes()));
  onednn::Exec exec(prim, key);
  exec.input(DNNL_ARG_SRC, x, activation_desc(x, in_nhwc), prim.pd.src_desc(0));
  exec.input(DNNL_ARG_DIFF_DST, g, activation_desc(g, in_nhwc), prim.pd.diff_dst_desc(0));
  exec.output(DNNL_ARG_DIFF_WEIGHTS, gw, weight_desc(gw, p.groups), prim.pd.diff_weights_desc(0));
  exec.run();
}

}  // namespace

void register_conv() {
  for (DType dtype : {DType::f32, DType::bf16}) {
    register_kernel("conv2d", Backend::cpu, dtype, &conv2d_kernel);
    register_kernel("conv2d_backward_input", Backend::cpu, dtype, &conv2d_backward_input_kernel);
    register_kernel("conv2d_backward_weight", Backend::cpu, dtype, &conv2d_backward_weight_kernel);
    register_kernel("conv2d_relu", Backend::cpu, dtype, &conv2d_relu_kernel);
    for (const char* name : {"conv2d", "conv2d_backward_input", "conv2d_relu"})
      set_channels_last(name, Backend::cpu, dtype);
  }
}

}  // namespace tutor::kernels::cpu
