// "matmul" on oneDNN's matmul primitive: a [B, M, K] times b [B, K, N] into a contiguous
// out [B, M, N]. Transposed and batch-strided operands are described to oneDNN by their strides;
// a stride-0 (broadcast) batch becomes a batch dim of 1, which the primitive broadcasts. Layouts
// the primitive cannot address (neither of the two inner strides 1, say) are packed first.
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/onednn.h"
#include "kernels/registry.h"

namespace tutor::kernels::cpu {

namespace {

using onednn::memory;

// The operand's descriptor, with a broadcast batch (stride 0) turned into a batch of 1.
memory::desc operand_desc(const Tensor& t) {
  Shape dims = t.sizes(), strides = t.strides();
  if (strides[0] == 0) dims[0] = 1;
  return onednn::strided_desc(t.dtype(), dims, strides);
}

// Runs the primitive on a and b as they are; false when oneDNN cannot take their layouts.
bool try_matmul(const Tensor& a, const Tensor& b, const Tensor& out) {
  const onednn::Key key = onednn::Key("matmul").add(a).add(b).add(out);
  const memory::desc ad = operand_desc(a), bd = operand_desc(b), od = onednn::plain_desc(out);
  onednn::Primitive p = onednn::cached(key, [&] {
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(ad, bd, od), onednn::engine());
  });
  if (!p.prim) return false;
  onednn::Exec exec(p, key);
  exec.input(DNNL_ARG_SRC, a, ad, ad);
  exec.input(DNNL_ARG_WEIGHTS, b, bd, bd);
  exec.output(DNNL_ARG_DST, out, od, od);
  exec.run();
  return true;
}

void matmul_kernel(const KernelArgs& args) {
  const Tensor& out = args.out[0];
  if (out.numel() == 0) return;
  Tensor a = onednn::addressable_or_packed(args.in[0]);
  Tensor b = onednn::addressable_or_packed(args.in[1]);
  if (a.size(2) == 0) {  // an empty sum
    out.fill_raw_(0.0);
    return;
  }
  // The primitive broadcasts one batch of 1, not two.
  if (out.size(0) > 1 && a.stride(0) == 0 && b.stride(0) == 0) a = a.contiguous_raw();
  if (try_matmul(a, b, out)) return;
  TUTOR_CHECK(try_matmul(a.contiguous_raw(), b.contiguous_raw(), out),
              "matmul: oneDNN has no {} kernel for contiguous operands of shapes {} and {}",
              dtype_name(out.dtype()), shape_str(a.sizes()), shape_str(b.sizes()));
}

}  // namespace

void register_matmul() {
  register_kernel("matmul", Backend::cpu, DType::f32, &matmul_kernel);
  register_kernel("matmul", Backend::cpu, DType::bf16, &matmul_kernel);
}

}  // namespace tutor::kernels::cpu
