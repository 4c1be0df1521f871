#include "engine/ops/dispatch.h"

#include <chrono>

#include "engine/ops/kernel_profile.h"

namespace tutor::ops {

using kernels::Backend;

static thread_local bool reference_only = false;

ReferenceOnlyGuard::ReferenceOnlyGuard() : previous_(reference_only) { reference_only = true; }
ReferenceOnlyGuard::~ReferenceOnlyGuard() { reference_only = previous_; }

static thread_local bool contiguous_only = false;

ContiguousOnlyGuard::ContiguousOnlyGuard() : previous_(contiguous_only) { contiguous_only = true; }
ContiguousOnlyGuard::~ContiguousOnlyGuard() { contiguous_only = previous_; }

static kernels::KernelFn resolve(const Kernel& kernel, Device device, DType dtype,
                                 Backend* chosen) {
  kernels::ensure_registered();
  if (device.is_cuda()) {
    *chosen = Backend::cuda;
    return kernels::find_kernel(kernel.id, Backend::cuda, dtype);
  }
  if (!reference_only) {
    if (auto fn = kernels::find_kernel(kernel.id, Backend::cpu, dtype)) {
      *chosen = Backend::cpu;
      return fn;
    }
  }
  *chosen = Backend::reference;
  return kernels::find_kernel(kernel.id, Backend::reference, dtype);
}

Backend backend_for(const Kernel& kernel, Device device, DType dtype) {
  Backend b;
  return resolve(kernel, device, dtype, &b) ? b : Backend::reference;
}

MemoryFormat output_format(const Kernel& kernel, const Tensor& like, MemoryFormat wanted) {
  if (wanted != MemoryFormat::ChannelsLast || like.dim() != 4 || contiguous_only)
    return MemoryFormat::Contiguous;
  Backend b;
  if (!resolve(kernel, like.device(), like.dtype(), &b)) return MemoryFormat::Contiguous;
  return kernels::channels_last(kernel.id, b, like.dtype()) ? MemoryFormat::ChannelsLast
                                                            : MemoryFormat::Contiguous;
}

Tensor empty_elementwise(const Shape& shape, TensorOptions options,
                         std::initializer_list<Tensor> inputs) {
  const Tensor* first = nullptr;
  bool same = true;
  auto broadcast = [](const Tensor& t) {
    for (int64_t d = 0; d < t.dim(); ++d)
      if (t.size(d) > 1 && t.stride(d) == 0) return true;
    return false;
  };
  for (const Tensor& t : inputs) {
    if (!t.defined() || t.sizes() != shape || broadcast(t)) continue;
    if (!first)
      first = &t;
    else
      same &= t.strides() == first->strides();
  }
  if (!first) return empty(shape, options);
  if (same && non_overlapping_and_dense(shape, first->strides()))
    return empty_strided(shape, first->strides(), options);
  return empty(shape, options, first->suggest_memory_format());
}

void dispatch(const Kernel& kernel, DType dtype, std::span<const Tensor> in, std::span<Tensor> out,
              const void* params) {
  Device device = kCPU;
  bool found = false;
  for (const Tensor& t : in)
    if (t.defined()) {
      if (!found) device = t.device(), found = true;
      TUTOR_CHECK(t.device() == device, "{}: inputs are on different devices ({} and {})",
                  kernel.name, device, t.device());
    }
  if (!found)
    for (const Tensor& t : out)
      if (t.defined()) device = t.device();
  Backend chosen;
  kernels::KernelFn fn = resolve(kernel, device, dtype, &chosen);
  TUTOR_CHECK(fn != nullptr, "{}: no {} kernel for dtype {} on {}", kernel.name,
              kernels::backend_name(chosen), dtype, device);
  for (const Tensor& t : out) t.bump_version();
  if (!detail::kernel_profiling()) {
    fn(kernels::KernelArgs{in, out, params});
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  fn(kernels::KernelArgs{in, out, params});
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count();
  detail::record_kernel(kernel.id, int(chosen), int64_t(ns));
}

void dispatch(const Kernel& kernel, DType dtype, std::initializer_list<Tensor> in,
              std::initializer_list<Tensor> out, const void* params) {
  std::vector<Tensor> outs(out);
  dispatch(kernel, dtype, std::span<const Tensor>(in.begin(), in.size()), std::span<Tensor>(outs),
           params);
}

void check_same_device(const char* op, std::initializer_list<Tensor> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor& t : tensors) {
    if (!t.defined()) continue;
    if (!first) first = &t;
    TUTOR_CHECK(t.device() == first->device(), "{}: expected all tensors on {}, got one on {}", op,
                first->device(), t.device());
  }
}

void check_same_dtype(const char* op, std::initializer_list<Tensor> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor& t : tensors) {
    if (!t.defined()) continue;
    if (!first) first = &t;
    TUTOR_CHECK(t.dtype() == first->dtype(),
                "{}: expected all tensors to be {} (shape {}), got {} (shape {})", op,
                first->dtype(), shape_str(first->sizes()), t.dtype(), shape_str(t.sizes()));
  }
}

void check_floating(const char* op, const Tensor& t, const char* what) {
  TUTOR_CHECK(t.defined(), "{}: {} is undefined", op, what);
  TUTOR_CHECK(t.is_floating_point(), "{}: {} must be floating point, got {} (shape {})", op, what,
              t.dtype(), shape_str(t.sizes()));
}

}  // namespace tutor::ops
