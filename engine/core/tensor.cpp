#include "engine/core/tensor.h"

#include <cstring>

#include "engine/core/convert.h"
#include "engine/core/strided.h"

namespace tutor {

static TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl) {
  TUTOR_CHECK(impl != nullptr, "Tensor: operation on an undefined tensor");
  return *impl;
}

#define IMPL checked(impl_)

const Shape& Tensor::sizes() const { return IMPL.sizes; }
const Shape& Tensor::strides() const { return IMPL.strides; }
int64_t Tensor::size(int64_t d) const { return IMPL.sizes[wrap_dim(d, dim(), "Tensor::size")]; }
int64_t Tensor::stride(int64_t d) const {
  return IMPL.strides[wrap_dim(d, dim(), "Tensor::stride")];
}
int64_t Tensor::numel() const { return shape_numel(IMPL.sizes); }
int64_t Tensor::offset() const { return IMPL.offset; }
DType Tensor::dtype() const { return IMPL.dtype; }
Device Tensor::device() const { return IMPL.storage->device(); }
const std::shared_ptr<Storage>& Tensor::storage() const { return IMPL.storage; }
bool Tensor::shares_storage(const Tensor& other) const {
  return defined() && other.defined() && storage() == other.storage();
}

bool Tensor::is_contiguous() const {
  const auto& s = IMPL.sizes;
  const auto& st = IMPL.strides;
  int64_t expected = 1;
  for (size_t i = s.size(); i-- > 0;) {
    if (s[i] == 1) continue;
    if (s[i] == 0) return true;
    if (st[i] != expected) return false;
    expected *= s[i];
  }
  return true;
}

bool Tensor::is_contiguous(MemoryFormat format) const {
  if (format == MemoryFormat::Contiguous) return is_contiguous();
  const auto& s = IMPL.sizes;
  const auto& st = IMPL.strides;
  if (s.size() != 4) return false;
  int64_t expected = 1;
  for (size_t d : {1, 3, 2, 0}) {
    if (s[d] == 0) return true;
    if (s[d] == 1) continue;
    if (st[d] != expected) return false;
    expected *= s[d];
  }
  return true;
}

MemoryFormat Tensor::suggest_memory_format() const {
  if (dim() == 4 && is_contiguous(MemoryFormat::ChannelsLast) &&
      (!is_contiguous() || strides() == channels_last_strides(sizes())))
    return MemoryFormat::ChannelsLast;
  return MemoryFormat::Contiguous;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(IMPL.storage->data()) + IMPL.offset * int64_t(element_size(IMPL.dtype));
}


template <class T>
T Tensor::item() const {
  TUTOR_CHECK(numel() == 1, "item: tensor of shape {} has {} elements, expected 1",
              shape_str(sizes()), numel());
  TUTOR_CHECK(device().is_cpu(), "item: tensor is on {}; copy it to the cpu first", device());
  return visit_dtype(dtype(), [&](auto tag) -> T {
    using S = decltype(tag);
    return convert_value<T>(*static_cast<const S*>(raw_data()));
  });
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  std::vector<T> out(static_cast<size_t>(numel()));
  Tensor packed = contiguous_raw();
  visit_dtype(dtype(), [&](auto tag) {
    using S = decltype(tag);
    const S* p = static_cast<const S*>(packed.raw_data());
    for (size_t i = 0; i < out.size(); ++i) out[i] = convert_value<T>(p[i]);
  });
  return out;
}

template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template int64_t Tensor::item<int64_t>() const;
template bool Tensor::item<bool>() const;
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<bool> Tensor::to_vector<bool>() const;

Tensor Tensor::as_strided_raw(const Shape& new_sizes, const Shape& new_strides,
                              int64_t new_offset) const {
  TUTOR_CHECK(new_sizes.size() == new_strides.size(),
              "as_strided: sizes {} and strides {} differ in length", shape_str(new_sizes),
              shape_str(new_strides));
  int64_t lo = new_offset, hi = new_offset;
  bool empty_view = false;
  for (size_t i = 0; i < new_sizes.size(); ++i) {
    TUTOR_CHECK(new_sizes[i] >= 0, "as_strided: negative size in {}", shape_str(new_sizes));
    if (new_sizes[i] == 0) empty_view = true;
    int64_t reach = (new_sizes[i] - 1) * new_strides[i];
    (reach < 0 ? lo : hi) += reach;
  }
  int64_t capacity = int64_t(storage()->nbytes() / element_size(dtype()));
  TUTOR_CHECK(empty_view || (lo >= 0 && hi < std::max<int64_t>(capacity, 1)),
              "as_strided: view sizes {} strides {} offset {} reaches outside a storage of {} "
              "elements",
              shape_str(new_sizes), shape_str(new_strides), new_offset, capacity);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = storage();
  impl->sizes = new_sizes;
  impl->strides = new_strides;
  impl->offset = new_offset;
  impl->dtype = dtype();
  return Tensor(std::move(impl));
}

void Tensor::copy_raw_(const Tensor& src) const {
  TUTOR_CHECK(sizes() == src.sizes(), "copy_: destination shape {} differs from source shape {}",
              shape_str(sizes()), shape_str(src.sizes()));
  TUTOR_CHECK(device().is_cpu() && src.device().is_cpu(),
              "copy_: copies involving {} and {} need the CUDA backend", device(), src.device());
  const bool same_dense_layout =
      (is_contiguous() && src.is_contiguous()) ||
      (strides() == src.strides() && non_overlapping_and_dense(sizes(), strides()));
  if (dtype() == src.dtype() && same_dense_layout) {
    std::memmove(raw_data(), src.raw_data(), size_t(numel()) * element_size(dtype()));
    return;
  }
  visit_dtype(dtype(), [&](auto dtag) {
    using D = decltype(dtag);
    visit_dtype(src.dtype(), [&](auto stag) {
      using S = decltype(stag);
      D* d = static_cast<D*>(storage()->data());
      const S* s = static_cast<const S*>(src.storage()->data());
      for_each_offset<2>(sizes(), {&strides(), &src.strides()}, {offset(), src.offset()},
                         [&](int64_t od, int64_t os) { d[od] = convert_value<D>(s[os]); });
    });
  });
}

void Tensor::fill_raw_(double value) const {
  TUTOR_CHECK(device().is_cpu(), "fill_: tensors on {} need the CUDA backend", device());
  visit_dtype(dtype(), [&](auto tag) {
    using T = decltype(tag);
    T v = convert_value<T>(value);
    T* d = static_cast<T*>(storage()->data());
    for_each_offset<1>(sizes(), {&strides()}, {offset()}, [&](int64_t o) { d[o] = v; });
  });
}

Tensor Tensor::contiguous_raw() const {
  if (is_contiguous()) return *this;
  Tensor out = empty(sizes(), options());
  out.copy_raw_(*this);
  return out;
}

Tensor Tensor::contiguous_raw(MemoryFormat format) const {
  if (is_contiguous(format)) return *this;
  Tensor out = empty(sizes(), options(), format);
  out.copy_raw_(*this);
  return out;
}

void Tensor::set_data(const Tensor& src) const {
  TUTOR_CHECK(src.defined(), "set_data: the source tensor is undefined");
  TUTOR_CHECK(!IMPL.requires_grad || src.is_floating_point(),
              "set_data: a tensor that requires grad cannot hold {} data", src.dtype());
  const TensorImpl& from = *src.impl();
  IMPL.storage = from.storage;
  IMPL.sizes = from.sizes;
  IMPL.strides = from.strides;
  IMPL.offset = from.offset;
  IMPL.dtype = from.dtype;
}

bool Tensor::requires_grad() const { return IMPL.requires_grad || IMPL.grad_fn != nullptr; }

Tensor& Tensor::requires_grad_(bool enabled) {
  TUTOR_CHECK(is_leaf(),
              "requires_grad_: only leaf tensors can change requires_grad; use detach() to get a "
              "leaf from a result");
  TUTOR_CHECK(!enabled || is_floating_point(),
              "requires_grad_: only floating-point tensors can require grad, this one is {}",
              dtype());
  IMPL.requires_grad = enabled;
  return *this;
}

bool Tensor::is_leaf() const { return IMPL.grad_fn == nullptr; }
const Tensor& Tensor::grad() const { return IMPL.grad; }
Tensor& Tensor::mutable_grad() const { return IMPL.grad; }
const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const { return IMPL.grad_fn; }
int Tensor::output_nr() const { return IMPL.output_nr; }
void Tensor::set_history(std::shared_ptr<autograd::Node> node, int nr) const {
  IMPL.grad_fn = std::move(node);
  IMPL.output_nr = nr;
}
bool Tensor::retains_grad() const { return IMPL.retains_grad; }

#undef IMPL

}  // namespace tutor
