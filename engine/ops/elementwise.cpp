#include "engine/ops/elementwise.h"

#include "engine/autograd/node.h"
#include "engine/ops/catalog.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/views.h"
#include "kernels/params.h"

namespace tutor {

using autograd::FunctionNode;
using autograd::needs_grad;
using autograd::record;
using ops::Kernel;

namespace {

// Runs a binary kernel on the broadcast shapes of a and b; the output has a's dtype unless given.
Tensor binary(const Kernel& k, const Tensor& a, const Tensor& b,
              std::optional<DType> out_dtype = {}) {
  ops::check_same_dtype(k.name, {a, b});
  ops::check_same_device(k.name, {a, b});
  auto [ea, eb] = broadcast_pair(a.detach(), b.detach(), k.name);
  Tensor out = empty(ea.sizes(), a.options().dtype(out_dtype.value_or(a.dtype())));
  ops::dispatch(k, a.dtype(), {ea, eb}, {out});
  return out;
}

Tensor unary(const Kernel& k, const Tensor& x, const kernels::ScalarParams* p = nullptr) {
  Tensor out = empty(x.sizes(), x.options());
  ops::dispatch(k, x.dtype(), {x}, {out}, p);
  return out;
}

Tensor scalar_like(const Tensor& t, double v) { return scalar_tensor(v, t.options()); }

}  // namespace

// d(a+b) = g, g
Tensor add(const Tensor& a, const Tensor& b) {
  static const Kernel k("add");
  Tensor y = binary(k, a, b);
  if (needs_grad({a, b}))
    record("add", {a, b}, {y}, [sa = a.sizes(), sb = b.sizes()](const FunctionNode& n, const TensorList& g) {
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
    record("sub", {a, b}, {y}, [sa = a.sizes(), sb = b.sizes()](const FunctionNode& n, const TensorList& g) {
      return TensorList{n.needs_input_grad(0) ? sum_to(g[0], sa) : Tensor(),
                        n.needs_input_grad(1) ? sum_to(neg(g[0]), sb) : Tensor()};
    });
  return y;
}

// d(a*b) = g*b, g*a
Tensor mul(const Tensor& a, const Tensor& b) {
  static const Kernel k("mul");
  Tensor y = binary(k, a, b);
  if (needs_grad({a, b}))
    record("mul", {a, b}, {y}, [sa = autograd::save(a), sb = autograd::save(b)](const FunctionNode& n, const TensorList& g) {
      Tensor a_ = n.unpack(sa), b_ = n.unpack(sb);
      return TensorList{n.needs_input_grad(0) ? sum_to(mul(g[0], b_), a_.sizes()) : Tensor(),
                        n.needs_input_grad(1) ? sum_to(mul(g[0], a_), b_.sizes()) : Tensor()};
    });
  return y;
}

// d(a/b) = g/b, -g*a/b^2
Tensor div(const Tensor& a, const Tensor& b) {
  static const Kernel k("div");
  Tensor y = binary(k, a, b);
  if (needs_grad({a, b}))
    record("div", {a, b}, {y}, [sa = autograd::save(a), sb = autograd::save(b)](const FunctionNode& n, const TensorList& g) {
      Tensor a_ = n.unpack(sa), b_ = n.unpack(sb);
      Tensor ga = div(g[0], b_);
      return TensorList{n.needs_input_grad(0) ? sum_to(ga, a_.sizes()) : Tensor(),
                        n.needs_input_grad(1) ? sum_to(neg(mul(ga, div(a_, b_))), b_.sizes()) : Tensor()};
    });
  return y;
}

Tensor add(const Tensor& a, double b) { return add(a, scalar_like(a, b)); }
Tensor sub(const Tensor& a, double b) { return sub(a, scalar_like(a, b)); }
Tensor mul(const Tensor& a, double b) { return mul(a, scalar_like(a, b)); }
Tensor div(const Tensor& a, double b) { return div(a, scalar_like(a, b)); }

// d(-x) = -g
Tensor neg(const Tensor& x) {
  static const Kernel k("neg");
  Tensor y = unary(k, x);
  if (needs_grad({x}))
    record("neg", {x}, {y}, [](const FunctionNode&, const TensorList& g) { return TensorList{neg(g[0])}; });
  return y;
}

// d exp(x) = g * exp(x)
Tensor exp(const Tensor& x) {
  static const Kernel k("exp");
  ops::check_floating("exp", x);
  Tensor y = unary(k, x);
  if (needs_grad({x}))
    record("exp", {x}, {y}, [sy = autograd::save_output(y)](const FunctionNode& n, const TensorList& g) {
      return TensorList{mul(g[0], n.unpack(sy))};
    });
  return y;
}

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
  for (const char* name : {"add", "sub", "mul", "div", "neg"})
    ops.push_back({name, true, {name}, numeric});
  ops.push_back({"exp", true, {"exp"}});
}

}  // namespace tutor
