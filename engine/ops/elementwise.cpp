#include "engine/ops/elementwise.h"

#include <cmath>
#include <limits>
#include <numbers>

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/ops/catalog.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/views.h"
#include "kernels/params.h"

namespace tutor {

using autograd::FunctionNode;
using autograd::needs_grad;
using autograd::record;
using kernels::ScalarParams;
using ops::Kernel;

namespace {

// Runs a binary kernel on the broadcast shapes of a and b; the output has a's dtype unless given.
Tensor binary(const Kernel& k, const Tensor& a, const Tensor& b,
              std::optional<DType> out_dtype = {}) {
  ops::check_same_dtype(k.name, {a, b});
  ops::check_same_device(k.name, {a, b});
  auto [ea, eb] = broadcast_pair(a.detach(), b.detach(), k.name);
  Tensor out = ops::empty_elementwise(
      ea.sizes(), a.options().dtype(out_dtype.value_or(a.dtype())), {ea, eb});
  ops::dispatch(k, a.dtype(), {ea, eb}, {out});
  return out;
}

Tensor unary(const Kernel& k, const Tensor& x, const ScalarParams* p = nullptr) {
  Tensor out = ops::empty_elementwise(x.sizes(), x.options(), {x});
  ops::dispatch(k, x.dtype(), {x}, {out}, p);
  return out;
}

Tensor scalar_like(const Tensor& t, double v) { return scalar_tensor(v, t.options()); }

// Which tensor a unary op's backward rule reads: its input x or its output y.
enum class Saves { input, output };

// y = f(x) through kernel k, with backward grad_x = rule(g, x or y). The rule uses differentiable
// ops, so double backward works.
template <class Rule>
Tensor unary_op(const Kernel& k, const Tensor& x, Saves saves, Rule rule,
                const ScalarParams* p = nullptr) {
  TUTOR_CHECK(x.dtype() != DType::b8, "{}: input must be numeric, got bool (shape {})", k.name,
              shape_str(x.sizes()));
  Tensor y = unary(k, x, p);
  if (needs_grad({x})) {
    auto saved = saves == Saves::input ? autograd::save(x) : autograd::save_output(y);
    record(k.name, {x}, {y}, [saved, rule](const FunctionNode& n, const TensorList& g) {
      return TensorList{rule(g[0], n.unpack(saved))};
    });
  }
  return y;
}

template <class Rule>
Tensor floating_op(const Kernel& k, const Tensor& x, Saves saves, Rule rule,
                   const ScalarParams* p = nullptr) {
  ops::check_floating(k.name, x);
  return unary_op(k, x, saves, rule, p);
}

// Ops that are piecewise constant: zero gradient wherever they are differentiable.
Tensor zero_grad(const Tensor& g, const Tensor&) { return zeros_like(g); }

void check_bool(const char* op, const Tensor& t, const char* what) {
  TUTOR_CHECK(t.dtype() == DType::b8, "{}: {} must be bool, got {} (shape {})", op, what, t.dtype(),
              shape_str(t.sizes()));
}

// `other` broadcast into `shape` (not beyond it), for ops that keep their first operand's shape.
Tensor expand_into(const char* op, const Tensor& other, const Shape& shape, const char* what) {
  TUTOR_CHECK(broadcast_shapes(shape, other.sizes(), op) == shape,
              "{}: {} of shape {} does not broadcast to the input's shape {}", op, what,
              shape_str(other.sizes()), shape_str(shape));
  return other.detach().expand(shape);
}

// The gradient of minimum/maximum for one side: g where that side was picked, g/2 on ties,
// 0 where the other side was picked (PyTorch's rule).
Tensor pick_grad(const Tensor& g, const Tensor& a, const Tensor& b, const Tensor& lost,
                 const Shape& shape) {
  return sum_to(masked_fill(where(eq(a, b), mul(g, 0.5), g), lost, 0), shape);
}

// minimum (larger = false) or maximum (larger = true) through kernel k.
Tensor extremum(const Kernel& k, const Tensor& a, const Tensor& b, bool larger) {
  Tensor y = binary(k, a, b);
  if (needs_grad({a, b}))
    record(k.name, {a, b}, {y},
           [sa = autograd::save(a), sb = autograd::save(b), larger](const FunctionNode& n,
                                                                    const TensorList& g) {
             Tensor a_ = n.unpack(sa), b_ = n.unpack(sb);
             Tensor a_lost = larger ? lt(a_, b_) : gt(a_, b_);
             Tensor b_lost = larger ? gt(a_, b_) : lt(a_, b_);
             return TensorList{
                 n.needs_input_grad(0) ? pick_grad(g[0], a_, b_, a_lost, a_.sizes()) : Tensor(),
                 n.needs_input_grad(1) ? pick_grad(g[0], a_, b_, b_lost, b_.sizes()) : Tensor()};
           });
  return y;
}

}  // namespace

// ---------------------------------------------------------------- arithmetic

// d(a+b) = g, g
Tensor add(const Tensor& a, const Tensor& b) {
  static const Kernel k("add");
  Tensor y = binary(k, a, b);
  if (needs_grad({a, b}))
    record("add", {a, b}, {y},
           [sa = a.sizes(), sb = b.sizes()](const FunctionNode& n, const TensorList& g) {
             return TensorList{n.needs_input_grad(0) ? sum_to(g[0], sa) : Tensor(),
                               n.needs_input_grad(1) ? sum_to(g[0], sb) : Tensor()};
           });
  return y;
}

// d(a-b) = g, -g
Tensor sub(const Tensor& a, const Tensor& b) {
  static const Kernel k("sub");
  Tensor y = binary(k, a, b);
  if (needs_grad({a, b}))
    record("sub", {a, b}, {y},
           [sa = a.sizes(), sb = b.sizes()](const FunctionNode& n, const TensorList& g) {
             return TensorList{n.needs_input_grad(0) ? sum_to(g[0], sa) : Tensor(),
                               n.needs_input_grad(1) ? sum_to(neg(g[0]), sb) : Tensor()};
           });
  return y;
}

// d(a*b) = g*b, g*a. Each input is saved only when the other one needs its gradient.
Tensor mul(const Tensor& a, const Tensor& b) {
  static const Kernel k("mul");
  Tensor y = binary(k, a, b);
  if (needs_grad({a, b}))
    record("mul", {a, b}, {y},
           [sa = b.requires_grad() ? autograd::save(a) : autograd::SavedTensor{},
            sb = a.requires_grad() ? autograd::save(b) : autograd::SavedTensor{},
            shape_a = a.sizes(), shape_b = b.sizes()](const FunctionNode& n, const TensorList& g) {
             return TensorList{
                 n.needs_input_grad(0) ? sum_to(mul(g[0], n.unpack(sb)), shape_a) : Tensor(),
                 n.needs_input_grad(1) ? sum_to(mul(g[0], n.unpack(sa)), shape_b) : Tensor()};
           });
  return y;
}

// d(a/b) = g/b, -g*a/b^2. a is saved only when b needs its gradient.
Tensor div(const Tensor& a, const Tensor& b) {
  static const Kernel k("div");
  Tensor y = binary(k, a, b);
  if (needs_grad({a, b}))
    record("div", {a, b}, {y},
           [sa = b.requires_grad() ? autograd::save(a) : autograd::SavedTensor{},
            sb = autograd::save(b), shape_a = a.sizes()](const FunctionNode& n,
                                                         const TensorList& g) {
             Tensor b_ = n.unpack(sb);
             Tensor ga = div(g[0], b_);
             return TensorList{
                 n.needs_input_grad(0) ? sum_to(ga, shape_a) : Tensor(),
                 n.needs_input_grad(1) ? sum_to(neg(mul(ga, div(n.unpack(sa), b_))), b_.sizes())
                                       : Tensor()};
           });
  return y;
}

Tensor add(const Tensor& a, double b) { return add(a, scalar_like(a, b)); }
Tensor sub(const Tensor& a, double b) { return sub(a, scalar_like(a, b)); }
Tensor mul(const Tensor& a, double b) { return mul(a, scalar_like(a, b)); }
Tensor div(const Tensor& a, double b) { return div(a, scalar_like(a, b)); }

// y = x^e; dy/dx = e x^(e-1) (0 where e == 0), dy/de = y log(x) (0 where x == 0 and e >= 0),
// as PyTorch's pow_backward_self / pow_backward_exponent.
Tensor pow(const Tensor& x, const Tensor& e) {
  static const Kernel k("pow");
  ops::check_floating("pow", x);
  Tensor y = binary(k, x, e);
  if (needs_grad({x, e}))
    record("pow", {x, e}, {y},
           [sx = autograd::save(x), se = autograd::save(e), sy = autograd::save_output(y)](
               const FunctionNode& n, const TensorList& g) {
             Tensor x_ = n.unpack(sx), e_ = n.unpack(se);
             Tensor gx, grad_e;
             if (n.needs_input_grad(0))
               gx = sum_to(masked_fill(mul(g[0], mul(e_, pow(x_, sub(e_, 1.0)))), eq(e_, 0.0), 0),
                           x_.sizes());
             if (n.needs_input_grad(1)) {
               Tensor at_zero = logical_and(eq(x_, 0.0), ge(e_, 0.0));
               grad_e = sum_to(masked_fill(mul(g[0], mul(n.unpack(sy), log(x_))), at_zero, 0),
                               e_.sizes());
             }
             return TensorList{gx, grad_e};
           });
  return y;
}

// y = x^e; dy/dx = e x^(e-1), and 0 for e == 0
Tensor pow(const Tensor& x, double e) {
  static const Kernel k("pow_scalar");
  ScalarParams p{e, 0};
  return floating_op(
      k, x, Saves::input,
      [e](const Tensor& g, const Tensor& x_) {
        return e == 0 ? zeros_like(g) : mul(g, mul(pow(x_, e - 1), e));
      },
      &p);
}

// min(a, b); gradient to the smaller side, split in half on ties (PyTorch)
Tensor minimum(const Tensor& a, const Tensor& b) {
  static const Kernel k("minimum");
  return extremum(k, a, b, /*larger=*/false);
}

// max(a, b); gradient to the larger side, split in half on ties (PyTorch)
Tensor maximum(const Tensor& a, const Tensor& b) {
  static const Kernel k("maximum");
  return extremum(k, a, b, /*larger=*/true);
}

// d(-x) = -g
Tensor neg(const Tensor& x) {
  static const Kernel k("neg");
  return unary_op(k, x, Saves::output, [](const Tensor& g, const Tensor&) { return neg(g); });
}

// d|x| = g sign(x)
Tensor abs(const Tensor& x) {
  static const Kernel k("abs");
  return unary_op(k, x, Saves::input,
                  [](const Tensor& g, const Tensor& x_) { return mul(g, sign(x_)); });
}

// sign(x) in {-1, 0, 1}; zero gradient
Tensor sign(const Tensor& x) {
  static const Kernel k("sign");
  return unary_op(k, x, Saves::input, zero_grad);
}

// d x^2 = 2 x g
Tensor square(const Tensor& x) {
  static const Kernel k("square");
  return unary_op(k, x, Saves::input,
                  [](const Tensor& g, const Tensor& x_) { return mul(g, mul(x_, 2.0)); });
}

// d(1/x) = -g y^2
Tensor reciprocal(const Tensor& x) {
  static const Kernel k("reciprocal");
  return floating_op(k, x, Saves::output,
                     [](const Tensor& g, const Tensor& y) { return neg(mul(g, mul(y, y))); });
}

// zero gradient
Tensor floor(const Tensor& x) {
  static const Kernel k("floor");
  return floating_op(k, x, Saves::input, zero_grad);
}

// min(max(x, lo), hi); gradient g where lo <= x <= hi, else 0 (PyTorch's clamp_backward)
Tensor clamp(const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
  static const Kernel k("clamp");
  TUTOR_CHECK(lo || hi, "clamp: at least one of min and max must be given (input of shape {})",
              shape_str(x.sizes()));
  constexpr double inf = std::numeric_limits<double>::infinity();
  ScalarParams p{lo.value_or(-inf), hi.value_or(inf)};
  return unary_op(
      k, x, Saves::input,
      [lo, hi](const Tensor& g, const Tensor& x_) {
        Tensor outside;
        if (lo) outside = lt(x_, *lo);
        if (hi) outside = outside.defined() ? logical_or(outside, gt(x_, *hi)) : gt(x_, *hi);
        return masked_fill(g, outside, 0);
      },
      &p);
}

// ---------------------------------------------------------------- transcendental

// d exp(x) = g exp(x)
Tensor exp(const Tensor& x) {
  static const Kernel k("exp");
  return floating_op(k, x, Saves::output,
                     [](const Tensor& g, const Tensor& y) { return mul(g, y); });
}

// d(exp(x) - 1) = g (y + 1)
Tensor expm1(const Tensor& x) {
  static const Kernel k("expm1");
  return floating_op(k, x, Saves::output,
                     [](const Tensor& g, const Tensor& y) { return mul(g, add(y, 1.0)); });
}

// d log(x) = g / x
Tensor log(const Tensor& x) {
  static const Kernel k("log");
  return floating_op(k, x, Saves::input,
                     [](const Tensor& g, const Tensor& x_) { return div(g, x_); });
}

// d log(1 + x) = g / (1 + x)
Tensor log1p(const Tensor& x) {
  static const Kernel k("log1p");
  return floating_op(k, x, Saves::input,
                     [](const Tensor& g, const Tensor& x_) { return div(g, add(x_, 1.0)); });
}

// d sqrt(x) = g / (2 y)
Tensor sqrt(const Tensor& x) {
  static const Kernel k("sqrt");
  return floating_op(k, x, Saves::output,
                     [](const Tensor& g, const Tensor& y) { return div(g, mul(y, 2.0)); });
}

// d x^(-1/2) = -g y^3 / 2
Tensor rsqrt(const Tensor& x) {
  static const Kernel k("rsqrt");
  return floating_op(k, x, Saves::output, [](const Tensor& g, const Tensor& y) {
    return mul(g, mul(pow(y, 3.0), -0.5));
  });
}

// d sin(x) = g cos(x)
Tensor sin(const Tensor& x) {
  static const Kernel k("sin");
  return floating_op(k, x, Saves::input,
                     [](const Tensor& g, const Tensor& x_) { return mul(g, cos(x_)); });
}

// d cos(x) = -g sin(x)
Tensor cos(const Tensor& x) {
  static const Kernel k("cos");
  return floating_op(k, x, Saves::input,
                     [](const Tensor& g, const Tensor& x_) { return neg(mul(g, sin(x_))); });
}

// d tanh(x) = g (1 - y^2)
Tensor tanh(const Tensor& x) {
  static const Kernel k("tanh");
  return floating_op(k, x, Saves::output,
                     [](const Tensor& g, const Tensor& y) { return mul(g, 1.0 - mul(y, y)); });
}

// sigmoid(x) = 1 / (1 + exp(-x)); d = g y (1 - y)
Tensor sigmoid(const Tensor& x) {
  static const Kernel k("sigmoid");
  return floating_op(k, x, Saves::output,
                     [](const Tensor& g, const Tensor& y) { return mul(g, mul(y, 1.0 - y)); });
}

// ---------------------------------------------------------------- activations

namespace {

// relu's backward g * [y > 0] as one kernel ("relu_backward"), a differentiable op in g so that
// double backward works: its own backward is the same masking of the incoming gradient.
Tensor relu_grad(const Tensor& g, const Tensor& y) {
  static const Kernel k("relu_backward");
  Tensor out = binary(k, g, y);
  if (needs_grad({g})) {
    auto saved = autograd::save(y);
    record(k.name, {g}, {out}, [saved](const FunctionNode& n, const TensorList& gg) {
      return TensorList{relu_grad(gg[0], n.unpack(saved))};
    });
  }
  return out;
}

}  // namespace

// max(x, 0); d = g where y > 0
Tensor relu(const Tensor& x) {
  static const Kernel k("relu");
  return unary_op(k, x, Saves::output, relu_grad);
}

// x > 0 ? x : slope x; d = g where x > 0, else slope g
Tensor leaky_relu(const Tensor& x, double slope) {
  static const Kernel k("leaky_relu");
  ScalarParams p{slope, 0};
  return floating_op(
      k, x, Saves::input,
      [slope](const Tensor& g, const Tensor& x_) { return where(gt(x_, 0.0), g, mul(g, slope)); },
      &p);
}

namespace {

// d gelu / dx as a differentiable op: the kernel "gelu_backward" computes it, and its own
// derivative (for double backward) is, with phi the standard normal density,
//   erf form:  d2 = phi(x) (2 - x^2)
//   tanh form: d2 = (1 - t^2) (u' + x (u'' - 2 t u'^2) / 2), t = tanh(u),
//              u = c (x + k x^3), u' = c (1 + 3 k x^2), u'' = 6 c k x, c = sqrt(2/pi), k =
//              0.044715.
Tensor gelu_derivative(const Tensor& x, bool tanh_form) {
  static const Kernel k("gelu_backward");
  ScalarParams p{tanh_form ? 1.0 : 0.0, 0};
  return unary_op(
      k, x, Saves::input,
      [tanh_form](const Tensor& g, const Tensor& x_) {
        Tensor x2 = square(x_);
        if (!tanh_form) {
          Tensor phi =
              mul(exp(mul(x2, -0.5)), 0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
          return mul(g, mul(phi, 2.0 - x2));
        }
        const double c = std::sqrt(2 / std::numbers::pi), kc = 0.044715;
        Tensor t = tanh(mul(add(x_, mul(mul(x2, x_), kc)), c));
        Tensor du = mul(add(mul(x2, 3 * kc), 1.0), c);
        Tensor ddu = mul(x_, 6 * c * kc);
        Tensor inner = add(du, mul(mul(x_, sub(ddu, mul(mul(t, square(du)), 2.0))), 0.5));
        return mul(g, mul(1.0 - square(t), inner));
      },
      &p);
}

}  // namespace

// erf form x Phi(x); tanh form 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
// (torch.nn.functional.gelu); d = g gelu'(x)
Tensor gelu(const Tensor& x, const std::string& approximate) {
  static const Kernel k("gelu");
  TUTOR_CHECK(approximate == "none" || approximate == "tanh",
              "gelu: approximate must be 'none' or 'tanh', got '{}' (input of shape {})",
              approximate, shape_str(x.sizes()));
  bool tanh_form = approximate == "tanh";
  ScalarParams p{tanh_form ? 1.0 : 0.0, 0};
  return floating_op(
      k, x, Saves::input,
      [tanh_form](const Tensor& g, const Tensor& x_) {
        return mul(g, gelu_derivative(x_, tanh_form));
      },
      &p);
}

// x sigmoid(x); d = g s (1 + x (1 - s)), s = sigmoid(x)
Tensor silu(const Tensor& x) {
  static const Kernel k("silu");
  return floating_op(k, x, Saves::input, [](const Tensor& g, const Tensor& x_) {
    Tensor s = sigmoid(x_);
    return mul(g, mul(s, add(mul(x_, 1.0 - s), 1.0)));
  });
}

// log(1 + exp(beta x)) / beta, and x where beta x > threshold (PyTorch);
// d = g sigmoid(beta x), and g where beta x > threshold
Tensor softplus(const Tensor& x, double beta, double threshold) {
  static const Kernel k("softplus");
  ScalarParams p{beta, threshold};
  return floating_op(
      k, x, Saves::input,
      [beta, threshold](const Tensor& g, const Tensor& x_) {
        Tensor bx = mul(x_, beta);
        return where(gt(bx, threshold), g, mul(g, sigmoid(bx)));
      },
      &p);
}

// ---------------------------------------------------------------- selection

// cond ? a : b; d = g where cond (to a), g where !cond (to b), summed over broadcast dims
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  static const Kernel k("where");
  check_bool("where", cond, "condition");
  ops::check_same_dtype("where", {a, b});
  ops::check_same_device("where", {cond, a, b});
  Shape s =
      broadcast_shapes(broadcast_shapes(cond.sizes(), a.sizes(), "where"), b.sizes(), "where");
  Tensor y = empty(s, a.options());
  ops::dispatch(k, a.dtype(), {cond.detach().expand(s), a.detach().expand(s), b.detach().expand(s)},
                {y});
  if (needs_grad({a, b}))
    record("where", {a, b}, {y},
           [sc = autograd::save(cond), sa = a.sizes(), sb = b.sizes()](const FunctionNode& n,
                                                                       const TensorList& g) {
             Tensor cond_ = n.unpack(sc);
             return TensorList{
                 n.needs_input_grad(0) ? sum_to(masked_fill(g[0], logical_not(cond_), 0), sa)
                                       : Tensor(),
                 n.needs_input_grad(1) ? sum_to(masked_fill(g[0], cond_, 0), sb) : Tensor()};
           });
  return y;
}

// mask ? value : x; d = g where !mask
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  static const Kernel k("masked_fill");
  check_bool("masked_fill", mask, "mask");
  ops::check_same_device("masked_fill", {x, mask});
  ScalarParams p{value, 0};
  Tensor y = empty(x.sizes(), x.options());
  ops::dispatch(k, x.dtype(), {x, expand_into("masked_fill", mask, x.sizes(), "mask")}, {y}, &p);
  if (needs_grad({x}))
    record("masked_fill", {x}, {y},
           [sm = autograd::save(mask)](const FunctionNode& n, const TensorList& g) {
             return TensorList{masked_fill(g[0], n.unpack(sm), 0)};
           });
  return y;
}

// ---------------------------------------------------------------- comparisons and logic

namespace {

// Compares with a double: in x's dtype, or in f64 when x is integral and v is not.
Tensor compare(const Kernel& k, const Tensor& x, double v) {
  Tensor lhs = !x.is_floating_point() && v != std::trunc(v) ? x.to(DType::f64) : x;
  return binary(k, lhs, scalar_like(lhs, v), DType::b8);
}

Tensor logical(const Kernel& k, const Tensor& a, const Tensor& b) {
  check_bool(k.name, a, "first operand");
  check_bool(k.name, b, "second operand");
  return binary(k, a, b);
}

}  // namespace

#define TUTOR_COMPARISON(name)                    \
  Tensor name(const Tensor& a, const Tensor& b) { \
    static const Kernel k(#name);                 \
    return binary(k, a, b, DType::b8);            \
  }                                               \
  Tensor name(const Tensor& a, double b) {        \
    static const Kernel k(#name);                 \
    return compare(k, a, b);                      \
  }
TUTOR_COMPARISON(eq)
TUTOR_COMPARISON(ne)
TUTOR_COMPARISON(lt)
TUTOR_COMPARISON(le)
TUTOR_COMPARISON(gt)
TUTOR_COMPARISON(ge)
#undef TUTOR_COMPARISON

Tensor logical_and(const Tensor& a, const Tensor& b) {
  static const Kernel k("logical_and");
  return logical(k, a, b);
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  static const Kernel k("logical_or");
  return logical(k, a, b);
}
Tensor logical_xor(const Tensor& a, const Tensor& b) {
  static const Kernel k("logical_xor");
  return logical(k, a, b);
}
Tensor logical_not(const Tensor& x) {
  static const Kernel k("logical_not");
  check_bool("logical_not", x, "input");
  return unary(k, x);
}

// ---------------------------------------------------------------- in place

namespace {

// x op= other through the out-of-place op's kernel, writing into x itself.
const Tensor& inplace(const Kernel& k, const char* op, const Tensor& x, const Tensor& other) {
  check_inplace(op, x);
  TUTOR_CHECK(!(GradMode::is_enabled() && other.requires_grad()),
              "{}: the operand of shape {} requires grad, and in-place ops are not recorded; use "
              "the out-of-place op, or pass other.detach()",
              op, shape_str(other.sizes()));
  ops::check_same_dtype(op, {x, other});
  ops::check_same_device(op, {x, other});
  Tensor src = expand_into(op, other, x.sizes(), "operand");
  if (src.shares_storage(x)) {  // reading what this op overwrites: work from a copy
    Tensor copy = empty(src.sizes(), src.options());
    copy.copy_raw_(src);
    src = copy;
  }
  Tensor target = x.detach();
  ops::dispatch(k, x.dtype(), {target, src}, {target});
  x.bump_version();
  return x;
}

// `v` as an operand of x's dtype; an integral tensor cannot hold a fractional result in place.
Tensor inplace_scalar(const char* op, const Tensor& x, double v) {
  TUTOR_CHECK(x.is_floating_point() || v == std::trunc(v),
              "{}: cannot apply the non-integral value {} in place to an {} tensor of shape {}", op,
              v, x.dtype(), shape_str(x.sizes()));
  return scalar_like(x, v);
}

}  // namespace

#define TUTOR_INPLACE(name)                                     \
  const Tensor& name##_(const Tensor& x, const Tensor& other) { \
    static const Kernel k(#name);                               \
    return inplace(k, #name "_", x, other);                     \
  }                                                             \
  const Tensor& name##_(const Tensor& x, double other) {        \
    return name##_(x, inplace_scalar(#name "_", x, other));     \
  }
TUTOR_INPLACE(add)
TUTOR_INPLACE(sub)
TUTOR_INPLACE(mul)
TUTOR_INPLACE(div)
#undef TUTOR_INPLACE

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double b) { return add(a, b); }
Tensor operator-(const Tensor& a, double b) { return sub(a, b); }
Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
Tensor operator/(const Tensor& a, double b) { return div(a, b); }
Tensor operator+(double a, const Tensor& b) { return add(scalar_like(b, a), b); }
Tensor operator-(double a, const Tensor& b) { return sub(scalar_like(b, a), b); }
Tensor operator*(double a, const Tensor& b) { return mul(scalar_like(b, a), b); }
Tensor operator/(double a, const Tensor& b) { return div(scalar_like(b, a), b); }
Tensor operator-(const Tensor& x) { return neg(x); }

void ops::add_elementwise_ops(std::vector<OpInfo>& ops) {
  const std::vector<DType> numeric = {DType::f32, DType::f64, DType::i64};
  for (const char* name : {"add", "sub", "mul", "div", "neg", "abs", "sign", "square", "clamp",
                           "minimum", "maximum", "where", "masked_fill"})
    ops.push_back({name, true, {name}, numeric});
  ops.push_back({"relu", true, {"relu", "relu_backward"}, numeric});
  for (const char* name : {"exp", "expm1", "log", "log1p", "sqrt", "rsqrt", "reciprocal", "sin",
                           "cos", "tanh", "sigmoid", "floor", "leaky_relu", "silu", "softplus"})
    ops.push_back({name, true, {name}});
  ops.push_back({"pow", true, {"pow", "pow_scalar"}});
  ops.push_back({"gelu", true, {"gelu", "gelu_backward"}});
  for (const char* name : {"eq", "ne", "lt", "le", "gt", "ge"})
    ops.push_back({name, false, {name}, numeric});
  for (const char* name : {"logical_and", "logical_or", "logical_xor", "logical_not"})
    ops.push_back({name, false, {name}, {DType::b8}});
  for (const char* name : {"add", "sub", "mul", "div"})
    ops.push_back({std::string(name) + "_", false, {name}, numeric});
}

}  // namespace tutor
