#include "engine/ops/views.h"

#include <numeric>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/catalog.h"
#include "engine/ops/reductions.h"

namespace tutor {

using autograd::record;

Shape infer_shape(const Shape& shape, int64_t numel, const char* op) {
  Shape out = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      TUTOR_CHECK(infer < 0, "{}: only one dimension can be -1 in {}", op, shape_str(shape));
      infer = int64_t(i);
    } else {
      TUTOR_CHECK(out[i] >= 0, "{}: invalid size {} in {}", op, out[i], shape_str(shape));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    TUTOR_CHECK(known != 0 && numel % known == 0,
                "{}: shape {} is invalid for a tensor of {} elements", op, shape_str(shape), numel);
    out[size_t(infer)] = numel / known;
  }
  TUTOR_CHECK(shape_numel(out) == numel, "{}: shape {} is invalid for a tensor of {} elements", op,
              shape_str(shape), numel);
  return out;
}

std::optional<Shape> view_strides(const Shape& sizes, const Shape& strides, const Shape& shape) {
  // Walk groups of old dims that are contiguous with each other ("chunks"); each chunk must map
  // onto a run of new dims with the same element count.
  Shape out(shape.size());
  if (shape_numel(sizes) == 0 || sizes.empty()) return contiguous_strides(shape);
  int64_t view_d = int64_t(shape.size()) - 1;
  int64_t chunk_base_stride = strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = int64_t(sizes.size()) - 1; d >= 0; --d) {
    tensor_numel *= sizes[size_t(d)];
    if (d == 0 || (sizes[size_t(d - 1)] != 1 &&
                   strides[size_t(d - 1)] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[size_t(view_d)] == 1)) {
        out[size_t(view_d)] = view_numel * chunk_base_stride;
        view_numel *= shape[size_t(view_d)];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = strides[size_t(d - 1)];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return out;
}

void check_inplace(const char* op, const Tensor& t) {
  TUTOR_CHECK(!(GradMode::is_enabled() && t.requires_grad()),
              "{}: in-place change of a tensor of shape {} that requires grad cannot be recorded; "
              "do it under NoGradGuard, or use the out-of-place op",
              op, shape_str(t.sizes()));
}

// A view of `x` with the given geometry, whose backward is `backward(grad)`.
template <class F>
static Tensor make_view(const char* op, const Tensor& x, const Shape& sizes, const Shape& strides,
                        int64_t offset, F backward) {
  Tensor y = x.as_strided_raw(sizes, strides, offset);
  if (autograd::needs_grad({x}))
    record(op, {x}, {y}, [backward](const autograd::FunctionNode&, const TensorList& g) {
      return TensorList{backward(g[0])};
    });
  return y;
}

Tensor Tensor::view(const Shape& shape) const {
  Shape target = infer_shape(shape, numel(), "view");
  auto st = view_strides(sizes(), strides(), target);
  TUTOR_CHECK(st.has_value(),
              "view: cannot view a tensor of shape {} and strides {} as {} without copying; use "
              "reshape",
              shape_str(sizes()), shape_str(strides()), shape_str(target));
  Shape in = sizes();
  return make_view("view", *this, target, *st, offset(),
                   [in](const Tensor& g) { return g.reshape(in); });
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape target = infer_shape(shape, numel(), "reshape");
  if (view_strides(sizes(), strides(), target)) return view(target);
  return contiguous().view(target);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  int64_t s = wrap_dim(start_dim, dim(), "flatten"), e = wrap_dim(end_dim, dim(), "flatten");
  TUTOR_CHECK(s <= e, "flatten: start_dim {} comes after end_dim {}", start_dim, end_dim);
  Shape shape(sizes().begin(), sizes().begin() + s);
  int64_t n = 1;
  for (int64_t d = s; d <= e; ++d) n *= size(d);
  shape.push_back(n);
  shape.insert(shape.end(), sizes().begin() + e + 1, sizes().end());
  return reshape(shape);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  TUTOR_CHECK(int64_t(dims.size()) == dim(), "permute: {} dims given for a tensor of shape {}",
              dims.size(), shape_str(sizes()));
  std::vector<int64_t> perm(dims.size()), inverse(dims.size());
  Shape sz(dims.size()), st(dims.size());
  std::vector<bool> used(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], dim(), "permute");
    TUTOR_CHECK(!used[size_t(d)], "permute: dim {} repeats in {}", d, shape_str(dims));
    used[size_t(d)] = true;
    perm[i] = d;
    inverse[size_t(d)] = int64_t(i);
    sz[i] = sizes()[size_t(d)];
    st[i] = strides()[size_t(d)];
  }
  return make_view("permute", *this, sz, st, offset(),
                   [inverse](const Tensor& g) { return g.permute(inverse); });
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  if (dim() == 0) return *this;
  std::vector<int64_t> perm(static_cast<size_t>(dim()));
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[size_t(wrap_dim(dim0, dim(), "transpose"))],
            perm[size_t(wrap_dim(dim1, dim(), "transpose"))]);
  return permute(perm);
}

Tensor Tensor::t() const {
  TUTOR_CHECK(dim() <= 2, "t: expects a tensor with at most 2 dims, got shape {}",
              shape_str(sizes()));
  return dim() < 2 ? *this : transpose(0, 1);
}

Tensor Tensor::expand(const Shape& shape) const {
  TUTOR_CHECK(shape.size() >= sizes().size(), "expand: cannot expand shape {} to {} (fewer dims)",
              shape_str(sizes()), shape_str(shape));
  size_t lead = shape.size() - sizes().size();
  Shape sz(shape.size()), st(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      TUTOR_CHECK(shape[i] >= 0, "expand: size -1 is not allowed in a new leading dim of {}",
                  shape_str(shape));
      sz[i] = shape[i], st[i] = 0;
      continue;
    }
    int64_t have = sizes()[i - lead];
    int64_t want = shape[i] == -1 ? have : shape[i];
    TUTOR_CHECK(have == want || have == 1, "expand: cannot expand shape {} to {} (dim {}: {} vs {})",
                shape_str(sizes()), shape_str(shape), i, have, want);
    sz[i] = want;
    st[i] = have == want ? strides()[i - lead] : 0;
  }
  Shape in = sizes();
  if (sz == in) return *this;
  return make_view("expand", *this, sz, st, offset(),
                   [in](const Tensor& g) { return sum_to(g, in); });
}

Tensor Tensor::broadcast_to(const Shape& shape) const {
  broadcast_shapes(sizes(), shape, "broadcast_to");
  return expand(shape);
}

// The backward of taking a sub-view: the gradient placed into zeros of the input's shape. It is
// itself recorded, so a second derivative takes the same sub-view of the incoming gradient.
template <class ViewFn>
static Tensor embed_in_zeros(const Tensor& g, const Shape& shape, ViewFn take) {
  Tensor z = zeros(shape, g.options());
  {
    NoGradGuard no_grad;
    Tensor window = take(z);
    window.copy_raw_(g);
  }
  if (autograd::needs_grad({g}))
    record("embed_view", {g}, {z}, [take](const autograd::FunctionNode&, const TensorList& gg) {
      return TensorList{take(gg[0])};
    });
  return z;
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  TUTOR_CHECK(dim() > 0, "narrow: cannot narrow a 0-dim tensor");
  d = wrap_dim(d, dim(), "narrow");
  if (start < 0) start += size(d);
  TUTOR_CHECK(start >= 0 && length >= 0 && start + length <= size(d),
              "narrow: [{}, {}) is outside dim {} of size {} (shape {})", start, start + length, d,
              size(d), shape_str(sizes()));
  return slice(d, start, start + length, 1);
}

Tensor Tensor::slice(int64_t d, std::optional<int64_t> start, std::optional<int64_t> end,
                     int64_t step) const {
  TUTOR_CHECK(dim() > 0, "slice: cannot slice a 0-dim tensor");
  d = wrap_dim(d, dim(), "slice");
  TUTOR_CHECK(step > 0, "slice: step must be positive, got {}", step);
  int64_t n = size(d);
  auto clampi = [n](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + n : v, 0, n); };
  int64_t s = clampi(start.value_or(0)), e = std::max(s, clampi(end.value_or(n)));
  Shape sz = sizes(), st = strides();
  sz[size_t(d)] = (e - s + step - 1) / step;
  st[size_t(d)] = strides()[size_t(d)] * step;
  Shape in = sizes();
  return make_view("slice", *this, sz, st, offset() + s * strides()[size_t(d)],
                   [in, d, s, e, step](const Tensor& g) {
                     return embed_in_zeros(g, in, [=](const Tensor& z) { return z.slice(d, s, e, step); });
                   });
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  TUTOR_CHECK(dim() > 0, "select: cannot select from a 0-dim tensor");
  d = wrap_dim(d, dim(), "select");
  int64_t n = size(d);
  TUTOR_CHECK(index >= -n && index < n, "select: index {} is out of range for dim {} of size {}",
              index, d, n);
  if (index < 0) index += n;
  Shape sz = sizes(), st = strides();
  sz.erase(sz.begin() + d);
  st.erase(st.begin() + d);
  Shape in = sizes();
  return make_view("select", *this, sz, st, offset() + index * strides()[size_t(d)],
                   [in, d, index](const Tensor& g) {
                     return embed_in_zeros(g, in, [=](const Tensor& z) { return z.select(d, index); });
                   });
}

Tensor Tensor::squeeze() const {
  Shape sz;
  for (int64_t s : sizes())
    if (s != 1) sz.push_back(s);
  return view(sz);
}

Tensor Tensor::squeeze(int64_t d) const {
  if (dim() == 0) return *this;
  d = wrap_dim(d, dim(), "squeeze");
  if (size(d) != 1) return *this;
  Shape sz = sizes();
  sz.erase(sz.begin() + d);
  return view(sz);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape sz = sizes(), st = strides();
  int64_t new_stride = d < dim() ? sizes()[size_t(d)] * strides()[size_t(d)] : 1;
  sz.insert(sz.begin() + d, 1);
  st.insert(st.begin() + d, new_stride);
  Shape in = sizes();
  return make_view("unsqueeze", *this, sz, st, offset(),
                   [in](const Tensor& g) { return g.reshape(in); });
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::contiguous(MemoryFormat format) const {
  if (format == MemoryFormat::Contiguous) return contiguous();
  TUTOR_CHECK(dim() == 4, "contiguous: channels_last needs a 4-D tensor [N, C, H, W], got shape {}",
              shape_str(sizes()));
  if (is_contiguous(format) && suggest_memory_format() == format) return *this;
  Tensor y = empty(sizes(), options(), format);
  y.copy_raw_(*this);
  if (autograd::needs_grad({*this}))
    record("contiguous", {*this}, {y},
           [](const autograd::FunctionNode&, const TensorList& g) { return TensorList{g[0]}; });
  return y;
}

Tensor Tensor::clone() const {
  Tensor y = empty(sizes(), options());
  y.copy_raw_(*this);
  if (autograd::needs_grad({*this}))
    record("clone", {*this}, {y},
           [](const autograd::FunctionNode&, const TensorList& g) { return TensorList{g[0]}; });
  return y;
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  Tensor y = empty(sizes(), options().dtype(target));
  y.copy_raw_(*this);
  if (is_floating(target) && autograd::needs_grad({*this})) {
    DType source = dtype();
    record("to", {*this}, {y}, [source](const autograd::FunctionNode&, const TensorList& g) {
      return TensorList{g[0].to(source)};
    });
  }
  return y;
}

Tensor Tensor::detach() const { return as_strided_raw(sizes(), strides(), offset()); }

const Tensor& Tensor::copy_(const Tensor& src) const {
  check_inplace("copy_", *this);
  TUTOR_CHECK(!(GradMode::is_enabled() && src.requires_grad()),
              "copy_: the source requires grad, and in-place copies are not recorded; use clone(), "
              "or copy src.detach()");
  copy_raw_(src.sizes() == sizes() ? src : src.expand(sizes()));
  bump_version();
  return *this;
}

const Tensor& Tensor::fill_(double value) const {
  check_inplace("fill_", *this);
  fill_raw_(value);
  bump_version();
  return *this;
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.sizes() == shape) return grad;
  size_t lead = grad.sizes().size() - shape.size();
  std::vector<int64_t> dims;
  for (size_t i = 0; i < grad.sizes().size(); ++i)
    if (i < lead || (shape[i - lead] == 1 && grad.sizes()[i] != 1)) dims.push_back(int64_t(i));
  Tensor r = dims.empty() ? grad : sum(grad, dims, /*keepdim=*/true);
  return r.reshape(shape);
}

std::pair<Tensor, Tensor> broadcast_pair(const Tensor& a, const Tensor& b, const char* op) {
  Shape s = broadcast_shapes(a.sizes(), b.sizes(), op);
  return {a.expand(s), b.expand(s)};
}

void ops::add_view_ops(std::vector<OpInfo>& ops) {
  for (const char* name : {"view", "reshape", "flatten", "permute", "transpose", "t", "expand",
                           "broadcast_to", "narrow", "select", "slice", "squeeze", "unsqueeze",
                           "contiguous", "clone", "to"})
    ops.push_back({name, true, {}});
}

}  // namespace tutor
