// Reference reductions. The output has the input's rank with reduced dims of size 1. Every
// reduction is one accumulator type fed by one loop (reduce below); sums and products run in
// double (or int64) so the oracle is more accurate than the kernels it checks.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <type_traits>

#include "kernels/params.h"
#include "kernels/reductions_params.h"
#include "kernels/reference/loops.h"
#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

namespace {

// The accumulator type of T: double for floating types, int64 for integers (and bool).
template <class T>
using Wide = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  else return false;
}

// Strides that map an input index to its output element: 0 along the reduced dims.
Shape reduced_strides(const Tensor& out, const std::vector<int64_t>& dims) {
  Shape st = contiguous_strides(out.sizes());
  for (int64_t d : dims) st[size_t(d)] = 0;
  return st;
}

// Strides that map an input index to its row-major position within its slice (the reduced dims
// taken alone): 0 along the kept dims. Gives argmax its flat index.
Shape slice_strides(const Tensor& x, const std::vector<int64_t>& dims, int64_t& slice_size) {
  Shape st(x.sizes().size(), 0);
  slice_size = 1;
  for (auto d = dims.rbegin(); d != dims.rend(); ++d) {
    st[size_t(*d)] = slice_size;
    slice_size *= x.size(*d);
  }
  return st;
}

// The generic reduction: one copy of `init` per output element; every input element x at
// position k of its slice calls acc.add(x, k); then store(i, acc, slice_size) writes output i.
template <class T, class Acc, class Store>
void reduce(const KernelArgs& a, const Acc& init, Store store) {
  const Tensor& x = a.in[0];
  const auto& dims = a.p<ReduceParams>().dims;
  std::vector<Acc> acc(size_t(a.out[0].numel()), init);
  int64_t n = 0;
  Shape ost = reduced_strides(a.out[0], dims);
  Shape kst = slice_strides(x, dims, n);
  const T* xp = base<T>(x);
  for_each_offset<3>(x.sizes(), {&x.strides(), &ost, &kst}, {x.offset(), 0, 0},
                     [&](int64_t ox, int64_t oy, int64_t k) { acc[size_t(oy)].add(xp[ox], k); });
  for (size_t i = 0; i < acc.size(); ++i) store(int64_t(i), acc[i], n);
}

template <class T>
struct SumAcc {
  Wide<T> s = 0;
  void add(T v, int64_t) { s += Wide<T>(v); }
};

template <class T>
struct ProdAcc {
  Wide<T> p = 1;
  void add(T v, int64_t) { p *= Wide<T>(v); }
};

// The first extreme element of a slice under `Better` (std::greater: max); NaN wins, as in PyTorch.
template <class T, class Better>
struct ExtremeAcc {
  T best{};
  int64_t index = -1;
  void add(T v, int64_t k) {
    if (index < 0 || Better()(v, best) || (is_nan(v) && !is_nan(best))) {
      best = v;
      index = k;
    }
  }
};

// Welford's running mean and sum of squared deviations.
struct MomentsAcc {
  int64_t n = 0;
  double mean = 0, m2 = 0;
  template <class T>
  void add(T v, int64_t) {
    double d = double(v) - mean;
    mean += d / double(++n);
    m2 += d * (double(v) - mean);
  }
};

// Running max m and s = sum exp(x - m), rescaled whenever m grows: log-sum-exp in one pass.
struct LogSumExpAcc {
  double m = -std::numeric_limits<double>::infinity(), s = 0;
  bool nan = false;
  template <class T>
  void add(T v, int64_t) {
    double x = double(v);
    if (std::isnan(x)) nan = true;
    else if (x > m) { s = s * std::exp(m - x) + 1; m = x; }
    else if (x == m) s += 1;  // also covers x = m = +-inf, where x - m is nan
    else s += std::exp(x - m);
  }
  double value() const { return nan ? std::nan("") : m + std::log(s); }
};

// sum |x| (p = 1), sum x^2 (p = 2, rooted in value()), max |x| (p = inf, NaN propagates).
struct NormAcc {
  double p = 2, s = 0;
  template <class T>
  void add(T v, int64_t) {
    double a = std::abs(double(v));
    if (p == 1) s += a;
    else if (p == 2) s += a * a;
    else if (a > s || std::isnan(a)) s = std::isnan(s) ? s : a;
  }
  double value() const { return p == 2 ? std::sqrt(s) : s; }
};

template <bool All>
struct TruthAcc {
  bool r = All;
  template <class T>
  void add(T v, int64_t) { r = All ? (r && v != T(0)) : (r || v != T(0)); }
};

template <class T>
void sum_kernel(const KernelArgs& a) {
  T* y = a.out[0].data<T>();
  reduce<T>(a, SumAcc<T>{}, [&](int64_t i, const SumAcc<T>& acc, int64_t) { y[i] = T(acc.s); });
}

template <class T>
void prod_kernel(const KernelArgs& a) {
  T* y = a.out[0].data<T>();
  reduce<T>(a, ProdAcc<T>{}, [&](int64_t i, const ProdAcc<T>& acc, int64_t) { y[i] = T(acc.p); });
}

// out: values and int64 indices (row-major position within the slice) of the extreme elements.
template <class T, class Better>
void extreme_kernel(const KernelArgs& a) {
  T* y = a.out[0].data<T>();
  int64_t* idx = a.out[1].data<int64_t>();
  using Acc = ExtremeAcc<T, Better>;
  reduce<T>(a, Acc{}, [&](int64_t i, const Acc& acc, int64_t) {
    y[i] = acc.best;
    idx[i] = acc.index;
  });
}

template <class T>
void max_kernel(const KernelArgs& a) { extreme_kernel<T, std::greater<>>(a); }
template <class T>
void min_kernel(const KernelArgs& a) { extreme_kernel<T, std::less<>>(a); }

// var = sum (x - mean)^2 / max(0, n - correction); std = sqrt(var). params.a = correction.
template <class T, bool Root>
void moments_kernel(const KernelArgs& a) {
  T* y = a.out[0].data<T>();
  double correction = a.p<ReduceParams>().a;
  reduce<T>(a, MomentsAcc{}, [&](int64_t i, const MomentsAcc& acc, int64_t n) {
    double v = acc.m2 / std::max(0.0, double(n) - correction);
    y[i] = T(Root ? std::sqrt(v) : v);
  });
}

template <class T>
void var_kernel(const KernelArgs& a) { moments_kernel<T, false>(a); }
template <class T>
void std_kernel(const KernelArgs& a) { moments_kernel<T, true>(a); }

template <class T>
void logsumexp_kernel(const KernelArgs& a) {
  T* y = a.out[0].data<T>();
  reduce<T>(a, LogSumExpAcc{}, [&](int64_t i, const LogSumExpAcc& acc, int64_t) { y[i] = T(acc.value()); });
}

// params.a = p, one of 1, 2, inf.
template <class T>
void norm_kernel(const KernelArgs& a) {
  T* y = a.out[0].data<T>();
  reduce<T>(a, NormAcc{a.p<ReduceParams>().a}, [&](int64_t i, const NormAcc& acc, int64_t) { y[i] = T(acc.value()); });
}

template <class T, bool All>
void truth_kernel(const KernelArgs& a) {
  bool* y = a.out[0].data<bool>();
  reduce<T>(a, TruthAcc<All>{}, [&](int64_t i, const TruthAcc<All>& acc, int64_t) { y[i] = acc.r; });
}

template <class T>
void all_kernel(const KernelArgs& a) { truth_kernel<T, true>(a); }
template <class T>
void any_kernel(const KernelArgs& a) { truth_kernel<T, false>(a); }

// out (the input's shape) = the product of the other elements of each element's slice, from the
// slice's zero count z and product P of its nonzero elements: P / x if z = 0; P at the zero if
// z = 1 (0 elsewhere); 0 everywhere if z > 1. The gradient of prod, exact with zeros.
template <class T>
void prod_others_kernel(const KernelArgs& a) {
  Tensor x = a.in[0].contiguous_raw();
  const auto& dims = a.p<ReduceParams>().dims;
  Shape kept = x.sizes();
  for (int64_t d : dims) kept[size_t(d)] = 1;
  Shape ost = contiguous_strides(kept);
  for (int64_t d : dims) ost[size_t(d)] = 0;
  std::vector<double> nonzero_prod(size_t(shape_numel(kept)), 1.0);
  std::vector<int64_t> zeros(nonzero_prod.size(), 0);
  const T* xp = base<T>(x);
  auto visit = [&](auto f) {
    for_each_offset<2>(x.sizes(), {&x.strides(), &ost}, {x.offset(), 0}, f);
  };
  visit([&](int64_t ox, int64_t oy) {
    if (xp[ox] == T(0)) ++zeros[size_t(oy)];
    else nonzero_prod[size_t(oy)] *= double(xp[ox]);
  });
  T* y = a.out[0].data<T>();
  visit([&](int64_t ox, int64_t oy) {
    double v = double(xp[ox]), p = nonzero_prod[size_t(oy)];
    int64_t z = zeros[size_t(oy)];
    y[ox - x.offset()] = T(z == 0 ? p / v : (z == 1 && v == 0 ? p : 0.0));
  });
}

// Inclusive running sums along one dim, forwards or (reverse) backwards.
template <class T>
void cumsum_kernel(const KernelArgs& a) {
  Tensor x = a.in[0].contiguous_raw();
  const auto& p = a.p<CumsumParams>();
  int64_t outer = 1, len = 1, inner = 1;
  for (int64_t d = 0; d < x.dim(); ++d)
    (d < p.dim ? outer : d == p.dim ? len : inner) *= x.size(d);
  const T* xp = x.data<T>();
  T* y = a.out[0].data<T>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      Wide<T> s = 0;
      for (int64_t step = 0; step < len; ++step) {
        int64_t j = p.reverse ? len - 1 - step : step;
        int64_t at = (o * len + j) * inner + i;
        s += Wide<T>(xp[at]);
        y[at] = T(s);
      }
    }
}

template <KernelFn F>
void register_i64(const char* name) {
  register_kernel(name, Backend::reference, DType::i64, F);
}

}  // namespace

void register_reductions() {
  TUTOR_REGISTER_FLOATING("sum", sum_kernel);
  TUTOR_REGISTER_FLOATING("prod", prod_kernel);
  TUTOR_REGISTER_FLOATING("prod_others", prod_others_kernel);
  TUTOR_REGISTER_FLOATING("max", max_kernel);
  TUTOR_REGISTER_FLOATING("min", min_kernel);
  TUTOR_REGISTER_FLOATING("var", var_kernel);
  TUTOR_REGISTER_FLOATING("std", std_kernel);
  TUTOR_REGISTER_FLOATING("logsumexp", logsumexp_kernel);
  TUTOR_REGISTER_FLOATING("norm", norm_kernel);
  TUTOR_REGISTER_FLOATING("cumsum", cumsum_kernel);
  TUTOR_REGISTER_FLOATING("all", all_kernel);
  TUTOR_REGISTER_FLOATING("any", any_kernel);
  register_i64<&sum_kernel<int64_t>>("sum");
  register_i64<&prod_kernel<int64_t>>("prod");
  register_i64<&prod_others_kernel<int64_t>>("prod_others");
  register_i64<&max_kernel<int64_t>>("max");
  register_i64<&min_kernel<int64_t>>("min");
  register_i64<&cumsum_kernel<int64_t>>("cumsum");
  register_i64<&all_kernel<int64_t>>("all");
  register_i64<&any_kernel<int64_t>>("any");
  register_kernel("all", Backend::reference, DType::b8, &all_kernel<bool>);
  register_kernel("any", Backend::reference, DType::b8, &any_kernel<bool>);
}

}  // namespace tutor::kernels::reference
