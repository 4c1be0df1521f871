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
void dispatch(const Kernel& kernel, DType dtype, std::span<const Tensor> in, std::span<Tensor> out,
              const void* params = nullptr);

// Which backend would serve `kernel` for this device and dtype (for `tutor audit`).
kernels::Backend backend_for(const Kernel& kernel, Device device, DType dtype);

// The layout an op gives the 4-D outputs of `kernel` for an input laid out as `wanted` (usually
// the input's suggest_memory_format(); a backward rule passes its forward input's): ChannelsLast
// when wanted and the kernel that serves `like`'s device and dtype is marked channels-last
// (kernels::set_channels_last), else Contiguous. The reference kernels write contiguous outputs.
MemoryFormat output_format(const Kernel& kernel, const Tensor& like, MemoryFormat wanted);
inline MemoryFormat output_format(const Kernel& kernel, const Tensor& like) {
  return output_format(kernel, like, like.suggest_memory_format());
}

// The output of an element-wise op of `shape`: with the strides of the inputs that have that
// shape (ignoring those expanded to it: a zero stride along a dim longer than 1) when they all
// share one non-overlapping dense layout (PyTorch's rule, so channels-last stays channels-last
// through relu, add, ...); else channels-last when the first such input is; else contiguous.
Tensor empty_elementwise(const Shape& shape, TensorOptions options,
                         std::initializer_list<Tensor> inputs);

// Makes output_format answer Contiguous on this thread while alive (so to_conv_layout keeps NCHW
// and no op makes channels-last outputs): how the channels-last paths are checked and timed
// against the NCHW ones.
class ContiguousOnlyGuard {
 public:
  ContiguousOnlyGuard();
  ~ContiguousOnlyGuard();
  ContiguousOnlyGuard(const ContiguousOnlyGuard&) = delete;
  ContiguousOnlyGuard& operator=(const ContiguousOnlyGuard&) = delete;

 private:
  bool previous_;
};

// Makes the fused ops (engine/ops/fused.h, batch_norm_relu) run as their unfused composition on
// this thread while alive: how a fused path is checked and timed against the ops it replaces.
class UnfusedGuard {
 public:
  UnfusedGuard();
  ~UnfusedGuard();
  UnfusedGuard(const UnfusedGuard&) = delete;
  UnfusedGuard& operator=(const UnfusedGuard&) = delete;
  static bool active();

 private:
  bool previous_;
};

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
