// How an op reaches a kernel: by the inputs' device and a dtype, preferring the fast backend of
// that device and falling back to the reference backend on the CPU (a missing CUDA kernel is an
// error that names the op, never a silent copy to the host).
#pragma once

#include <initializer_list>
#include <span>

#include "engine/core/tensor.h"
#include "kernels/registry.h"

namespace tutor::ops {

// One per op call site: resolves the name to a registry slot once.
struct Kernel {
  explicit Kernel(const char* op_name) : id(kernels::kernel_id(op_name)), name(op_name) {}
  kernels::KernelId id;
  const char* name;
};

// Runs `kernel` for `dtype` on the device of the first defined input (or output).
void dispatch(const Kernel& kernel, DType dtype, std::initializer_list<Tensor> in,
              std::initializer_list<Tensor> out, const void* params = nullptr);
void dispatch(const Kernel& kernel, DType dtype, std::span<const Tensor> in,
              std::span<Tensor> out, const void* params = nullptr);

// Which backend would serve `kernel` for this device and dtype (for `tutor audit`).
kernels::Backend backend_for(const Kernel& kernel, Device device, DType dtype);

// Forces the reference backend on this thread while alive: how fast kernels are checked.
class ReferenceOnlyGuard {
 public:
  ReferenceOnlyGuard();
  ~ReferenceOnlyGuard();
  ReferenceOnlyGuard(const ReferenceOnlyGuard&) = delete;
  ReferenceOnlyGuard& operator=(const ReferenceOnlyGuard&) = delete;

 private:
  bool previous_;
};

// Checks that all defined tensors share one device; names the op and the devices otherwise.
void check_same_device(const char* op, std::initializer_list<Tensor> tensors);
// Checks that all defined tensors share one dtype; names the op and the dtypes otherwise.
void check_same_dtype(const char* op, std::initializer_list<Tensor> tensors);
// Checks that `t` is floating point.
void check_floating(const char* op, const Tensor& t, const char* what = "input");

}  // namespace tutor::ops
