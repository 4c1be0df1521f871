// "matmul" on oneDNN's matmul primitive: a [B, M, K] times b [B, K, N] into a contiguous
// out [B, M, N]. Transposed and batch-strided operands are described to oneDNN by their strides;
// a stride-0 (broadcast) batch becomes a batch dim of 1, which the primitive broadcasts. Layouts
// the primitive cannot address (neither of the two inner strides 1, say) are packed first.
//
// "linear_gelu" (engine/ops/fused.h) on the same primitive: x [M, K] times weight^T with the bias
// inside it, then GELU over the output in place (see linear_gelu_kernel).
#include "engine/core/error.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/onednn.h"
#include "kernels/params.h"
#include "kernels/registry.h"

namespace tutor::kernels::cpu {

namespace {

using onednn::memory;

// What the primitive does after the product: add `bias` [N] to every row (when defined), then
// apply `eltwise` (undef: nothing).
struct Epilogue {
  Tensor bias;
  dnnl::algorithm eltwise = dnnl::algorithm::undef;
};

// The operand's descriptor, with a broadcast batch (stride 0) turned into a batch of 1.
memory::desc operand_desc(const Tensor& t) {
  Shape dims = t.sizes(), strides = t.strides();
  if (strides[0] == 0) dims[0] = 1;
  return onednn::strided_desc(t.dtype(), dims, strides);
}

// Runs the primitive on a and b as they are; false when oneDNN cannot take their layouts.
bool try_matmul(const Tensor& a, const Tensor& b, const Tensor& out, const Epilogue& e) {
  const onednn::Key key =
      onednn::Key("matmul").add(a).add(b).add(out).add(e.bias).add(int64_t(e.eltwise));
  const memory::desc ad = operand_desc(a), bd = operand_desc(b), od = onednn::plain_desc(out);
  memory::desc biasd;
  if (e.bias.defined())
    biasd = onednn::strided_desc(e.bias.dtype(), {1, 1, e.bias.size(0)}, {0, 0, e.bias.stride(0)});
  onednn::Primitive p = onednn::cached(key, [&] {
    dnnl::primitive_attr attr;
    if (e.eltwise != dnnl::algorithm::undef) {
      dnnl::post_ops post;
      post.append_eltwise(1.0f, e.eltwise, 0.0f, 0.0f);
      attr.set_post_ops(post);
    }
    const dnnl::matmul::desc desc =
        e.bias.defined() ? dnnl::matmul::desc(ad, bd, biasd, od) : dnnl::matmul::desc(ad, bd, od);
    return dnnl::matmul::primitive_desc(desc, attr, onednn::engine());
  });
  if (!p.prim) return false;
  onednn::Exec exec(p, key);
  exec.input(DNNL_ARG_SRC, a, ad, ad);
  exec.input(DNNL_ARG_WEIGHTS, b, bd, bd);
  if (e.bias.defined()) exec.input(DNNL_ARG_BIAS, e.bias, biasd, biasd);
  exec.output(DNNL_ARG_DST, out, od, od);
  exec.run();
  return true;
}

// a [B, M, K] (K > 0) times b [B, K, N] into out [B, M, N], any strides.
void run_matmul(Tensor a, Tensor b, const Tensor& out, Epilogue e) {
  a = onednn::addressable_or_packed(a);
  b = onednn::addressable_or_packed(b);
  // oneDNN's matmul reads the bias as dense whatever its descriptor's strides say (measured: a
  // stride-2 bias came out wrong), and a packed copy of N values costs nothing beside the product.
  if (e.bias.defined()) e.bias = e.bias.contiguous_raw();
  // The primitive broadcasts one batch of 1, not two.
  if (out.size(0) > 1 && a.stride(0) == 0 && b.stride(0) == 0) a = a.contiguous_raw();
  if (try_matmul(a, b, out, e)) return;
  TUTOR_CHECK(try_matmul(a.contiguous_raw(), b.contiguous_raw(), out, e),
              "matmul: oneDNN has no {} kernel for contiguous operands of shapes {} and {}",
              dtype_name(out.dtype()), shape_str(a.sizes()), shape_str(b.sizes()));
}

void matmul_kernel(const KernelArgs& args) {
  const Tensor& out = args.out[0];
  if (out.numel() == 0) return;
  if (args.in[0].size(2) == 0) {  // an empty sum
    out.fill_raw_(0.0);
    return;
  }
  run_matmul(args.in[0], args.in[1], out, {});
}

// The op sends only non-empty products (K, M, N > 0) here. For f32 the product (with its bias)
// is followed by tutor's own vectorized GELU over the output, in place: oneDNN 2.6's gelu_erf
// post-op measured slower than that (vit fc1 6272x64x128, 2 threads: 0.95 ms fused against 0.86
// for the product then the gelu op, `tutor bench ops --only gelu --repeat 40`). bf16, which that
// loop does not serve, keeps the post-op.
void linear_gelu_kernel(const KernelArgs& args) {
  const Tensor &x = args.in[0], &w = args.in[1], &out = args.out[0];
  const int64_t m = x.size(0), k = x.size(1), n = w.size(0);
  const bool tanh_form = args.p<ScalarParams>().a != 0;
  const bool own_gelu = out.dtype() == DType::f32;
  run_matmul(x.as_strided_raw({1, m, k}, {0, x.stride(0), x.stride(1)}, x.offset()),
             w.as_strided_raw({1, k, n}, {0, w.stride(1), w.stride(0)}, w.offset()),
             out.as_strided_raw({1, m, n}, {m * n, n, 1}, out.offset()),
             {args.in[2], own_gelu    ? dnnl::algorithm::undef
                          : tanh_form ? dnnl::algorithm::eltwise_gelu_tanh
                                      : dnnl::algorithm::eltwise_gelu_erf});
  if (!own_gelu) return;
  static const KernelFn gelu = find_kernel(kernel_id("gelu"), Backend::cpu, DType::f32);
  TUTOR_CHECK(gelu != nullptr, "linear_gelu: no CPU f32 gelu kernel registered");
  const Tensor in[1] = {out};
  Tensor result[1] = {out};
  gelu(KernelArgs{in, result, args.params});
}

}  // namespace

void register_matmul() {
  for (DType dtype : {DType::f32, DType::bf16}) {
    register_kernel("matmul", Backend::cpu, dtype, &matmul_kernel);
    register_kernel("linear_gelu", Backend::cpu, dtype, &linear_gelu_kernel);
  }
}

}  // namespace tutor::kernels::cpu
