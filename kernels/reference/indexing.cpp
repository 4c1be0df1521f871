// Reference indexing and shaping kernels. Indices arrive i64 and already checked to be in range by
// the op; inputs may have any strides, outputs are contiguous.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>

#include "kernels/indexing_params.h"
#include "kernels/reference/loops.h"
#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

namespace {

// Sums run in double for floating types (and bools are held as integers).
template <class T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

// `t`'s strides with the one of `dim` set to 0: the offset of an element of `t` apart from its
// coordinate along dim, to which index * t.stride(dim) is added.
Shape strides_without(const Tensor& t, int64_t dim) {
  Shape s = t.strides();
  s[size_t(dim)] = 0;
  return s;
}

// A 0-d or 1-D index seen as an index of `shape` that varies only along `dim`: index_select is
// gather, and index_add is scatter_add, with this index.
Tensor spread_index(const Tensor& index, const Shape& shape, int64_t dim) {
  Shape st(shape.size(), 0);
  st[size_t(dim)] = index.dim() == 0 ? 0 : index.stride(0);
  return index.as_strided_raw(shape, st, index.offset());
}

// out[p] = x[p with p[dim] replaced by index[p]], for every p of index's shape.
template <class T>
void gather_into(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  const T* xp = base<T>(x);
  const int64_t* ip = base<int64_t>(index);
  T* yp = base<T>(out);
  const int64_t step = x.stride(dim);
  Shape xs = strides_without(x, dim);
  for_each_offset<3>(index.sizes(), {&out.strides(), &index.strides(), &xs},
                     {out.offset(), index.offset(), x.offset()},
                     [&](int64_t oy, int64_t oi, int64_t ox) { yp[oy] = xp[ox + ip[oi] * step]; });
}

// out = x, then out[p with p[dim] replaced by index[p]] = src[p] (or += alpha * src[p] when
// accumulating), for every p of index's shape, in row-major order of p.
template <class T, bool accumulate>
void scatter_into(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src,
                  double alpha, const Tensor& out) {
  std::vector<Acc<T>> acc(size_t(out.numel()));
  Shape packed = contiguous_strides(out.sizes());
  const T* xp = base<T>(x);
  for_each_offset<2>(x.sizes(), {&packed, &x.strides()}, {0, x.offset()},
                     [&](int64_t o, int64_t ox) { acc[size_t(o)] = Acc<T>(xp[ox]); });
  const T* sp = base<T>(src);
  const int64_t* ip = base<int64_t>(index);
  const int64_t step = packed[size_t(dim)];
  packed[size_t(dim)] = 0;
  for_each_offset<3>(index.sizes(), {&packed, &index.strides(), &src.strides()},
                     {0, index.offset(), src.offset()}, [&](int64_t o, int64_t oi, int64_t os) {
                       Acc<T>& target = acc[size_t(o + ip[oi] * step)];
                       if constexpr (accumulate)
                         target += Acc<T>(alpha) * Acc<T>(sp[os]);
                       else
                         target = Acc<T>(sp[os]);
                     });
  T* yp = out.data<T>();
  for (size_t i = 0; i < acc.size(); ++i) yp[i] = T(acc[i]);
}

template <class T>
void index_select_kernel(const KernelArgs& a) {
  int64_t dim = a.p<IndexParams>().dim;
  gather_into<T>(a.in[0], dim, spread_index(a.in[1], a.out[0].sizes(), dim), a.out[0]);
}

template <class T>
void gather_kernel(const KernelArgs& a) {
  gather_into<T>(a.in[0], a.p<IndexParams>().dim, a.in[1], a.out[0]);
}

template <class T>
void scatter_kernel(const KernelArgs& a) {
  scatter_into<T, false>(a.in[0], a.p<IndexParams>().dim, a.in[1], a.in[2], 1, a.out[0]);
}

template <class T>
void scatter_add_kernel(const KernelArgs& a) {
  scatter_into<T, true>(a.in[0], a.p<IndexParams>().dim, a.in[1], a.in[2], 1, a.out[0]);
}

template <class T>
void index_add_kernel(const KernelArgs& a) {
  const auto& p = a.p<IndexParams>();
  const Tensor& src = a.in[2];
  scatter_into<T, true>(a.in[0], p.dim, spread_index(a.in[1], src.sizes(), p.dim), src, p.alpha,
                        a.out[0]);
}

// Each input copied into its slab of the output along dim; any dtype.
void cat_kernel(const KernelArgs& a) {
  const Tensor& out = a.out[0];
  const int64_t dim = a.p<IndexParams>().dim;
  int64_t at = 0;
  for (const Tensor& t : a.in) {
    out.as_strided_raw(t.sizes(), out.strides(), out.offset() + at * out.stride(dim)).copy_raw_(t);
    at += t.size(dim);
  }
}

// out[i] = x[i with i_d replaced by n_d - 1 - i_d for every flipped d]: x read with those strides
// negated, starting from its last element along them.
template <class T>
void flip_kernel(const KernelArgs& a) {
  const Tensor& x = a.in[0];
  const Tensor& y = a.out[0];
  Shape xs = x.strides();
  int64_t start = x.offset();
  for (int64_t d : a.p<FlipParams>().dims) {
    start += (x.size(d) - 1) * xs[size_t(d)];
    xs[size_t(d)] = -xs[size_t(d)];
  }
  const T* xp = base<T>(x);
  T* yp = base<T>(y);
  for_each_offset<2>(y.sizes(), {&y.strides(), &xs}, {y.offset(), start},
                     [&](int64_t oy, int64_t ox) { yp[oy] = xp[ox]; });
}

// Element (i, j) of each matrix in the last two dims is kept where j - i <= diagonal (lower) or
// j - i >= diagonal (upper), and zeroed elsewhere.
template <class T, bool lower>
void triangle_kernel(const KernelArgs& a) {
  Tensor x = a.in[0].contiguous_raw();
  const int64_t diagonal = a.p<TriangleParams>().diagonal;
  const int64_t rows = x.size(x.dim() - 2), cols = x.size(x.dim() - 1);
  const T* xp = x.data<T>();
  T* yp = a.out[0].data<T>();
  for (int64_t e = 0; e < x.numel(); ++e) {
    int64_t j = e % cols, i = (e / cols) % rows;
    bool keep = lower ? j - i <= diagonal : j - i >= diagonal;
    yp[e] = keep ? xp[e] : T(0);
  }
}

template <class T>
void tril_kernel(const KernelArgs& a) {
  triangle_kernel<T, true>(a);
}
template <class T>
void triu_kernel(const KernelArgs& a) {
  triangle_kernel<T, false>(a);
}

// Whether u comes before v in ascending order; NaN sorts after every number, as in PyTorch.
template <class T>
bool ascending_before(T u, T v) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(u)) return false;
    if (std::isnan(v)) return true;
  }
  return u < v;
}

// The first k of a stable sort along dim: values and their positions along dim.
template <class T>
void sort_kernel(const KernelArgs& a) {
  const auto& p = a.p<SortParams>();
  Tensor x = a.in[0].contiguous_raw();
  const int64_t n = x.size(p.dim);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < p.dim; ++d) outer *= x.size(d);
  for (int64_t d = p.dim + 1; d < x.dim(); ++d) inner *= x.size(d);
  const T* xp = x.data<T>();
  T* vp = a.out[0].data<T>();
  int64_t* ip = a.out[1].data<int64_t>();
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      const T* line = xp + o * n * inner + in;
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t u, int64_t v) {
        return p.descending ? ascending_before(line[v * inner], line[u * inner])
                            : ascending_before(line[u * inner], line[v * inner]);
      });
      for (int64_t r = 0; r < p.k; ++r) {
        int64_t at = (o * p.k + r) * inner + in;
        vp[at] = line[order[size_t(r)] * inner];
        ip[at] = order[size_t(r)];
      }
    }
}

// out[..., c] = (labels[...] == c); the number of classes is the output's last size.
void one_hot_kernel(const KernelArgs& a) {
  Tensor labels = a.in[0].contiguous_raw();
  const Tensor& out = a.out[0];
  const int64_t classes = out.size(out.dim() - 1);
  out.fill_raw_(0);
  const int64_t* lp = labels.data<int64_t>();
  int64_t* yp = out.data<int64_t>();
  for (int64_t i = 0; i < labels.numel(); ++i) yp[i * classes + lp[i]] = 1;
}

}  // namespace

#define TUTOR_INDEXING_NUMERIC(name, fn)                                 \
  do {                                                                   \
    TUTOR_REGISTER_FLOATING(name, fn);                                   \
    register_kernel(name, Backend::reference, DType::i64, &fn<int64_t>); \
  } while (0)
#define TUTOR_INDEXING_ANY(name, fn)                                 \
  do {                                                               \
    TUTOR_INDEXING_NUMERIC(name, fn);                                \
    register_kernel(name, Backend::reference, DType::b8, &fn<bool>); \
  } while (0)

void register_indexing() {
  TUTOR_INDEXING_ANY("index_select", index_select_kernel);
  TUTOR_INDEXING_ANY("gather", gather_kernel);
  TUTOR_INDEXING_ANY("scatter", scatter_kernel);
  TUTOR_INDEXING_NUMERIC("scatter_add", scatter_add_kernel);
  TUTOR_INDEXING_NUMERIC("index_add", index_add_kernel);
  for (DType dt : {DType::f32, DType::f64, DType::i64, DType::b8})
    register_kernel("cat", Backend::reference, dt, &cat_kernel);
  TUTOR_INDEXING_ANY("flip", flip_kernel);
  TUTOR_INDEXING_ANY("tril", tril_kernel);
  TUTOR_INDEXING_ANY("triu", triu_kernel);
  TUTOR_INDEXING_NUMERIC("sort", sort_kernel);
  TUTOR_INDEXING_NUMERIC("topk", sort_kernel);
  register_kernel("one_hot", Backend::reference, DType::i64, &one_hot_kernel);
}

}  // namespace tutor::kernels::reference
