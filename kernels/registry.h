// The kernel registry: backends register a function per (op name, backend, dtype); engine/ops
// looks it up when it dispatches. Kernels see tensors and a parameter struct, never autograd.
//
// Calling convention: the op has already checked its arguments and allocated the outputs
// (contiguous, on the inputs' device; channels-last where the kernel is registered as writing
// that layout, see set_channels_last). `in` holds the inputs (any strides); `out` the outputs to
// write; `params` points at the op's parameter struct (declared in kernels/params.h) or is null.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/tensor.h"

namespace tutor::kernels {

enum class Backend : unsigned char { reference, cpu, cuda };
inline constexpr int kNumBackends = 3;
std::string_view backend_name(Backend b);

struct KernelArgs {
  std::span<const Tensor> in;
  std::span<Tensor> out;
  const void* params = nullptr;

  template <class P> const P& p() const { return *static_cast<const P*>(params); }
};

using KernelFn = void (*)(const KernelArgs&);

// A small integer naming an op's kernel slot; resolve it once per call site.
using KernelId = int;
KernelId kernel_id(std::string_view name);  // creates the slot on first use
std::string_view kernel_name(KernelId id);
std::vector<std::string> kernel_names();

void register_kernel(std::string_view name, Backend backend, DType dtype, KernelFn fn);
KernelFn find_kernel(KernelId id, Backend backend, DType dtype);  // null if none

// A kernel registered with set_channels_last reads and writes 4-D channels-last tensors without
// converting them, so its op may allocate its outputs channels-last (MemoryFormat); the others
// get contiguous outputs. Element-wise kernels write any output strides and need no mark.
void set_channels_last(std::string_view name, Backend backend, DType dtype);
bool channels_last(KernelId id, Backend backend, DType dtype);

// Registers every built-in backend once (idempotent, thread-safe). Dispatch calls it.
void ensure_registered();

}  // namespace tutor::kernels
