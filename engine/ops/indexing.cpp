#include "engine/ops/indexing.h"

#include <algorithm>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/catalog.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/views.h"
#include "kernels/indexing_params.h"

namespace tutor {

using autograd::FunctionNode;
using autograd::needs_grad;
using autograd::record;
using ops::Kernel;

namespace {

void check_index_dtype(const char* op, const Tensor& index, const char* what = "index") {
  TUTOR_CHECK(index.defined(), "{}: {} is undefined", op, what);
  TUTOR_CHECK(index.dtype() == DType::i64, "{}: {} must be i64, got {} (shape {})", op, what,
              index.dtype(), shape_str(index.sizes()));
}

// Every index lies in [0, size), `what` naming the range ("dim 1"). Checked here on the CPU; a
// device kernel must check its own.
void check_index_range(const char* op, const Tensor& index, int64_t size, const std::string& what) {
  if (!index.device().is_cpu()) return;
  Tensor packed = index.contiguous_raw();
  const int64_t* p = packed.data<int64_t>();
  const int64_t* end = p + packed.numel();  // numel() once: it multiplies the sizes each call
  const int64_t* bad = std::find_if(p, end, [size](int64_t v) { return v < 0 || v >= size; });
  TUTOR_CHECK(bad == end, "{}: index {} is out of range for {} (size {})", op, *bad, what, size);
}

void check_index_range(const char* op, const Tensor& index, const Tensor& x, int64_t dim) {
  check_index_range(op, index, x.size(dim), fmt::format("dim {}", dim));
}

// The dim these ops index along, wrapped; they need at least one dim.
int64_t indexed_dim(const char* op, const Tensor& x, int64_t dim) {
  TUTOR_CHECK(x.defined() && x.dim() > 0, "{}: expects a tensor with at least 1 dim, got shape {}",
              op, x.defined() ? shape_str(x.sizes()) : "undefined");
  return wrap_dim(dim, x.dim(), op);
}

// gather and scatter: index has t's rank and is no larger than t, except along dim when
// `except_dim` (the dim the index values address).
void check_index_fits(const char* op, const Tensor& index, const Tensor& t, const char* what,
                      int64_t dim, bool except_dim) {
  TUTOR_CHECK(index.dim() == t.dim(), "{}: index of shape {} and {} of shape {} differ in rank", op,
              shape_str(index.sizes()), what, shape_str(t.sizes()));
  for (int64_t d = 0; d < t.dim(); ++d)
    TUTOR_CHECK((except_dim && d == dim) || index.size(d) <= t.size(d),
                "{}: index of shape {} is larger than {} of shape {} in dim {}", op,
                shape_str(index.sizes()), what, shape_str(t.sizes()), d);
}

// The arguments of scatter and scatter_add, checked; returns src narrowed to index's shape (only
// that part of src is read, so only it gets a gradient).
Tensor scatter_source(const char* op, const Tensor& x, int64_t dim, const Tensor& index,
                      const Tensor& src) {
  check_index_dtype(op, index);
  ops::check_same_dtype(op, {x, src});
  ops::check_same_device(op, {x, index, src});
  check_index_fits(op, index, x, "input", dim, true);
  check_index_fits(op, index, src, "src", dim, false);
  check_index_range(op, index, x, dim);
  Tensor used = src;
  for (int64_t d = 0; d < src.dim(); ++d)
    if (used.size(d) != index.size(d)) used = used.narrow(d, 0, index.size(d));
  return used;
}

// y = x with src scattered in by kernel k (scatter, scatter_add, index_add).
Tensor run_scatter(const Kernel& k, const Tensor& x, const Tensor& index, const Tensor& src,
                   const kernels::IndexParams& p) {
  Tensor y = empty(x.sizes(), x.options());
  ops::dispatch(k, x.dtype(), {x, index, src}, {y}, &p);
  return y;
}

// The gradient of picking x's elements at `indices` along dim: g placed back at those positions
// (each picked once), zeros elsewhere.
Tensor scatter_to_indices(const Tensor& g, const Shape& x_shape, int64_t dim,
                          const Tensor& indices) {
  return scatter(zeros(x_shape, g.options()), dim, indices, g);
}

// sort and topk: the first k of x's sorted order along dim (all of it when k < 0).
SortResult sorted_prefix(const char* op, const Kernel& kernel, const Tensor& x, int64_t dim,
                         int64_t k, bool descending) {
  if (x.dim() == 0) {
    SortResult r = sorted_prefix(op, kernel, x.reshape({1}), dim, k, descending);
    return {r.values.reshape({}), r.indices.reshape({})};
  }
  int64_t d = wrap_dim(dim, x.dim(), op);
  int64_t size = x.size(d);
  if (k < 0) k = size;
  TUTOR_CHECK(k <= size, "{}: k = {} is larger than dim {} of size {} (shape {})", op, k, d, size,
              shape_str(x.sizes()));
  Shape shape = x.sizes();
  shape[size_t(d)] = k;
  SortResult r{empty(shape, x.options()), empty(shape, x.options().dtype(DType::i64))};
  kernels::SortParams p{d, k, descending};
  ops::dispatch(kernel, x.dtype(), {x}, {r.values, r.indices}, &p);
  if (needs_grad({x}))
    record(op, {x}, {r.values},
           [in = x.sizes(), d, si = autograd::save(r.indices)](const FunctionNode& n,
                                                               const TensorList& g) {
             return TensorList{scatter_to_indices(g[0], in, d, n.unpack(si))};
           });
  return r;
}

}  // namespace

// y[..., j, ...] = x[..., index[j], ...] (torch.index_select).
// dx = index_add(zeros_like(x), dim, index, g): rows picked more than once sum their gradients.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  static const Kernel k("index_select");
  int64_t d = indexed_dim("index_select", x, dim);
  check_index_dtype("index_select", index);
  TUTOR_CHECK(index.dim() <= 1, "index_select: index must be 0-d or 1-D, got shape {}",
              shape_str(index.sizes()));
  ops::check_same_device("index_select", {x, index});
  check_index_range("index_select", index, x, d);
  Shape shape = x.sizes();
  shape[size_t(d)] = index.numel();
  Tensor y = empty(shape, x.options());
  kernels::IndexParams p{d};
  ops::dispatch(k, x.dtype(), {x, index}, {y}, &p);
  if (needs_grad({x}))
    record("index_select", {x}, {y},
           [in = x.sizes(), d, si = autograd::save(index)](const FunctionNode& n,
                                                           const TensorList& g) {
             return TensorList{index_add(zeros(in, g[0].options()), d, n.unpack(si), g[0])};
           });
  return y;
}

// y[p] = x[p with p[dim] = index[p]] (torch.gather).
// dx = scatter_add(zeros_like(x), dim, index, g).
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  static const Kernel k("gather");
  int64_t d = indexed_dim("gather", x, dim);
  check_index_dtype("gather", index);
  ops::check_same_device("gather", {x, index});
  check_index_fits("gather", index, x, "input", d, true);
  check_index_range("gather", index, x, d);
  Tensor y = empty(index.sizes(), x.options());
  kernels::IndexParams p{d};
  ops::dispatch(k, x.dtype(), {x, index}, {y}, &p);
  if (needs_grad({x}))
    record("gather", {x}, {y},
           [in = x.sizes(), d, si = autograd::save(index)](const FunctionNode& n,
                                                           const TensorList& g) {
             return TensorList{scatter_add(zeros(in, g[0].options()), d, n.unpack(si), g[0])};
           });
  return y;
}

// y = x, then y[p with p[dim] = index[p]] = src[p] (torch.scatter). Where index repeats a target
// the last write in row-major order wins here (PyTorch leaves it unspecified).
// dx = g with the written positions zeroed, scatter(g, dim, index, 0);
// dsrc = gather(g, dim, index).
Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  static const Kernel k("scatter");
  int64_t d = indexed_dim("scatter", x, dim);
  Tensor s = scatter_source("scatter", x, d, index, src);
  Tensor y = run_scatter(k, x, index, s, {d});
  if (needs_grad({x, s}))
    record("scatter", {x, s}, {y},
           [d, si = autograd::save(index)](const FunctionNode& n, const TensorList& g) {
             Tensor idx = n.unpack(si);
             return TensorList{n.needs_input_grad(0)
                                   ? scatter(g[0], d, idx, zeros(idx.sizes(), g[0].options()))
                                   : Tensor(),
                               n.needs_input_grad(1) ? gather(g[0], d, idx) : Tensor()};
           });
  return y;
}

// y = x, then y[p with p[dim] = index[p]] += src[p] (torch.scatter_add).
// dx = g; dsrc = gather(g, dim, index).
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  static const Kernel k("scatter_add");
  int64_t d = indexed_dim("scatter_add", x, dim);
  Tensor s = scatter_source("scatter_add", x, d, index, src);
  Tensor y = run_scatter(k, x, index, s, {d});
  if (needs_grad({x, s}))
    record("scatter_add", {x, s}, {y},
           [d, si = autograd::save(index)](const FunctionNode& n, const TensorList& g) {
             return TensorList{n.needs_input_grad(0) ? g[0] : Tensor(),
                               n.needs_input_grad(1) ? gather(g[0], d, n.unpack(si)) : Tensor()};
           });
  return y;
}

// y = x, then y[..., index[j], ...] += alpha * src[..., j, ...] (torch.index_add).
// dx = g; dsrc = alpha * index_select(g, dim, index).
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src,
                 double alpha) {
  static const Kernel k("index_add");
  int64_t d = indexed_dim("index_add", x, dim);
  check_index_dtype("index_add", index);
  TUTOR_CHECK(index.dim() <= 1, "index_add: index must be 0-d or 1-D, got shape {}",
              shape_str(index.sizes()));
  ops::check_same_dtype("index_add", {x, src});
  ops::check_same_device("index_add", {x, index, src});
  Shape expected = x.sizes();
  expected[size_t(d)] = index.numel();
  TUTOR_CHECK(src.sizes() == expected,
              "index_add: src of shape {} does not match input of shape {} with dim {} of the "
              "index's length {} (expected {})",
              shape_str(src.sizes()), shape_str(x.sizes()), d, index.numel(), shape_str(expected));
  check_index_range("index_add", index, x, d);
  Tensor y = run_scatter(k, x, index, src, {d, alpha});
  if (needs_grad({x, src}))
    record("index_add", {x, src}, {y},
           [d, alpha, si = autograd::save(index)](const FunctionNode& n, const TensorList& g) {
             Tensor gs;
             if (n.needs_input_grad(1)) {
               gs = index_select(g[0], d, n.unpack(si));
               if (alpha != 1) gs = mul(gs, alpha);
             }
             return TensorList{n.needs_input_grad(0) ? g[0] : Tensor(), gs};
           });
  return y;
}

// y = the elements of x where mask is true, x and mask broadcast together, in row-major order
// (torch.masked_select). It is index_select of the flattened x at the true positions, so its
// gradient (an index_add into zeros) comes with it.
Tensor masked_select(const Tensor& x, const Tensor& mask) {
  TUTOR_CHECK(mask.defined() && mask.dtype() == DType::b8,
              "masked_select: mask must be bool, got {} (shape {})", mask.dtype(),
              shape_str(mask.sizes()));
  ops::check_same_device("masked_select", {x, mask});
  auto [xs, ms] = broadcast_pair(x, mask, "masked_select");
  std::vector<bool> keep = ms.to_vector<bool>();
  std::vector<int64_t> positions;
  for (size_t i = 0; i < keep.size(); ++i)
    if (keep[i]) positions.push_back(int64_t(i));
  Tensor index = from_vector(positions, {int64_t(positions.size())}, x.options().dtype(DType::i64));
  return index_select(xs.reshape({-1}), 0, index);
}

// y[i..., :] = weight[indices[i...], :] (torch.nn.functional.embedding).
// dweight = index_add(zeros_like(weight), 0, indices, g), with row padding_idx kept at zero.
Tensor embedding(const Tensor& weight, const Tensor& indices, std::optional<int64_t> padding_idx) {
  TUTOR_CHECK(weight.defined() && weight.dim() == 2,
              "embedding: weight must be 2-D [num_embeddings, embedding_dim], got shape {}",
              weight.defined() ? shape_str(weight.sizes()) : "undefined");
  check_index_dtype("embedding", indices, "indices");
  ops::check_same_device("embedding", {weight, indices});
  const int64_t num = weight.size(0), width = weight.size(1);
  if (padding_idx) {
    TUTOR_CHECK(*padding_idx >= -num && *padding_idx < num,
                "embedding: padding_idx {} is out of range for weight of shape {}", *padding_idx,
                shape_str(weight.sizes()));
    if (*padding_idx < 0) *padding_idx += num;
  }
  check_index_range("embedding", indices, weight, 0);
  Tensor flat = indices.reshape({-1});
  Shape shape = indices.sizes();
  shape.push_back(width);
  Tensor y;
  {
    NoGradGuard no_grad;
    y = index_select(weight, 0, flat).view(shape);
  }
  if (needs_grad({weight}))
    record("embedding", {weight}, {y},
           [ws = weight.sizes(), padding_idx, sf = autograd::save(flat)](const FunctionNode& n,
                                                                         const TensorList& g) {
             Tensor rows = n.unpack(sf);
             Tensor gw =
                 index_add(zeros(ws, g[0].options()), 0, rows, g[0].reshape({rows.numel(), ws[1]}));
             if (padding_idx) {
               std::vector<double> keep(static_cast<size_t>(ws[0]), 1.0);
               keep[size_t(*padding_idx)] = 0;
               gw = mul(gw, from_vector(keep, {ws[0], 1}, g[0].options()));
             }
             return TensorList{gw};
           });
  return y;
}

// y[i..., c] = (labels[i...] == c) as i64 (torch.nn.functional.one_hot).
Tensor one_hot(const Tensor& labels, int64_t num_classes) {
  static const Kernel k("one_hot");
  check_index_dtype("one_hot", labels, "labels");
  TUTOR_CHECK(num_classes >= -1, "one_hot: num_classes must be -1 or at least 0, got {}",
              num_classes);
  if (num_classes == -1) {
    TUTOR_CHECK(labels.numel() > 0,
                "one_hot: cannot infer num_classes from empty labels of shape {}; pass it",
                shape_str(labels.sizes()));
    std::vector<int64_t> v = labels.to_vector<int64_t>();
    num_classes = *std::max_element(v.begin(), v.end()) + 1;
  }
  check_index_range("one_hot", labels, num_classes, "num_classes");
  Shape shape = labels.sizes();
  shape.push_back(num_classes);
  Tensor y = empty(shape, labels.options());
  ops::dispatch(k, DType::i64, {labels}, {y});
  return y;
}

// values = x sorted along dim, indices = their positions in x (torch.sort).
// dx = g scattered back to the positions: scatter(zeros_like(x), dim, indices, g).
SortResult sort(const Tensor& x, int64_t dim, bool descending, bool /*stable: always*/) {
  static const Kernel k("sort");
  return sorted_prefix("sort", k, x, dim, -1, descending);
}

// The indices of sort (torch.argsort); not differentiable.
Tensor argsort(const Tensor& x, int64_t dim, bool descending, bool stable) {
  return sort(x.detach(), dim, descending, stable).indices;
}

// The first k of x sorted along dim, largest first when `largest` (torch.topk).
// dx = scatter(zeros_like(x), dim, indices, g).
SortResult topk(const Tensor& x, int64_t k, int64_t dim, bool largest, bool /*sorted: always*/) {
  static const Kernel kernel("topk");
  TUTOR_CHECK(k >= 0, "topk: k must be non-negative, got {} (shape {})", k, shape_str(x.sizes()));
  return sorted_prefix("topk", kernel, x, dim, k, largest);
}

void ops::add_indexing_ops(std::vector<OpInfo>& ops) {
  const std::vector<DType> numeric = {DType::f32, DType::f64, DType::i64};
  const std::vector<DType> any = {DType::f32, DType::f64, DType::i64, DType::b8};
  for (const char* name : {"index_select", "gather", "scatter"})
    ops.push_back({name, true, {name}, any});
  for (const char* name : {"scatter_add", "index_add", "sort", "topk"})
    ops.push_back({name, true, {name}, numeric});
  ops.push_back({"argsort", false, {"sort"}, numeric});
  ops.push_back({"masked_select", true, {}});
  ops.push_back({"embedding", true, {}});
  ops.push_back({"one_hot", false, {"one_hot"}, {DType::i64}});
}

}  // namespace tutor
