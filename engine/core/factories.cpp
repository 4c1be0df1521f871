#include <cmath>
#include <numbers>

#include "engine/core/convert.h"
#include "engine/core/random.h"
#include "engine/core/tensor.h"

namespace tutor {

Tensor empty_strided(const Shape& shape, const Shape& strides, TensorOptions options) {
  for (int64_t s : shape)
    TUTOR_CHECK(s >= 0, "empty: negative dimension in shape {}", shape_str(shape));
  TUTOR_CHECK(strides.size() == shape.size() && non_overlapping_and_dense(shape, strides),
              "empty_strided: strides {} are not a dense layout of shape {}", shape_str(strides),
              shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(size_t(shape_numel(shape)) * element_size(options.dtype_),
                                            options.device_);
  impl->sizes = shape;
  impl->strides = strides;
  impl->dtype = options.dtype_;
  Tensor t(std::move(impl));
  if (options.requires_grad_) t.requires_grad_(true);
  return t;
}

Tensor empty(const Shape& shape, TensorOptions options) {
  return empty_strided(shape, contiguous_strides(shape), options);
}

Tensor empty(const Shape& shape, TensorOptions options, MemoryFormat format) {
  if (format == MemoryFormat::Contiguous) return empty(shape, options);
  return empty_strided(shape, channels_last_strides(shape), options);
}

Tensor full(const Shape& shape, double value, TensorOptions options) {
  Tensor t = empty(shape, options.requires_grad(false));
  t.fill_raw_(value);
  if (options.requires_grad_) t.requires_grad_(true);
  return t;
}
Tensor zeros(const Shape& shape, TensorOptions options) { return full(shape, 0.0, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return full(shape, 1.0, options); }
Tensor empty_like(const Tensor& t) { return empty(t.sizes(), t.options()); }
Tensor zeros_like(const Tensor& t) { return zeros(t.sizes(), t.options()); }
Tensor ones_like(const Tensor& t) { return ones(t.sizes(), t.options()); }
Tensor full_like(const Tensor& t, double value) { return full(t.sizes(), value, t.options()); }
Tensor scalar_tensor(double value, TensorOptions options) { return full({}, value, options); }

// Fills a fresh contiguous tensor element by element with f(i) converted to its dtype.
template <class F>
static Tensor generate(const Shape& shape, TensorOptions options, F&& f) {
  Tensor t = empty(shape, options.requires_grad(false));
  TUTOR_CHECK(t.device().is_cpu(), "factory: generating values on {} needs the CUDA backend",
              t.device());
  visit_dtype(t.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* p = static_cast<T*>(t.raw_data());
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = convert_value<T>(f(i));
  });
  if (options.requires_grad_) t.requires_grad_(true);
  return t;
}

Tensor arange(double end, TensorOptions options) { return arange(0, end, 1, options); }

Tensor arange(double start, double end, double step, TensorOptions options) {
  TUTOR_CHECK(step != 0, "arange: step must be non-zero");
  TUTOR_CHECK((end - start) / step >= 0 || start == end,
              "arange: the range [{}, {}) cannot be walked with step {}", start, end, step);
  int64_t n = int64_t(std::ceil((end - start) / step));
  return generate({std::max<int64_t>(n, 0)}, options, [&](int64_t i) { return start + double(i) * step; });
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions options) {
  TUTOR_CHECK(steps >= 0, "linspace: steps must be non-negative, got {}", steps);
  // PyTorch's formula: the first half from `start`, the second half back from `end`, so both
  // endpoints are exact.
  double step = steps > 1 ? (end - start) / double(steps - 1) : 0.0;
  int64_t half = steps / 2;
  return generate({steps}, options, [&](int64_t i) {
    if (steps == 1) return start;
    return i < half ? start + step * double(i) : end - step * double(steps - 1 - i);
  });
}

Tensor eye(int64_t n, std::optional<int64_t> m, TensorOptions options) {
  int64_t cols = m.value_or(n);
  TUTOR_CHECK(n >= 0 && cols >= 0, "eye: sizes must be non-negative, got {} x {}", n, cols);
  return generate({n, cols}, options, [&](int64_t i) { return i / std::max<int64_t>(cols, 1) == i % std::max<int64_t>(cols, 1) ? 1.0 : 0.0; });
}

template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, TensorOptions options) {
  Shape s = shape.empty() && values.size() != 1 ? Shape{int64_t(values.size())} : shape;
  if (shape.empty() && values.size() == 1) s = Shape{1};
  TUTOR_CHECK(shape_numel(s) == int64_t(values.size()),
              "from_vector: {} values do not fill shape {}", values.size(), shape_str(s));
  return generate(s, options, [&](int64_t i) { return values[size_t(i)]; });
}
template Tensor from_vector(const std::vector<float>&, const Shape&, TensorOptions);
template Tensor from_vector(const std::vector<double>&, const Shape&, TensorOptions);
template Tensor from_vector(const std::vector<int64_t>&, const Shape&, TensorOptions);
template Tensor from_vector(const std::vector<int>&, const Shape&, TensorOptions);

NestedList::NestedList(std::initializer_list<NestedList> items) {
  shape_ = {int64_t(items.size())};
  if (items.size() == 0) return;
  const Shape& inner = items.begin()->shape();
  for (const NestedList& item : items) {
    TUTOR_CHECK(item.shape() == inner, "tensor: ragged nested list (shapes {} and {})",
                shape_str(inner), shape_str(item.shape()));
    values_.insert(values_.end(), item.values().begin(), item.values().end());
  }
  shape_.insert(shape_.end(), inner.begin(), inner.end());
}

Tensor tensor(const NestedList& data, TensorOptions options) {
  const std::vector<double>& v = data.values();
  return generate(data.shape(), options, [&](int64_t i) { return v[size_t(i)]; });
}

// ---- random ----

static Generator& pick(Generator* gen) { return gen ? *gen : default_generator(); }

Tensor rand(const Shape& shape, TensorOptions options, Generator* gen) {
  TUTOR_CHECK(is_floating(options.dtype_), "rand: dtype must be floating, got {}", options.dtype_);
  Generator& g = pick(gen);
  bool f64 = options.dtype_ == DType::f64;
  return generate(shape, options, [&](int64_t) { return f64 ? g.uniform_f64() : double(g.uniform_f32()); });
}

Tensor randn(const Shape& shape, TensorOptions options, Generator* gen) {
  TUTOR_CHECK(is_floating(options.dtype_), "randn: dtype must be floating, got {}", options.dtype_);
  Generator& g = pick(gen);
  bool f64 = options.dtype_ == DType::f64;
  double radius = 0, angle = 0;
  return generate(shape, options, [&](int64_t i) {
    if (i % 2 == 0) {
      double u1 = f64 ? g.uniform_f64() : double(g.uniform_f32());
      double u2 = f64 ? g.uniform_f64() : double(g.uniform_f32());
      radius = std::sqrt(-2.0 * std::log(1.0 - u1));
      angle = 2.0 * std::numbers::pi * u2;
      return radius * std::cos(angle);
    }
    return radius * std::sin(angle);
  });
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options,
               Generator* gen) {
  TUTOR_CHECK(high > low, "randint: empty range [{}, {})", low, high);
  Generator& g = pick(gen);
  uint64_t range = uint64_t(high - low);
  return generate(shape, options, [&](int64_t) { return double(low + int64_t(g.next_u64() % range)); });
}

Tensor bernoulli(const Tensor& p, Generator* gen) {
  TUTOR_CHECK(p.is_floating_point(), "bernoulli: probabilities must be floating, got {}",
              p.dtype());
  Generator& g = pick(gen);
  std::vector<double> probs = p.to_vector<double>();
  for (double q : probs)
    TUTOR_CHECK(q >= 0 && q <= 1, "bernoulli: probability {} is outside [0, 1]", q);
  bool f64 = p.dtype() == DType::f64;
  return generate(p.sizes(), p.options(), [&](int64_t i) {
    double u = f64 ? g.uniform_f64() : double(g.uniform_f32());
    return u < probs[size_t(i)] ? 1.0 : 0.0;
  });
}

Tensor bernoulli(const Shape& shape, double p, TensorOptions options, Generator* gen) {
  TUTOR_CHECK(p >= 0 && p <= 1, "bernoulli: probability {} is outside [0, 1]", p);
  Generator& g = pick(gen);
  bool f64 = options.dtype_ == DType::f64;
  return generate(shape, options, [&](int64_t) {
    double u = f64 ? g.uniform_f64() : double(g.uniform_f32());
    return u < p ? 1.0 : 0.0;
  });
}

Tensor randperm(int64_t n, TensorOptions options, Generator* gen) {
  TUTOR_CHECK(n >= 0, "randperm: n must be non-negative, got {}", n);
  Generator& g = pick(gen);
  std::vector<int64_t> perm(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) perm[size_t(i)] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(perm[size_t(i)], perm[g.next_u64() % uint64_t(i + 1)]);
  return from_vector(perm, {n}, options);
}

}  // namespace tutor
