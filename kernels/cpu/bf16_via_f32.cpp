// bf16 kernels for the memory-bound ops that have f32 loop kernels (softmax, log_softmax,
// layer_norm, batch_norm, forward and backward): the inputs widened to f32 (exact), the f32 cpu
// kernel run on them (so the arithmetic and every accumulation is f32), and each output rounded
// to bf16 (to nearest even). The widening and rounding are parallel passes over packed copies;
// a fused bf16 loop would save them, but these ops are a small share of a bf16 step next to the
// oneDNN matmuls and convolutions. Checked against the f32 reference in
// tests/kernels/test_cpu_backend.cpp with bf16's looser bound.
#include <vector>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/loops_common.h"
#include "kernels/registry.h"

namespace tutor::kernels::cpu {

namespace {

// A packed f32 copy of a bf16 tensor (undefined stays undefined).
Tensor widen(const Tensor& t) {
  if (!t.defined()) return t;
  const Tensor packed = t.contiguous_raw();
  Tensor out = empty(t.sizes(), TensorOptions(DType::f32));
  const uint16_t* src = static_cast<const uint16_t*>(packed.storage()->data()) + packed.offset();
  float* dst = f32_ptr(out);
  parallel_range(out.numel(), 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dst[i] = std::bit_cast<float>(uint32_t(src[i]) << 16);
  });
  return out;
}

// dst (bf16, any strides) = src (packed f32) rounded to nearest even.
void narrow_into(const Tensor& src, const Tensor& dst) {
  const float* s = f32_ptr(src);
  if (dst.is_contiguous()) {
    uint16_t* d = static_cast<uint16_t*>(dst.storage()->data()) + dst.offset();
    parallel_range(src.numel(), 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) d[i] = BFloat16::round(s[i]);
    });
    return;
  }
  dst.copy_raw_(src);
}

template <const char* Name>
void via_f32(const KernelArgs& a) {
  static const KernelFn f32 = find_kernel(kernel_id(Name), Backend::cpu, DType::f32);
  TUTOR_CHECK(f32, "{}: the bf16 kernel needs the f32 cpu kernel, which is not registered", Name);
  std::vector<Tensor> in, out;
  for (const Tensor& t : a.in) in.push_back(widen(t));
  for (const Tensor& t : a.out)
    out.push_back(t.defined() ? empty(t.sizes(), TensorOptions(DType::f32)) : Tensor());
  f32(KernelArgs{in, out, a.params});
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i].defined()) narrow_into(out[i], a.out[i]);
}

constexpr char kSoftmax[] = "softmax", kLogSoftmax[] = "log_softmax",
               kSoftmaxBackward[] = "softmax_backward",
               kLogSoftmaxBackward[] = "log_softmax_backward", kLayerNorm[] = "layer_norm",
               kLayerNormBackward[] = "layer_norm_backward", kBatchNorm[] = "batch_norm",
               kBatchNormBackward[] = "batch_norm_backward";

}  // namespace

void register_bf16_via_f32() {
  const std::pair<const char*, KernelFn> kernels[] = {
      {kSoftmax, &via_f32<kSoftmax>},
      {kLogSoftmax, &via_f32<kLogSoftmax>},
      {kSoftmaxBackward, &via_f32<kSoftmaxBackward>},
      {kLogSoftmaxBackward, &via_f32<kLogSoftmaxBackward>},
      {kLayerNorm, &via_f32<kLayerNorm>},
      {kLayerNormBackward, &via_f32<kLayerNormBackward>},
      {kBatchNorm, &via_f32<kBatchNorm>},
      {kBatchNormBackward, &via_f32<kBatchNormBackward>}};
  for (const auto& [name, fn] : kernels) register_kernel(name, Backend::cpu, DType::bf16, fn);
}

}  // namespace tutor::kernels::cpu
