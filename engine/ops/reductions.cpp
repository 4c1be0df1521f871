#include "engine/ops/reductions.h"

#include <algorithm>
#include <cmath>

#include "engine/autograd/node.h"
#include "engine/ops/catalog.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/views.h"
#include "kernels/params.h"
#include "kernels/reductions_params.h"

namespace tutor {

using autograd::FunctionNode;
using autograd::needs_grad;
using autograd::record;
using ops::Kernel;

namespace {

// The geometry of one reduction.
struct Plan {
  std::vector<int64_t> dims;  // wrapped and sorted; empty for a 0-dim input
  Shape in;                   // the input's shape
  Shape kept;                 // the input's shape with the reduced dims set to 1
  Shape out;                  // kept (keepdim) or kept without the reduced dims
  int64_t slice_size = 1;     // input elements per output element
};

// Wraps `dims` (empty: all) for x, checking range and duplicates with messages naming op and shape.
Plan plan(const char* op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Plan pl{{}, x.sizes(), x.sizes(), {}, 1};
  const int64_t nd = x.dim(), n = std::max<int64_t>(nd, 1);  // a 0-dim input accepts dim 0, -1
  for (int64_t d : dims) {
    TUTOR_CHECK(d >= -n && d < n, "{}: dim {} is out of range for an input of shape {}", op, d,
                shape_str(x.sizes()));
    int64_t w = d < 0 ? d + n : d;
    TUTOR_CHECK(std::find(pl.dims.begin(), pl.dims.end(), w) == pl.dims.end(),
                "{}: dim {} appears twice in {} (input of shape {})", op, d, shape_str(dims),
                shape_str(x.sizes()));
    pl.dims.push_back(w);
  }
  if (dims.empty())
    for (int64_t d = 0; d < nd; ++d) pl.dims.push_back(d);
  if (nd == 0) pl.dims.clear();
  std::sort(pl.dims.begin(), pl.dims.end());
  for (int64_t d : pl.dims) {
    pl.slice_size *= pl.in[size_t(d)];
    pl.kept[size_t(d)] = 1;
  }
  for (int64_t d = 0; d < nd; ++d)
    if (keepdim || !std::binary_search(pl.dims.begin(), pl.dims.end(), d))
      pl.out.push_back(pl.kept[size_t(d)]);
  return pl;
}

// max, min and the norm with p = inf have no identity: an empty slice has no value.
void check_nonempty(const char* op, const Plan& pl) {
  TUTOR_CHECK(pl.slice_size > 0,
              "{}: cannot reduce an input of shape {} over dims {}: the slices are empty and the "
              "reduction has no identity",
              op, shape_str(pl.in), shape_str(pl.dims));
}

// Runs a one-output reduction kernel; `a` is the op's ReduceParams::a.
Tensor reduce(const Kernel& k, const Tensor& x, const Plan& pl, double a = 0,
              std::optional<DType> out_dtype = {}) {
  kernels::ReduceParams p{pl.dims, a};
  Tensor y = empty(pl.kept, x.options().dtype(out_dtype.value_or(x.dtype())));
  ops::dispatch(k, x.dtype(), {x}, {y}, &p);
  return y.view(pl.out);
}

// Runs the "max" or "min" kernel: the extreme values and their positions within each slice.
ValuesIndices extreme(const Kernel& k, const Tensor& x, const Plan& pl) {
  kernels::ReduceParams p{pl.dims, 0};
  Tensor values = empty(pl.kept, x.options());
  Tensor indices = empty(pl.kept, x.options().dtype(DType::i64));
  ops::dispatch(k, x.dtype(), {x}, {values, indices}, &p);
  return {values.view(pl.out), indices.view(pl.out)};
}

// 1 where a == b (broadcast), else 0, in a's dtype: a constant selecting the extremes.
Tensor equal_mask(const Tensor& a, const Tensor& b) { return eq(a.detach(), b.detach()).to(a.dtype()); }

// The output gradient with the reduced dims restored as size 1, broadcastable against the input.
Tensor unreduce(const Tensor& g, const Plan& pl) { return g.reshape(pl.kept); }

// d y / d x for y = amax or amin: g spread evenly over the elements equal to the extreme (as
// PyTorch's amax/amin and full max/min backward).
Tensor evenly_to_extremes(const Tensor& g, const Tensor& x, const Tensor& y, const Plan& pl) {
  Tensor hit = equal_mask(x, unreduce(y, pl));
  return unreduce(g, pl) * hit / sum(hit, pl.dims, /*keepdim=*/true);
}

// amax / amin / full max / min over pl.dims.
Tensor extreme_values(const Kernel& k, const char* op, const Tensor& x, const Plan& pl) {
  check_nonempty(op, pl);
  Tensor y = extreme(k, x, pl).values;
  if (needs_grad({x}))
    record(op, {x}, {y}, [pl, sx = autograd::save(x), sy = autograd::save_output(y)](
                             const FunctionNode& n, const TensorList& g) {
      return TensorList{evenly_to_extremes(g[0], n.unpack(sx), n.unpack(sy), pl)};
    });
  return y;
}

// max / min along one dim: the gradient flows to the selected index only.
ValuesIndices extreme_along(const Kernel& k, const char* op, const Tensor& x, int64_t dim,
                            bool keepdim) {
  Plan pl = plan(op, x, {dim}, keepdim);
  check_nonempty(op, pl);
  ValuesIndices r = extreme(k, x, pl);
  if (needs_grad({x}))
    record(op, {x}, {r.values}, [pl, si = autograd::save(r.indices), dt = x.dtype()](
                                    const FunctionNode& n, const TensorList& g) {
      if (pl.dims.empty()) return TensorList{unreduce(g[0], pl)};  // a 0-dim input
      int64_t d = pl.dims[0];
      Shape along(pl.in.size(), 1);
      along[size_t(d)] = pl.in[size_t(d)];
      Tensor position = arange(double(pl.in[size_t(d)])).view(along);
      Tensor chosen = equal_mask(position, unreduce(n.unpack(si), pl)).to(dt);
      return TensorList{unreduce(g[0], pl) * chosen};
    });
  return r;
}

Tensor arg_extreme(const Kernel& k, const char* op, const Tensor& x, std::optional<int64_t> dim,
                   bool keepdim) {
  Plan pl = dim ? plan(op, x, {*dim}, keepdim) : plan(op, x, {}, keepdim);
  check_nonempty(op, pl);
  return extreme(k, x, pl).indices;
}

// Runs cumsum forwards or backwards along a wrapped dim; each direction's gradient is the other.
Tensor cumsum_along(const Tensor& x, int64_t dim, bool reverse) {
  static const Kernel k("cumsum");
  kernels::CumsumParams p{dim, reverse};
  Tensor y = empty(x.sizes(), x.options());
  ops::dispatch(k, x.dtype(), {x}, {y}, &p);
  if (needs_grad({x}))
    record("cumsum", {x}, {y}, [dim, reverse](const FunctionNode&, const TensorList& g) {
      return TensorList{cumsum_along(g[0], dim, !reverse)};
    });
  return y;
}

// The product of the other elements of each element's slice (exact when the slice has zeros).
Tensor prod_others(const Tensor& x, const Plan& pl) {
  static const Kernel k("prod_others");
  kernels::ReduceParams p{pl.dims, 0};
  Tensor out = empty(x.sizes(), x.options());
  ops::dispatch(k, x.dtype(), {x}, {out}, &p);
  return out;
}

double correction(bool unbiased) { return unbiased ? 1.0 : 0.0; }

}  // namespace

// sum(x) over dims; d/dx = g broadcast back over the reduced dims. Bool inputs count as i64, as
// in PyTorch (mask.sum() counts the true elements).
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  static const Kernel k("sum");
  if (x.dtype() == DType::b8) return sum(x.to(DType::i64), dims, keepdim);
  Plan pl = plan("sum", x, dims, keepdim);
  Tensor y = reduce(k, x, pl);
  if (needs_grad({x}))
    record("sum", {x}, {y}, [pl](const FunctionNode&, const TensorList& g) {
      return TensorList{unreduce(g[0], pl).expand(pl.in).contiguous()};
    });
  return y;
}

// mean = sum / n with n the slice size; an empty slice gives 0/0 = nan, as in PyTorch
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  ops::check_floating("mean", x);
  Plan pl = plan("mean", x, dims, keepdim);
  return sum(x, dims, keepdim) / double(pl.slice_size);
}

// prod = prod_i x_i; d/dx_i = g * prod_{j != i} x_j, which is g * prod / x_i when no x_j is 0
// (that form stays differentiable); with zeros the products of the others are formed directly,
// and are then constant to a second differentiation.
Tensor prod(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  static const Kernel k("prod");
  Plan pl = plan("prod", x, dims, keepdim);
  Tensor y = reduce(k, x, pl);
  if (needs_grad({x}))
    record("prod", {x}, {y}, [pl, sx = autograd::save(x), sy = autograd::save_output(y)](
                                 const FunctionNode& n, const TensorList& g) {
      Tensor x_ = n.unpack(sx);
      if (all(x_).item<bool>()) return TensorList{unreduce(g[0], pl) * unreduce(n.unpack(sy), pl) / x_};
      return TensorList{unreduce(g[0], pl) * prod_others(x_, pl)};
    });
  return y;
}

// max(x, dim): values and indices of the first maximum; d/dx = g at the chosen index, 0 elsewhere
ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim) {
  static const Kernel k("max");
  return extreme_along(k, "max", x, dim, keepdim);
}

ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim) {
  static const Kernel k("min");
  return extreme_along(k, "min", x, dim, keepdim);
}

// max(x) = amax(x) over all dims; d/dx = g / (number of maxima) at each maximum (PyTorch's
// evenly_distribute_backward)
Tensor max(const Tensor& x) {
  static const Kernel k("max");
  return extreme_values(k, "max", x, plan("max", x, {}, false));
}

Tensor min(const Tensor& x) {
  static const Kernel k("min");
  return extreme_values(k, "min", x, plan("min", x, {}, false));
}

// amax(x, dims): d/dx = g / (number of maxima in the slice) at each maximum, as torch.amax
Tensor amax(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  static const Kernel k("max");
  return extreme_values(k, "amax", x, plan("amax", x, dims, keepdim));
}

Tensor amin(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  static const Kernel k("min");
  return extreme_values(k, "amin", x, plan("amin", x, dims, keepdim));
}

Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  static const Kernel k("max");
  return arg_extreme(k, "argmax", x, dim, keepdim);
}

Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
  static const Kernel k("min");
  return arg_extreme(k, "argmin", x, dim, keepdim);
}

// var = sum (x - mean)^2 / max(0, n - c), c = 1 when unbiased (torch.var correction);
// d var/dx = g * 2 (x - mean) / (n - c)
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, bool unbiased, bool keepdim) {
  static const Kernel k("var");
  ops::check_floating("var", x);
  Plan pl = plan("var", x, dims, keepdim);
  double c = correction(unbiased);
  Tensor y = reduce(k, x, pl, c);
  if (needs_grad({x}))
    record("var", {x}, {y}, [pl, c, sx = autograd::save(x)](const FunctionNode& n, const TensorList& g) {
      Tensor x_ = n.unpack(sx);
      Tensor centered = x_ - mean(x_, pl.dims, true);
      return TensorList{unreduce(g[0], pl) * centered * (2.0 / std::max(0.0, double(pl.slice_size) - c))};
    });
  return y;
}

// std = sqrt(var); d std/dx = g * (x - mean) / ((n - c) * std)
Tensor std(const Tensor& x, const std::vector<int64_t>& dims, bool unbiased, bool keepdim) {
  static const Kernel k("std");
  ops::check_floating("std", x);
  Plan pl = plan("std", x, dims, keepdim);
  double c = correction(unbiased);
  Tensor y = reduce(k, x, pl, c);
  if (needs_grad({x}))
    record("std", {x}, {y}, [pl, c, sx = autograd::save(x), sy = autograd::save_output(y)](
                                const FunctionNode& n, const TensorList& g) {
      Tensor x_ = n.unpack(sx);
      Tensor centered = x_ - mean(x_, pl.dims, true);
      Tensor scale = unreduce(g[0], pl) / (unreduce(n.unpack(sy), pl) * std::max(0.0, double(pl.slice_size) - c));
      return TensorList{centered * scale};
    });
  return y;
}

// logsumexp = m + log sum exp(x - m) with m the slice maximum (stable for large |x|; -inf for an
// empty slice); d/dx = g * exp(x - logsumexp) = g * softmax(x)
Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  static const Kernel k("logsumexp");
  ops::check_floating("logsumexp", x);
  Plan pl = plan("logsumexp", x, dims, keepdim);
  Tensor y = reduce(k, x, pl);
  if (needs_grad({x}))
    record("logsumexp", {x}, {y}, [pl, sx = autograd::save(x), sy = autograd::save_output(y)](
                                      const FunctionNode& n, const TensorList& g) {
      return TensorList{unreduce(g[0], pl) * exp(n.unpack(sx) - unreduce(n.unpack(sy), pl))};
    });
  return y;
}

// ||x||_1 = sum |x|: d/dx = g sign(x)
// ||x||_2 = sqrt(sum x^2): d/dx = g x / ||x||, and 0 where ||x|| = 0 (PyTorch's subgradient)
// ||x||_inf = max |x|: d/dx = g sign(x) / (number of maxima of |x|) at each maximum of |x|
// (torch.linalg.vector_norm and its backward, linalg_vector_norm_backward)
Tensor norm(const Tensor& x, double p, const std::vector<int64_t>& dims, bool keepdim) {
  static const Kernel k("norm");
  ops::check_floating("norm", x);
  TUTOR_CHECK(p == 1 || p == 2 || p == INFINITY,
              "norm: p = {} is not supported (1, 2 or inf), input of shape {}", p,
              shape_str(x.sizes()));
  Plan pl = plan("norm", x, dims, keepdim);
  if (p == INFINITY) check_nonempty("norm", pl);
  Tensor y = reduce(k, x, pl, p);
  if (needs_grad({x}))
    record("norm", {x}, {y}, [pl, p, sx = autograd::save(x), sy = autograd::save_output(y)](
                                 const FunctionNode& n, const TensorList& g) {
      Tensor x_ = n.unpack(sx), gk = unreduce(g[0], pl), nk = unreduce(n.unpack(sy), pl);
      if (p == 1) return TensorList{gk * sign(x_)};
      if (p == 2) {
        Tensor safe = nk + equal_mask(nk, zeros_like(nk));
        return TensorList{gk * x_ / safe};
      }
      Tensor hit = equal_mask(abs(x_), nk);
      return TensorList{gk * sign(x_) * hit / sum(hit, pl.dims, true)};
    });
  return y;
}

// y_i = sum_{j <= i} x_j along dim; d/dx_j = sum_{i >= j} g_i, a cumsum from the end
Tensor cumsum(const Tensor& x, int64_t dim) {
  int64_t n = std::max<int64_t>(x.dim(), 1);
  TUTOR_CHECK(dim >= -n && dim < n, "cumsum: dim {} is out of range for an input of shape {}", dim,
              shape_str(x.sizes()));
  return cumsum_along(x, dim < 0 ? dim + n : dim, false);
}

Tensor all(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  static const Kernel k("all");
  return reduce(k, x, plan("all", x, dims, keepdim), 0, DType::b8);
}

Tensor any(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  static const Kernel k("any");
  return reduce(k, x, plan("any", x, dims, keepdim), 0, DType::b8);
}

void ops::add_reduction_ops(std::vector<OpInfo>& ops) {
  const std::vector<DType> floating = {DType::f32, DType::f64};
  const std::vector<DType> numeric = {DType::f32, DType::f64, DType::i64};
  ops.push_back({"sum", true, {"sum"}, numeric});
  ops.push_back({"mean", true, {}, floating});
  ops.push_back({"prod", true, {"prod", "prod_others"}, numeric});
  ops.push_back({"max", true, {"max"}, numeric});
  ops.push_back({"min", true, {"min"}, numeric});
  ops.push_back({"amax", true, {"max"}, numeric});
  ops.push_back({"amin", true, {"min"}, numeric});
  ops.push_back({"argmax", false, {"max"}, numeric});
  ops.push_back({"argmin", false, {"min"}, numeric});
  ops.push_back({"var", true, {"var"}, floating});
  ops.push_back({"std", true, {"std"}, floating});
  ops.push_back({"logsumexp", true, {"logsumexp"}, floating});
  ops.push_back({"norm", true, {"norm"}, floating});
  ops.push_back({"cumsum", true, {"cumsum"}, numeric});
  ops.push_back({"all", false, {"all"}, {DType::b8, DType::f32, DType::f64, DType::i64}});
  ops.push_back({"any", false, {"any"}, {DType::b8, DType::f32, DType::f64, DType::i64}});
}

}  // namespace tutor
