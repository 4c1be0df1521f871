// Reference kernels of the fused ops (engine/ops/fused.h): each is the reference kernels of its
// parts run one after the other, so that a fast fused kernel is checked against exactly the
// unfused composition.
//
// "linear_gelu": x [M, K] and weight [N, K] (any strides), bias [N] or undefined, out [M, N]
// contiguous: out = gelu(x weight^T + bias), ScalarParams::a != 0 selecting GELU's tanh form. The
// product is the reference "matmul" kernel (sums in double, rounded to T), then bias and GELU in T
// as the unfused ops do.
//
// "conv2d_relu": x, weight, bias (or undefined), residual (or undefined), Conv2dParams; out y of
// the convolution's shape: y = relu(conv2d(x) + residual), the convolution being the reference
// "conv2d" kernel (sums in double, rounded to T, bias included), then the residual added and the
// ReLU applied in T as the unfused add and relu do.
//
// "batch_norm_relu": batch_norm's inputs, outputs and NormParams (kernels/reference/
// normalization.cpp), the reference "batch_norm" kernel then relu on y. "batch_norm_relu_backward":
// in g, x, weight, mean, rstd, y (the forward's output); out dx, dweight, dbias: the reference
// "batch_norm_backward" kernel of g masked by y > 0 (relu's backward, PyTorch's
// threshold_backward).
#include "engine/core/error.h"
#include "engine/core/strided.h"
#include "kernels/params.h"
#include "kernels/reference/gelu_math.h"
#include "kernels/reference/loops.h"
#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

namespace {

template <class T>
void linear_gelu_kernel(const KernelArgs& args) {
  const Tensor &x = args.in[0], &w = args.in[1], &bias = args.in[2];
  const Tensor& out = args.out[0];
  const int64_t m = x.size(0), k = x.size(1), n = w.size(0);
  static const KernelId matmul_id = kernel_id("matmul");
  const KernelFn matmul = find_kernel(matmul_id, Backend::reference, out.dtype());
  TUTOR_CHECK(matmul != nullptr, "linear_gelu: no reference matmul kernel for {}",
              dtype_name(out.dtype()));
  const Tensor in[2] = {x.as_strided_raw({1, m, k}, {0, x.stride(0), x.stride(1)}, x.offset()),
                        w.as_strided_raw({1, k, n}, {0, w.stride(1), w.stride(0)}, w.offset())};
  Tensor product[1] = {out.as_strided_raw({1, m, n}, {m * n, n, 1}, out.offset())};
  matmul(KernelArgs{in, product, nullptr});
  const bool tanh_form = args.p<ScalarParams>().a != 0;
  T* yp = out.data<T>();
  const T* bp = bias.defined() ? base<T>(bias) + bias.offset() : nullptr;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      T& y = yp[i * n + j];
      if (bp) y = y + bp[j * bias.stride(0)];
      y = gelu_value(y, tanh_form);
    }
}

// The reference kernel that `name` names for out's dtype; an Error naming `op` when there is none.
KernelFn reference_kernel(const char* op, const char* name, DType dtype) {
  const KernelFn fn = find_kernel(kernel_id(name), Backend::reference, dtype);
  TUTOR_CHECK(fn != nullptr, "{}: no reference {} kernel for {}", op, name, dtype_name(dtype));
  return fn;
}

template <class T>
void relu_in_place(const Tensor& t) {
  T* p = t.data<T>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = p[i] < T(0) ? T(0) : p[i];  // NaN stays
}

template <class T>
void conv2d_relu_kernel(const KernelArgs& args) {
  const Tensor& out = args.out[0];
  static const KernelFn conv = reference_kernel("conv2d_relu", "conv2d", out.dtype());
  // The reference conv writes a contiguous output; out may be laid out otherwise.
  Tensor y[1] = {out.is_contiguous() ? out : out.contiguous_raw()};
  conv(KernelArgs{std::span<const Tensor>(args.in.data(), 3), y, args.params});
  const Tensor& residual = args.in[3];
  T* yp = y[0].data<T>();
  if (residual.defined()) {
    const T* rp = base<T>(residual);
    const Shape contiguous = contiguous_strides(out.sizes());
    for_each_offset<2>(out.sizes(), {&contiguous, &residual.strides()}, {0, residual.offset()},
                       [&](int64_t oy, int64_t orr) { yp[oy] = yp[oy] + rp[orr]; });
  }
  relu_in_place<T>(y[0]);
  if (!y[0].is_same(out)) out.copy_raw_(y[0]);
}

template <class T>
void batch_norm_relu_kernel(const KernelArgs& args) {
  const Tensor& out = args.out[0];
  static const KernelFn bn = reference_kernel("batch_norm_relu", "batch_norm", out.dtype());
  std::vector<Tensor> outs(args.out.begin(), args.out.end());
  if (!out.is_contiguous()) outs[0] = out.contiguous_raw();
  bn(KernelArgs{args.in, outs, args.params});
  relu_in_place<T>(outs[0]);
  if (!outs[0].is_same(out)) out.copy_raw_(outs[0]);
}

template <class T>
void batch_norm_relu_backward_kernel(const KernelArgs& args) {
  const Tensor &g = args.in[0], &y = args.in[5];
  static const KernelFn bn_backward =
      reference_kernel("batch_norm_relu_backward", "batch_norm_backward", g.dtype());
  Tensor masked = empty(g.sizes(), TensorOptions().dtype(g.dtype()));
  masked.copy_raw_(g);
  T* mp = masked.data<T>();
  const T* yp = base<T>(y);
  const Shape contiguous = contiguous_strides(g.sizes());
  for_each_offset<2>(g.sizes(), {&contiguous, &y.strides()}, {0, y.offset()},
                     [&](int64_t om, int64_t oy) { mp[om] = yp[oy] > T(0) ? mp[om] : T(0); });
  const Tensor in[5] = {masked, args.in[1], args.in[2], args.in[3], args.in[4]};
  bn_backward(KernelArgs{in, args.out, args.params});
}

}  // namespace

void register_fused() {
  TUTOR_REGISTER_FLOATING("batch_norm_relu", batch_norm_relu_kernel);
  TUTOR_REGISTER_FLOATING("batch_norm_relu_backward", batch_norm_relu_backward_kernel);
  TUTOR_REGISTER_FLOATING("linear_gelu", linear_gelu_kernel);
  TUTOR_REGISTER_FLOATING("conv2d_relu", conv2d_relu_kernel);
}

}  // namespace tutor::kernels::reference
