// Tensor: a reference-counted handle to a strided view of a Storage, plus its autograd state.
//
// This header has two halves. The data half (sizes, strides, element access, raw views) is
// implemented in engine/core and is all that kernels may use. The op half (views that autograd
// tracks, arithmetic, backward) is declared here for libtorch-style method syntax and defined in
// engine/ops; code that calls it links tutor::tutor.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/device.h"
#include "engine/core/dtype.h"
#include "engine/core/error.h"
#include "engine/core/shape.h"
#include "engine/core/storage.h"

namespace tutor {

namespace autograd {
class Node;
}

class Tensor;
struct TensorImpl;

// How a dense tensor orders its elements in memory. Contiguous is row-major; ChannelsLast is a
// 4-D [N, C, H, W] tensor stored as NHWC (strides channels_last_strides(sizes)), as PyTorch's
// torch.channels_last. Either way the tensor is an ordinary strided tensor with NCHW sizes: the
// format is only its strides, which every op and kernel reads.
enum class MemoryFormat : unsigned char { Contiguous, ChannelsLast };

struct TensorOptions {
  DType dtype_ = DType::f32;
  Device device_ = kCPU;
  bool requires_grad_ = false;

  TensorOptions() = default;
  TensorOptions(DType d) : dtype_(d) {}     // NOLINT: zeros({2}, DType::f64)
  TensorOptions(Device d) : device_(d) {}   // NOLINT
  TensorOptions dtype(DType d) const { auto o = *this; o.dtype_ = d; return o; }
  TensorOptions device(Device d) const { auto o = *this; o.device_ = d; return o; }
  TensorOptions requires_grad(bool r = true) const { auto o = *this; o.requires_grad_ = r; return o; }
};

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- data half (engine/core) ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& sizes() const;
  const Shape& shape() const { return sizes(); }
  const Shape& strides() const;
  int64_t size(int64_t dim) const;
  int64_t stride(int64_t dim) const;
  int64_t dim() const { return int64_t(sizes().size()); }
  int64_t numel() const;
  int64_t offset() const;  // in elements from the start of the storage
  DType dtype() const;
  Device device() const;
  TensorOptions options() const { return TensorOptions(dtype()).device(device()); }
  bool is_contiguous() const;
  // Dense in `format`'s order; size-1 dims are ignored (PyTorch's is_contiguous(memory_format)).
  bool is_contiguous(MemoryFormat format) const;
  // The format a layout-aware op should give its outputs: ChannelsLast when the tensor is dense
  // NHWC and either its memory differs from row-major or its strides are exactly NHWC's (so a
  // [N, 1, H, W] tensor made channels-last stays so), else Contiguous.
  MemoryFormat suggest_memory_format() const;
  bool is_floating_point() const { return is_floating(dtype()); }
  const std::shared_ptr<Storage>& storage() const;
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  bool shares_storage(const Tensor& other) const;

  void* raw_data() const;  // address of element [0, 0, ...]
  template <class T> T* data() const {
    TUTOR_CHECK(dtype_v<T> == dtype(), "Tensor::data: tensor is {}, not {}", dtype(), dtype_v<T>);
    return static_cast<T*>(raw_data());
  }
  // The single element of a one-element tensor, converted to T.
  template <class T> T item() const;
  double item() const { return item<double>(); }
  // Copies the elements in row-major order, converting to T.
  template <class T> std::vector<T> to_vector() const;

  // A view sharing storage with the given geometry, with no autograd history. Checked against
  // the storage bounds. The differentiable views (view, permute, ...) are built on it.
  Tensor as_strided_raw(const Shape& sizes, const Shape& strides, int64_t offset) const;
  // Element-wise copy of `src` into this tensor (same shape), converting dtypes, no autograd.
  void copy_raw_(const Tensor& src) const;
  void fill_raw_(double value) const;
  Tensor contiguous_raw() const;  // this tensor if already contiguous, else a packed copy
  // This tensor if already dense in `format`, else a copy laid out so.
  Tensor contiguous_raw(MemoryFormat format) const;
  // Makes this tensor (and every handle to it) view `src`'s data, keeping its autograd identity
  // (requires_grad, grad, grad_fn): how a module converts its parameters in place, as PyTorch's
  // `param.data = ...`.
  void set_data(const Tensor& src) const;

  // In-place changes bump the storage's version; autograd uses it to detect stale saved tensors.
  uint64_t version() const { return storage()->version(); }
  void bump_version() const { storage()->bump_version(); }

  // ---- autograd state (engine/core holds it, engine/autograd uses it) ----
  bool requires_grad() const;
  Tensor& requires_grad_(bool enabled = true);  // only on leaves
  bool is_leaf() const;
  const Tensor& grad() const;        // undefined until a backward pass reaches this leaf
  Tensor& mutable_grad() const;
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  int output_nr() const;
  void set_history(std::shared_ptr<autograd::Node> node, int output_nr) const;
  bool retains_grad() const;

  std::string str() const;  // PyTorch-style printing
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  // ---- op half (engine/ops) ----
  Tensor view(const Shape& shape) const;
  Tensor reshape(const Shape& shape) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;  // transpose of a 2-D tensor
  Tensor expand(const Shape& shape) const;
  Tensor broadcast_to(const Shape& shape) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor slice(int64_t dim, std::optional<int64_t> start = {}, std::optional<int64_t> end = {},
               int64_t step = 1) const;
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor contiguous() const;
  // This tensor if dense in `format` already, else a copy in that layout; differentiable (the
  // gradient passes through in whatever layout it comes).
  Tensor contiguous(MemoryFormat format) const;
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor detach() const;
  const Tensor& copy_(const Tensor& src) const;
  const Tensor& fill_(double value) const;
  const Tensor& zero_() const { return fill_(0.0); }

  void retain_grad() const;  // keep .grad() on a non-leaf too

  // The most used ops as methods, as libtorch has them; each forwards to the free function of the
  // same name in engine/ops (where the full set, the formulas and the options live).
  Tensor sum(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor mean(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor amax(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor argmax(std::optional<int64_t> dim = {}, bool keepdim = false) const;
  Tensor abs() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor square() const;
  Tensor pow(double exponent) const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor matmul(const Tensor& other) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;
  Tensor masked_fill(const Tensor& mask, double value) const;
  const Tensor& add_(const Tensor& other) const;
  const Tensor& sub_(const Tensor& other) const;
  const Tensor& mul_(const Tensor& other) const;
  const Tensor& mul_(double factor) const;

  // Runs backprop from this tensor. `grad_output` defaults to 1 for a one-element tensor.
  void backward(const Tensor& grad_output = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape sizes;
  Shape strides;
  int64_t offset = 0;
  DType dtype = DType::f32;

  bool requires_grad = false;  // meaningful on leaves; non-leaves require grad iff grad_fn is set
  bool retains_grad = false;
  Tensor grad;
  std::shared_ptr<autograd::Node> grad_fn;
  int output_nr = 0;
  std::weak_ptr<autograd::Node> grad_accumulator;  // the one AccumulateGrad node of a leaf
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Tensors by name, in order: state dicts, safetensors files, EMA averages.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// ---- factories (engine/core): new leaf tensors ----
Tensor empty(const Shape& shape, TensorOptions options = {});
// A fresh tensor in `format` (ChannelsLast needs a 4-D shape).
Tensor empty(const Shape& shape, TensorOptions options, MemoryFormat format);
// A fresh tensor with the given strides, which must be non-overlapping and dense.
Tensor empty_strided(const Shape& shape, const Shape& strides, TensorOptions options = {});
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
Tensor scalar_tensor(double value, TensorOptions options = {});  // 0-dim
// [start, end) by step, as torch.arange; i64 by default when every argument is integral.
Tensor arange(double end, TensorOptions options = DType::i64);
Tensor arange(double start, double end, double step = 1, TensorOptions options = DType::i64);
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
Tensor eye(int64_t n, std::optional<int64_t> m = {}, TensorOptions options = {});

// From host values; `shape` defaults to 1-D. The values are converted to options.dtype.
template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape = {}, TensorOptions options = {});
// Nested braces of numbers, any depth: tensor({{1, 2}, {3, 4}}) is 2x2, tensor({{1}, {2}}) is 2x1,
// tensor(3.5) is 0-dim. The shape is checked for raggedness.
class NestedList {
 public:
  NestedList(double value) : values_{value} {}  // NOLINT: a leaf of the nesting
  NestedList(std::initializer_list<NestedList> items);
  const Shape& shape() const { return shape_; }
  const std::vector<double>& values() const { return values_; }

 private:
  Shape shape_;
  std::vector<double> values_;
};

// f32 unless options say otherwise.
Tensor tensor(const NestedList& data, TensorOptions options = {});

}  // namespace tutor
