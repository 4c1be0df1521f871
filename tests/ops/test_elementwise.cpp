#include <cmath>
#include <functional>
#include <numbers>

#include "support/op_test.h"

using namespace tutor;
using testing::check_close;
using testing::check_error;
using testing::check_gradient;
using testing::rand_leaf;

namespace {

using UnaryFn = std::function<Tensor(const Tensor&)>;
using BinaryFn = std::function<Tensor(const Tensor&, const Tensor&)>;

constexpr DType f32 = DType::f32, f64 = DType::f64, i64 = DType::i64, b8 = DType::b8;

Tensor bools(const NestedList& values) { return tensor(values, b8); }

// A [4, 6] tensor uniform in [lo, hi] and views of it: transposed, strided slice, size-1 dim,
// empty dim and 0-dim.
std::vector<Tensor> layouts(DType dt, double lo, double hi, uint64_t seed = 3) {
  Generator gen(seed);
  Tensor x = add(mul(rand({4, 6}, f64, &gen), hi - lo), lo).to(dt);
  return {x,
          x.t(),
          x.slice(1, 0, 6, 2),
          x.narrow(0, 1, 1),
          x.narrow(0, 0, 0),
          x.select(0, 2).select(0, 3)};
}

// op(x) against `f` applied to each element, over every layout, in f32 and f64.
void check_unary_values(const UnaryFn& op, double (*f)(double), double lo = -3, double hi = 3) {
  for (DType dt : {f32, f64})
    for (const Tensor& x : layouts(dt, lo, hi)) {
      std::vector<double> v = x.to_vector<double>();
      for (double& e : v) e = f(e);
      Tensor y = op(x);
      CHECK(y.dtype() == dt);
      check_close(y, from_vector(v, {int64_t(v.size())}, f64).reshape(x.sizes()), 1e-6,
                  dt == f32 ? 1e-5 : 1e-12);
    }
}

// op(a, b) against `f` applied to each broadcast pair of elements, in f32 and f64: equal shapes,
// a row against a transposed matrix, a column against a strided slice, size-1, empty and 0-dim.
void check_binary_values(const BinaryFn& op, double (*f)(double, double), double lo = -3,
                         double hi = 3) {
  for (DType dt : {f32, f64}) {
    std::vector<Tensor> x = layouts(dt, lo, hi, 3), y = layouts(dt, lo, hi, 4);
    std::pair<Tensor, Tensor> cases[] = {{x[0], y[0]},
                                         {y[1].select(0, 0), x[1]},
                                         {x[2], y[0].narrow(1, 0, 1)},
                                         {x[3], y[0]},
                                         {x[4], y[3]},
                                         {x[5], y[1]}};
    for (auto& [a, b] : cases) {
      auto [ea, eb] = broadcast_pair(a, b, "test");
      std::vector<double> va = ea.to_vector<double>(), vb = eb.to_vector<double>();
      for (size_t i = 0; i < va.size(); ++i) va[i] = f(va[i], vb[i]);
      Tensor r = op(a, b);
      CHECK(r.dtype() == dt);
      check_close(r, from_vector(va, {int64_t(va.size())}, f64).reshape(ea.sizes()), 1e-6,
                  dt == f32 ? 1e-5 : 1e-12);
    }
  }
}

// A leaf uniform in [lo, hi] with every element at least 1e-2 away from each kink.
Tensor leaf(const Shape& shape, uint64_t seed, double lo, double hi,
            std::vector<double> kinks = {}) {
  Tensor t = rand_leaf(shape, seed, lo, hi);
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i)
    for (double k : kinks)
      if (std::fabs(p[i] - k) < 1e-2) p[i] = k + (p[i] < k ? -1e-2 : 1e-2);
  return t;
}

// Gradient of op over a plain, a transposed, a sliced, a size-1 and an empty input.
void check_unary_gradient(const UnaryFn& op, double lo = -2, double hi = 2,
                          std::vector<double> kinks = {}) {
  auto plain = [op](const TensorList& x) { return TensorList{op(x[0])}; };
  check_gradient(plain, {leaf({2, 3}, 1, lo, hi, kinks)});
  check_gradient([op](const TensorList& x) { return TensorList{op(x[0].t())}; },
                 {leaf({3, 2}, 2, lo, hi, kinks)});
  check_gradient([op](const TensorList& x) { return TensorList{op(x[0].slice(1, 0, 4, 2))}; },
                 {leaf({2, 4}, 3, lo, hi, kinks)});
  check_gradient(plain, {leaf({1, 1}, 4, lo, hi, kinks)});
  check_gradient(plain, {leaf({0, 3}, 5, lo, hi, kinks)});
}

// Second derivative: the gradient of d/dx sum(op(x)), built with create_graph.
void check_double_backward(const UnaryFn& op, double lo = -2, double hi = 2) {
  check_gradient(
      [op](const TensorList& x) {
        EnableGradGuard grad_on;
        return autograd::grad({sum(op(x[0]))}, {x[0]}, {}, /*retain_graph=*/true,
                              /*create_graph=*/true);
      },
      {leaf({5}, 6, lo, hi)});
}

// Snaps a leaf's values to the grid k/10 + shift.
Tensor snapped(Tensor t, double shift) {
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = std::round(p[i] * 10) / 10 + shift;
  return t;
}

// Gradient of a broadcasting binary op: same shapes, row against matrix, column against
// transposed matrix, size-1 and empty dims. `tie_free` keeps every a - b at least 0.05 from 0
// (a on the grid k/10 + 0.05, b on k/10), for ops with a kink at a == b.
void check_binary_gradient(const BinaryFn& op, double lo = -2, double hi = 2,
                           bool tie_free = false) {
  auto pair = [=](const Shape& sa, const Shape& sb, uint64_t seed) {
    Tensor a = rand_leaf(sa, seed, lo, hi), b = rand_leaf(sb, seed + 100, lo, hi);
    return tie_free ? TensorList{snapped(a, 0.05), snapped(b, 0)} : TensorList{a, b};
  };
  auto plain = [op](const TensorList& x) { return TensorList{op(x[0], x[1])}; };
  check_gradient(plain, pair({2, 3}, {2, 3}, 1));
  check_gradient(plain, pair({2, 3}, {3}, 2));
  check_gradient([op](const TensorList& x) { return TensorList{op(x[0].t(), x[1])}; },
                 pair({3, 2}, {2, 1}, 3));
  check_gradient(plain, pair({1, 1}, {1}, 4));
  check_gradient(plain, pair({0, 3}, {1, 3}, 5));
}

// Errors shared by floating unary ops: integer input.
void check_floating_errors(const UnaryFn& op, const char* name) {
  check_error([op] { op(zeros({2, 3}, i64)); }, {name, "floating point", "i64", "[2, 3]"});
}

// Errors shared by binary ops: shapes that do not broadcast, mixed dtypes.
void check_binary_errors(const BinaryFn& op, const char* name) {
  check_error([op] { op(zeros({2, 3}), zeros({4})); }, {name, "[2, 3]", "[4]"});
  check_error([op] { op(zeros({2}), zeros({2}, f64)); }, {name, "f32", "f64"});
}

double sigmoid_ref(double x) { return 1 / (1 + std::exp(-x)); }
double gelu_ref(double x) { return 0.5 * x * (1 + std::erf(x / std::numbers::sqrt2)); }
double gelu_tanh_ref(double x) {
  return 0.5 * x * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (x + 0.044715 * x * x * x)));
}

}  // namespace

// ================================================================ arithmetic

OP_TEST("add", "values") {
  check_close(add(tensor({1, 2, 3}), tensor({10, 20, 30})), tensor({11, 22, 33}));
  // broadcasting a column against a row
  check_close(add(tensor({{1}, {2}}), tensor({10, 20, 30})), tensor({{11, 21, 31}, {12, 22, 32}}));
  check_close(add(arange(3), arange(3)), arange(0, 6, 2));
  check_close(add(tensor({{1, 2}, {3, 4}}).t(), 0.5), tensor({{1.5, 3.5}, {2.5, 4.5}}));
  check_binary_values([](const Tensor& a, const Tensor& b) { return add(a, b); },
                      [](double a, double b) { return a + b; });
}

OP_TEST("add", "gradient") {
  check_binary_gradient([](const Tensor& a, const Tensor& b) { return add(a, b); });
}

OP_TEST("add", "errors") {
  check_binary_errors([](const Tensor& a, const Tensor& b) { return add(a, b); }, "add");
}

OP_TEST("sub", "values") {
  check_close(sub(tensor({1, 2, 3}), tensor({10, 20, 30})), tensor({-9, -18, -27}));
  check_close(sub(tensor({{1}, {2}}), tensor({1, 2})), tensor({{0, -1}, {1, 0}}));
  check_close(sub(arange(3), 1.0), tensor({-1, 0, 1}, i64));
  check_close(1.0 - tensor({{1, 2}, {3, 4}}).t(), tensor({{0, -2}, {-1, -3}}));
  check_binary_values([](const Tensor& a, const Tensor& b) { return sub(a, b); },
                      [](double a, double b) { return a - b; });
}

OP_TEST("sub", "gradient") {
  check_binary_gradient([](const Tensor& a, const Tensor& b) { return sub(a, b); });
}

OP_TEST("sub", "errors") {
  check_binary_errors([](const Tensor& a, const Tensor& b) { return sub(a, b); }, "sub");
}

OP_TEST("mul", "values") {
  check_close(mul(tensor({1, 2, 3}), tensor({10, 20, 30})), tensor({10, 40, 90}));
  check_close(mul(tensor({{1}, {2}}), tensor({1, 2})), tensor({{1, 2}, {2, 4}}));
  check_close(mul(arange(4), 3.0), tensor({0, 3, 6, 9}, i64));
  check_close(mul(tensor({{1, 2}, {3, 4}}).t(), tensor({{1, 2}, {3, 4}})),
              tensor({{1, 6}, {6, 16}}));
  check_binary_values([](const Tensor& a, const Tensor& b) { return mul(a, b); },
                      [](double a, double b) { return a * b; });
}

OP_TEST("mul", "gradient") {
  check_binary_gradient([](const Tensor& a, const Tensor& b) { return mul(a, b); });
}

OP_TEST("mul", "errors") {
  check_binary_errors([](const Tensor& a, const Tensor& b) { return mul(a, b); }, "mul");
}

OP_TEST("div", "values") {
  check_close(div(tensor({1, 2, 3}), tensor({2, 4, 8})), tensor({0.5, 0.5, 0.375}));
  check_close(div(tensor({{1}, {2}}), tensor({1, 2})), tensor({{1, 0.5}, {2, 1}}));
  check_close(div(tensor({7, -7}, i64), 2.0), tensor({3, -3}, i64));  // truncates, as C++
  check_close(1.0 / tensor({4, 0}), tensor({0.25, INFINITY}));
  check_binary_values([](const Tensor& a, const Tensor& b) { return div(a, b); },
                      [](double a, double b) { return a / b; }, 0.5, 3);
}

OP_TEST("div", "gradient") {
  check_binary_gradient([](const Tensor& a, const Tensor& b) { return div(a, b); }, 0.5, 2);
}

OP_TEST("div", "errors") {
  check_binary_errors([](const Tensor& a, const Tensor& b) { return div(a, b); }, "div");
  check_error([] { div(tensor({1, 2}, i64), tensor({1, 0}, i64)); }, {"div", "division by zero"});
}

OP_TEST("pow", "values") {
  check_close(pow(tensor({2, 3, 4}), tensor({3, 2, 0.5})), tensor({8, 9, 2}));
  // exponent column broadcast against a base row
  check_close(pow(tensor({1, 2, 3}), tensor({{0}, {2}})), tensor({{1, 1, 1}, {1, 4, 9}}));
  check_close(pow(tensor({{1, 2}, {3, 4}}).t(), 2.0), tensor({{1, 9}, {4, 16}}));
  check_close(pow(tensor({4, 0}), -0.5), tensor({0.5, INFINITY}));
  check_unary_values([](const Tensor& x) { return pow(x, 1.5); },
                     [](double x) { return std::pow(x, 1.5); }, 0, 3);
  check_unary_values([](const Tensor& x) { return pow(x, 3.0); },
                     [](double x) { return x * x * x; });
  check_binary_values([](const Tensor& a, const Tensor& b) { return pow(a, b); },
                      [](double a, double b) { return std::pow(a, b); }, 0.1, 3);
}

OP_TEST("pow", "gradient") {
  check_binary_gradient([](const Tensor& a, const Tensor& b) { return pow(a, b); }, 0.5, 2);
  check_unary_gradient([](const Tensor& x) { return pow(x, 2.5); }, 0.5, 2);
  check_unary_gradient([](const Tensor& x) { return pow(x, -1.0); }, 0.5, 2);
  check_unary_gradient([](const Tensor& x) { return pow(x, 0.0); }, 0.5, 2);
  check_double_backward([](const Tensor& x) { return pow(x, 2.5); }, 0.5, 2);
  // the exponent alone requires grad; the base is a constant
  Tensor base = full({3}, 1.5, f64);
  check_gradient([base](const TensorList& x) { return TensorList{pow(base, x[0])}; },
                 {leaf({3}, 11, 0.5, 2)});
}

OP_TEST("pow", "errors") {
  check_binary_errors([](const Tensor& a, const Tensor& b) { return pow(a, b); }, "pow");
  check_floating_errors([](const Tensor& x) { return pow(x, 2.0); }, "pow");
}

OP_TEST("minimum", "values") {
  check_close(minimum(tensor({1, 5, 3}), tensor({4, 2, 3})), tensor({1, 2, 3}));
  check_close(minimum(tensor({{1}, {5}}), tensor({2, 4})), tensor({{1, 1}, {2, 4}}));
  check_close(minimum(tensor({{1, 2}, {3, 4}}, i64).t(), tensor({2, 2}, i64)),
              tensor({{1, 2}, {2, 2}}, i64));
  CHECK(std::isnan(minimum(tensor({NAN}), tensor({1})).item()));
  CHECK(std::isnan(minimum(tensor({1}), tensor({NAN})).item()));
  check_binary_values([](const Tensor& a, const Tensor& b) { return minimum(a, b); },
                      [](double a, double b) { return std::min(a, b); });
}

OP_TEST("minimum", "gradient") {
  check_binary_gradient([](const Tensor& a, const Tensor& b) { return minimum(a, b); }, -2, 2,
                        /*tie_free=*/true);
  // ties split the gradient in half (PyTorch)
  Tensor a = tensor({1, 2}, f64).requires_grad_(), b = tensor({1, 3}, f64).requires_grad_();
  sum(minimum(a, b)).backward();
  check_close(a.grad(), tensor({0.5, 1}));
  check_close(b.grad(), tensor({0.5, 0}));
}

OP_TEST("minimum", "errors") {
  check_binary_errors([](const Tensor& a, const Tensor& b) { return minimum(a, b); }, "minimum");
}

OP_TEST("maximum", "values") {
  check_close(maximum(tensor({1, 5, 3}), tensor({4, 2, 3})), tensor({4, 5, 3}));
  check_close(maximum(tensor({{1}, {5}}), tensor({2, 4})), tensor({{2, 4}, {5, 5}}));
  check_close(maximum(tensor({{1, 2}, {3, 4}}, i64).t(), tensor({2, 2}, i64)),
              tensor({{2, 3}, {2, 4}}, i64));
  CHECK(std::isnan(maximum(tensor({1}), tensor({NAN})).item()));
  check_binary_values([](const Tensor& a, const Tensor& b) { return maximum(a, b); },
                      [](double a, double b) { return std::max(a, b); });
}

OP_TEST("maximum", "gradient") {
  check_binary_gradient([](const Tensor& a, const Tensor& b) { return maximum(a, b); }, -2, 2,
                        /*tie_free=*/true);
  Tensor a = tensor({1, 2}, f64).requires_grad_(), b = tensor({1, 3}, f64).requires_grad_();
  sum(maximum(a, b)).backward();
  check_close(a.grad(), tensor({0.5, 0}));
  check_close(b.grad(), tensor({0.5, 1}));
}

OP_TEST("maximum", "errors") {
  check_binary_errors([](const Tensor& a, const Tensor& b) { return maximum(a, b); }, "maximum");
}

// ================================================================ unary arithmetic

OP_TEST("neg", "values") {
  check_close(neg(tensor({1, -2, 0})), tensor({-1, 2, 0}));
  check_close(-arange(3), tensor({0, -1, -2}, i64));
  check_unary_values([](const Tensor& x) { return neg(x); }, [](double x) { return -x; });
}

OP_TEST("neg", "gradient") {
  check_unary_gradient([](const Tensor& x) { return neg(x); });
}

OP_TEST("neg", "errors") {
  check_error([] { neg(tensor({true, false}, b8)); }, {"neg", "bool"});
}

OP_TEST("abs", "values") {
  check_close(abs(tensor({-1.5, 0, 2})), tensor({1.5, 0, 2}));
  check_close(abs(tensor({-3, 4}, i64)), tensor({3, 4}, i64));
  check_unary_values([](const Tensor& x) { return abs(x); }, [](double x) { return std::fabs(x); });
}

OP_TEST("abs", "gradient") {
  check_unary_gradient([](const Tensor& x) { return abs(x); }, -2, 2, {0});
}

OP_TEST("abs", "errors") {
  check_error([] { abs(tensor({true}, b8)); }, {"abs", "bool"});
}

OP_TEST("sign", "values") {
  check_close(sign(tensor({-1.5, 0, 2})), tensor({-1, 0, 1}));
  check_close(sign(tensor({-3, 0, 4}, i64)), tensor({-1, 0, 1}, i64));
  check_unary_values([](const Tensor& x) { return sign(x); },
                     [](double x) { return double((0 < x) - (x < 0)); });
}

OP_TEST("sign", "gradient") {
  check_unary_gradient([](const Tensor& x) { return sign(x); }, -2, 2, {0});
}

OP_TEST("sign", "errors") {
  check_error([] { sign(tensor({true}, b8)); }, {"sign", "bool"});
}

OP_TEST("square", "values") {
  check_close(square(tensor({-1.5, 0, 2})), tensor({2.25, 0, 4}));
  check_close(square(tensor({-3, 4}, i64)), tensor({9, 16}, i64));
  check_unary_values([](const Tensor& x) { return square(x); }, [](double x) { return x * x; });
}

OP_TEST("square", "gradient") {
  check_unary_gradient([](const Tensor& x) { return square(x); });
  check_double_backward([](const Tensor& x) { return square(x); });
}

OP_TEST("square", "errors") {
  check_error([] { square(tensor({true}, b8)); }, {"square", "bool"});
}

OP_TEST("reciprocal", "values") {
  check_close(reciprocal(tensor({-2, 0.5, 0})), tensor({-0.5, 2, INFINITY}));
  check_unary_values([](const Tensor& x) { return reciprocal(x); }, [](double x) { return 1 / x; },
                     0.5, 2);
}

OP_TEST("reciprocal", "gradient") {
  check_unary_gradient([](const Tensor& x) { return reciprocal(x); }, 0.5, 2);
  check_double_backward([](const Tensor& x) { return reciprocal(x); }, 0.5, 2);
}

OP_TEST("reciprocal", "errors") {
  check_floating_errors([](const Tensor& x) { return reciprocal(x); }, "reciprocal");
}

OP_TEST("floor", "values") {
  check_close(floor(tensor({-1.5, 0, 2.7, -2})), tensor({-2, 0, 2, -2}));
  check_unary_values([](const Tensor& x) { return floor(x); },
                     [](double x) { return std::floor(x); });
}

OP_TEST("floor", "gradient") {
  check_unary_gradient([](const Tensor& x) { return floor(x); }, -2, 2, {-2, -1, 0, 1, 2});
}

OP_TEST("floor", "errors") {
  check_floating_errors([](const Tensor& x) { return floor(x); }, "floor");
}

OP_TEST("clamp", "values") {
  check_close(clamp(tensor({-2, 0.5, 3}), -1.0, 1.0), tensor({-1, 0.5, 1}));
  check_close(clamp(tensor({-2, 0.5, 3}), 0.0), tensor({0, 0.5, 3}));
  check_close(clamp(tensor({-2, 0.5, 3}), std::nullopt, 0.0), tensor({-2, 0, 0}));
  check_close(clamp(tensor({-2, 0.5, 3}), 2.0, 1.0), tensor({1, 1, 1}));  // min > max: max
  check_close(clamp(tensor({-5, 0, 5}, i64), -1.0, 2.0), tensor({-1, 0, 2}, i64));
  check_unary_values([](const Tensor& x) { return clamp(x, -1.0, 0.5); },
                     [](double x) { return std::min(std::max(x, -1.0), 0.5); });
}

OP_TEST("clamp", "gradient") {
  check_unary_gradient([](const Tensor& x) { return clamp(x, -1.0, 0.5); }, -2, 2, {-1, 0.5});
  check_unary_gradient([](const Tensor& x) { return clamp(x, 0.0); }, -2, 2, {0});
  check_unary_gradient([](const Tensor& x) { return clamp(x, std::nullopt, 0.0); }, -2, 2, {0});
  // at a bound the gradient passes (PyTorch)
  Tensor x = tensor({-1, 1}, f64).requires_grad_();
  sum(clamp(x, -1.0, 1.0)).backward();
  check_close(x.grad(), tensor({1, 1}));
}

OP_TEST("clamp", "errors") {
  check_error(
      [] {
        clamp(zeros({2, 3}), std::nullopt, std::nullopt);
      },
      {"clamp", "min", "max", "[2, 3]"});
}

// ================================================================ transcendental

OP_TEST("exp", "values") {
  check_close(exp(tensor({0, 1, -1})), tensor({1, std::numbers::e, 1 / std::numbers::e}));
  check_unary_values([](const Tensor& x) { return exp(x); }, [](double x) { return std::exp(x); });
}

OP_TEST("exp", "gradient") {
  check_unary_gradient([](const Tensor& x) { return exp(x); });
  check_double_backward([](const Tensor& x) { return exp(x); });
}

OP_TEST("exp", "errors") {
  check_floating_errors([](const Tensor& x) { return exp(x); }, "exp");
}

OP_TEST("expm1", "values") {
  check_close(expm1(tensor({0, 1, 1e-10}, f64)), tensor({0, std::numbers::e - 1, 1e-10}, f64), 0,
              1e-9);  // exp(x) - 1 would be 1e-7 off
  check_unary_values([](const Tensor& x) { return expm1(x); },
                     [](double x) { return std::expm1(x); });
}

OP_TEST("expm1", "gradient") {
  check_unary_gradient([](const Tensor& x) { return expm1(x); });
  check_double_backward([](const Tensor& x) { return expm1(x); });
}

OP_TEST("expm1", "errors") {
  check_floating_errors([](const Tensor& x) { return expm1(x); }, "expm1");
}

OP_TEST("log", "values") {
  check_close(log(tensor({1, std::numbers::e, 0})), tensor({0, 1, -INFINITY}));
  CHECK(std::isnan(log(tensor({-1})).item()));
  check_unary_values([](const Tensor& x) { return log(x); }, [](double x) { return std::log(x); },
                     0.1, 3);
}

OP_TEST("log", "gradient") {
  check_unary_gradient([](const Tensor& x) { return log(x); }, 0.5, 2);
  check_double_backward([](const Tensor& x) { return log(x); }, 0.5, 2);
}

OP_TEST("log", "errors") {
  check_floating_errors([](const Tensor& x) { return log(x); }, "log");
}

OP_TEST("log1p", "values") {
  check_close(log1p(tensor({0, std::numbers::e - 1, 1e-10}, f64)), tensor({0, 1, 1e-10}, f64), 0,
              1e-9);  // log(1 + x) would be 1e-7 off
  check_unary_values([](const Tensor& x) { return log1p(x); },
                     [](double x) { return std::log1p(x); }, -0.9, 3);
}

OP_TEST("log1p", "gradient") {
  check_unary_gradient([](const Tensor& x) { return log1p(x); }, 0.5, 2);
  check_double_backward([](const Tensor& x) { return log1p(x); }, 0.5, 2);
}

OP_TEST("log1p", "errors") {
  check_floating_errors([](const Tensor& x) { return log1p(x); }, "log1p");
}

OP_TEST("sqrt", "values") {
  check_close(sqrt(tensor({0, 4, 2.25})), tensor({0, 2, 1.5}));
  check_unary_values([](const Tensor& x) { return sqrt(x); }, [](double x) { return std::sqrt(x); },
                     0, 3);
}

OP_TEST("sqrt", "gradient") {
  check_unary_gradient([](const Tensor& x) { return sqrt(x); }, 0.5, 2);
  check_double_backward([](const Tensor& x) { return sqrt(x); }, 0.5, 2);
}

OP_TEST("sqrt", "errors") {
  check_floating_errors([](const Tensor& x) { return sqrt(x); }, "sqrt");
}

OP_TEST("rsqrt", "values") {
  check_close(rsqrt(tensor({0.25, 4, 0})), tensor({2, 0.5, INFINITY}));
  check_unary_values([](const Tensor& x) { return rsqrt(x); },
                     [](double x) { return 1 / std::sqrt(x); }, 0.5, 3);
}

OP_TEST("rsqrt", "gradient") {
  check_unary_gradient([](const Tensor& x) { return rsqrt(x); }, 0.5, 2);
  check_double_backward([](const Tensor& x) { return rsqrt(x); }, 0.5, 2);
}

OP_TEST("rsqrt", "errors") {
  check_floating_errors([](const Tensor& x) { return rsqrt(x); }, "rsqrt");
}

OP_TEST("sin", "values") {
  check_close(sin(tensor({0, std::numbers::pi / 2, std::numbers::pi / 6})), tensor({0, 1, 0.5}));
  check_unary_values([](const Tensor& x) { return sin(x); }, [](double x) { return std::sin(x); });
}

OP_TEST("sin", "gradient") {
  check_unary_gradient([](const Tensor& x) { return sin(x); });
  check_double_backward([](const Tensor& x) { return sin(x); });
}

OP_TEST("sin", "errors") {
  check_floating_errors([](const Tensor& x) { return sin(x); }, "sin");
}

OP_TEST("cos", "values") {
  check_close(cos(tensor({0, std::numbers::pi, std::numbers::pi / 3})), tensor({1, -1, 0.5}));
  check_unary_values([](const Tensor& x) { return cos(x); }, [](double x) { return std::cos(x); });
}

OP_TEST("cos", "gradient") {
  check_unary_gradient([](const Tensor& x) { return cos(x); });
  check_double_backward([](const Tensor& x) { return cos(x); });
}

OP_TEST("cos", "errors") {
  check_floating_errors([](const Tensor& x) { return cos(x); }, "cos");
}

OP_TEST("tanh", "values") {
  // tanh(log 2) = (2 - 1/2) / (2 + 1/2)
  check_close(tanh(tensor({0, std::log(2.0), 100, -100})), tensor({0, 0.6, 1, -1}));
  check_unary_values([](const Tensor& x) { return tanh(x); },
                     [](double x) { return std::tanh(x); });
}

OP_TEST("tanh", "gradient") {
  check_unary_gradient([](const Tensor& x) { return tanh(x); });
  check_double_backward([](const Tensor& x) { return tanh(x); });
}

OP_TEST("tanh", "errors") {
  check_floating_errors([](const Tensor& x) { return tanh(x); }, "tanh");
}

OP_TEST("sigmoid", "values") {
  // sigmoid(log 3) = 3/4; no overflow far out
  check_close(sigmoid(tensor({0, std::log(3.0), 1000, -1000})), tensor({0.5, 0.75, 1, 0}));
  check_unary_values([](const Tensor& x) { return sigmoid(x); }, sigmoid_ref);
}

OP_TEST("sigmoid", "gradient") {
  check_unary_gradient([](const Tensor& x) { return sigmoid(x); });
  check_double_backward([](const Tensor& x) { return sigmoid(x); });
}

OP_TEST("sigmoid", "errors") {
  check_floating_errors([](const Tensor& x) { return sigmoid(x); }, "sigmoid");
}

// ================================================================ activations

OP_TEST("relu", "values") {
  check_close(relu(tensor({-1, 0, 2})), tensor({0, 0, 2}));
  check_close(relu(tensor({-3, 4}, i64)), tensor({0, 4}, i64));
  CHECK(std::isnan(relu(tensor({NAN})).item()));
  check_unary_values([](const Tensor& x) { return relu(x); },
                     [](double x) { return std::max(x, 0.0); });
}

OP_TEST("relu", "gradient") {
  check_unary_gradient([](const Tensor& x) { return relu(x); }, -2, 2, {0});
  // Double backward through the relu_backward kernel: gx = w [x > 0] is linear in w, so
  // d sum(gx v) / dw = v [x > 0].
  Tensor x = tensor({-1.5, 0.0, 2.0, 0.5}).to(DType::f64);
  Tensor w = tensor({1.0, 2.0, 3.0, 4.0}).to(DType::f64).requires_grad_();
  Tensor v = tensor({0.5, -1.0, 2.0, 3.0}).to(DType::f64);
  Tensor xl = x.clone().requires_grad_();
  Tensor gx = autograd::grad({sum(mul(relu(xl), w))}, {xl}, {}, true, true)[0];
  check_close(gx, tensor({0.0, 0.0, 3.0, 4.0}).to(DType::f64));
  Tensor gw = autograd::grad({sum(mul(gx, v))}, {w})[0];
  check_close(gw, tensor({0.0, 0.0, 2.0, 3.0}).to(DType::f64));
}

OP_TEST("relu", "errors") {
  check_error([] { relu(tensor({true}, b8)); }, {"relu", "bool"});
}

OP_TEST("leaky_relu", "values") {
  check_close(leaky_relu(tensor({-100, 0, 2})), tensor({-1, 0, 2}));
  check_close(leaky_relu(tensor({-2, 2}), 0.5), tensor({-1, 2}));
  check_unary_values([](const Tensor& x) { return leaky_relu(x, 0.2); },
                     [](double x) { return x > 0 ? x : 0.2 * x; });
}

OP_TEST("leaky_relu", "gradient") {
  check_unary_gradient([](const Tensor& x) { return leaky_relu(x); }, -2, 2, {0});
  check_unary_gradient([](const Tensor& x) { return leaky_relu(x, 0.3); }, -2, 2, {0});
}

OP_TEST("leaky_relu", "errors") {
  check_floating_errors([](const Tensor& x) { return leaky_relu(x); }, "leaky_relu");
}

OP_TEST("gelu", "values") {
  // gelu(1) = Phi(1); tanh form 0.5 (1 + tanh(sqrt(2/pi) 1.044715)), both evaluated in Python
  check_close(gelu(tensor({0, 1}, f64)), tensor({0, 0.8413447460685429}, f64), 1e-12, 1e-12);
  check_close(gelu(tensor({0, 1}, f64), "tanh"), tensor({0, 0.8411919906082768}, f64), 1e-12,
              1e-12);
  check_unary_values([](const Tensor& x) { return gelu(x); }, gelu_ref);
  check_unary_values([](const Tensor& x) { return gelu(x, "tanh"); }, gelu_tanh_ref);
}

OP_TEST("gelu", "gradient") {
  for (const char* approximate : {"none", "tanh"}) {
    INFO("approximate ", approximate);
    check_unary_gradient([approximate](const Tensor& x) { return gelu(x, approximate); }, -3, 3);
    check_double_backward([approximate](const Tensor& x) { return gelu(x, approximate); }, -3, 3);
  }
}

OP_TEST("gelu", "errors") {
  check_floating_errors([](const Tensor& x) { return gelu(x); }, "gelu");
  check_error([] { gelu(zeros({2}), "erf"); }, {"gelu", "'erf'", "[2]"});
}

OP_TEST("silu", "values") {
  check_close(silu(tensor({0, std::log(3.0)})), tensor({0, 0.75 * std::log(3.0)}));
  check_unary_values([](const Tensor& x) { return silu(x); },
                     [](double x) { return x * sigmoid_ref(x); });
}

OP_TEST("silu", "gradient") {
  check_unary_gradient([](const Tensor& x) { return silu(x); }, -3, 3);
  check_double_backward([](const Tensor& x) { return silu(x); }, -3, 3);
}

OP_TEST("silu", "errors") {
  check_floating_errors([](const Tensor& x) { return silu(x); }, "silu");
}

OP_TEST("softplus", "values") {
  // log(1 + e^0) = log 2; linear above the threshold; beta scales inside and out
  check_close(softplus(tensor({0, 30, -30})),
              tensor({std::log(2.0), 30, std::log1p(std::exp(-30.0))}));
  check_close(softplus(tensor({0, 11}), 2, 20), tensor({std::log(2.0) / 2, 11}));
  check_unary_values([](const Tensor& x) { return softplus(x); },
                     [](double x) { return std::log1p(std::exp(x)); });
}

OP_TEST("softplus", "gradient") {
  check_unary_gradient([](const Tensor& x) { return softplus(x); }, -3, 3);
  check_unary_gradient([](const Tensor& x) { return softplus(x, 2, 1); }, -2, 2,
                       {0.5});  // crosses the threshold
  check_double_backward([](const Tensor& x) { return softplus(x, 1.5); }, -3, 3);
}

OP_TEST("softplus", "errors") {
  check_floating_errors([](const Tensor& x) { return softplus(x); }, "softplus");
}

// ================================================================ selection

OP_TEST("where", "values") {
  check_close(where(bools({1, 0, 1}), tensor({1, 2, 3}), tensor({10, 20, 30})), tensor({1, 20, 3}));
  // cond [2, 1], a [3], b scalar: all three broadcast to [2, 3]
  check_close(where(bools({{1}, {0}}), tensor({1, 2, 3}), scalar_tensor(-1)),
              tensor({{1, 2, 3}, {-1, -1, -1}}));
  check_close(
      where(bools({{1, 0}, {0, 1}}).t(), tensor({{1, 2}, {3, 4}}, i64).t(), tensor({0}, i64)),
      tensor({{1, 0}, {0, 4}}, i64));
  CHECK(where(bools({1}), zeros({0, 2}), zeros({2})).sizes() == Shape{0, 2});
}

OP_TEST("where", "gradient") {
  Tensor cond = bools({{1, 0, 1}, {0, 0, 1}});
  check_gradient([cond](const TensorList& x) { return TensorList{where(cond, x[0], x[1])}; },
                 {rand_leaf({2, 3}, 1), rand_leaf({2, 3}, 2)});
  check_gradient([cond](const TensorList& x) { return TensorList{where(cond, x[0], x[1])}; },
                 {rand_leaf({3}, 1), rand_leaf({2, 1}, 2)});
  check_gradient(
      [cond](const TensorList& x) { return TensorList{where(cond.t(), x[0].t(), x[1])}; },
      {rand_leaf({2, 3}, 1), rand_leaf({1}, 2)});
  check_gradient(
      [](const TensorList& x) {
        return TensorList{where(bools({1, 0}), x[0], x[1])};
      },
      {rand_leaf({0, 2}, 1), rand_leaf({1, 1}, 2)});
}

OP_TEST("where", "errors") {
  check_error([] { where(zeros({2}), zeros({2}), zeros({2})); },
              {"where", "condition", "bool", "f32", "[2]"});
  check_error([] { where(bools({1, 0}), zeros({3}), zeros({3})); }, {"where", "[2]", "[3]"});
  check_error([] { where(bools({1, 0}), zeros({2}), zeros({2}, f64)); }, {"where", "f32", "f64"});
}

OP_TEST("masked_fill", "values") {
  check_close(masked_fill(tensor({1, 2, 3}), bools({0, 1, 0}), -5), tensor({1, -5, 3}));
  // a row mask broadcast over a transposed input
  check_close(masked_fill(tensor({{1, 2}, {3, 4}}).t(), bools({1, 0}), 0),
              tensor({{0, 3}, {0, 4}}));
  check_close(masked_fill(tensor({1, 2}, i64), bools({1}), 7), tensor({7, 7}, i64));
  CHECK(masked_fill(zeros({0, 2}), bools({1, 0}), 1).sizes() == Shape{0, 2});
}

OP_TEST("masked_fill", "gradient") {
  Tensor mask = bools({{1, 0, 1}, {0, 0, 1}});
  check_gradient([mask](const TensorList& x) { return TensorList{masked_fill(x[0], mask, 2)}; },
                 {rand_leaf({2, 3}, 1)});
  check_gradient(
      [](const TensorList& x) {
        return TensorList{masked_fill(x[0].t(), bools({0, 1}), 2)};
      },
      {rand_leaf({2, 3}, 1)});
  check_gradient([](const TensorList& x) { return TensorList{masked_fill(x[0], bools({1}), 2)}; },
                 {rand_leaf({1, 1}, 1)});
  check_gradient(
      [](const TensorList& x) {
        return TensorList{masked_fill(x[0], bools({1, 0}), 2)};
      },
      {rand_leaf({0, 2}, 1)});
}

OP_TEST("masked_fill", "errors") {
  check_error(
      [] {
        masked_fill(zeros({2, 3}), zeros({3}), 0);
      },
      {"masked_fill", "mask", "bool", "[3]"});
  // the mask may broadcast to x's shape, not beyond it
  check_error(
      [] {
        masked_fill(zeros({3}), bools({{1}, {0}}), 0);
      },
      {"masked_fill", "[2, 1]", "[3]"});
}

// ================================================================ comparisons and logic

namespace {

struct Comparison {
  const char* name;
  Tensor (*tensors)(const Tensor&, const Tensor&);
  Tensor (*scalar)(const Tensor&, double);
  bool (*ref)(double, double);
};

const Comparison kComparisons[] = {
    {"eq", eq, eq, [](double a, double b) { return a == b; }},
    {"ne", ne, ne, [](double a, double b) { return a != b; }},
    {"lt", lt, lt, [](double a, double b) { return a < b; }},
    {"le", le, le, [](double a, double b) { return a <= b; }},
    {"gt", gt, gt, [](double a, double b) { return a > b; }},
    {"ge", ge, ge, [](double a, double b) { return a >= b; }},
};

const Comparison& comparison(const char* name) {
  for (const Comparison& c : kComparisons)
    if (std::string(c.name) == name) return c;
  throw std::logic_error(name);
}

// The comparison against its reference over broadcasting, views, ties, every numeric dtype, and a
// double operand (non-integral against i64 compares exactly).
void check_comparison_values(const char* name) {
  const Comparison& c = comparison(name);
  for (DType dt : {f32, f64, i64}) {
    Tensor a = tensor({{1, 2, 3}, {4, 5, 6}}, dt), b = tensor({{3}, {5}}, dt);  // ties at 3 and 5
    for (auto [x, y] : {std::pair{a, b}, std::pair{a.t(), tensor({2, 5}, dt)},
                        std::pair{a.slice(1, 0, 3, 2), b}}) {
      Tensor r = c.tensors(x, y);
      CHECK(r.dtype() == b8);
      auto [ex, ey] = broadcast_pair(x, y, name);
      std::vector<double> vx = ex.to_vector<double>(), vy = ey.to_vector<double>();
      std::vector<double> want;
      for (size_t i = 0; i < vx.size(); ++i) want.push_back(c.ref(vx[i], vy[i]));
      check_close(r, from_vector(want, ex.sizes(), f64));
    }
    std::vector<double> va = a.to_vector<double>();
    for (double s : {3.0, 2.5}) {
      std::vector<double> want;
      for (double v : va) want.push_back(c.ref(v, s));
      check_close(c.scalar(a, s), from_vector(want, a.sizes(), f64));
    }
  }
  CHECK(c.tensors(zeros({0, 3}), zeros({3})).sizes() == Shape{0, 3});
}

void check_comparison_errors(const char* name) {
  const Comparison& c = comparison(name);
  check_error([&c] { c.tensors(zeros({2, 3}), zeros({4})); }, {name, "[2, 3]", "[4]"});
  check_error([&c] { c.tensors(zeros({2}), zeros({2}, i64)); }, {name, "f32", "i64"});
}

}  // namespace

OP_TEST("eq", "values") { check_comparison_values("eq"); }
OP_TEST("eq", "errors") { check_comparison_errors("eq"); }
OP_TEST("ne", "values") { check_comparison_values("ne"); }
OP_TEST("ne", "errors") { check_comparison_errors("ne"); }
OP_TEST("lt", "values") { check_comparison_values("lt"); }
OP_TEST("lt", "errors") { check_comparison_errors("lt"); }
OP_TEST("le", "values") { check_comparison_values("le"); }
OP_TEST("le", "errors") { check_comparison_errors("le"); }
OP_TEST("gt", "values") { check_comparison_values("gt"); }
OP_TEST("gt", "errors") { check_comparison_errors("gt"); }
OP_TEST("ge", "values") { check_comparison_values("ge"); }
OP_TEST("ge", "errors") { check_comparison_errors("ge"); }

namespace {

// Truth table of a logical op on a [2, 2] grid of operands, plus broadcasting and a view.
void check_logical_values(const BinaryFn& op, const NestedList& table) {
  Tensor a = bools({{0}, {1}}), b = bools({0, 1});  // a[i] op b[j] for i, j in {0, 1}
  check_close(op(a, b), bools(table));
  check_close(op(a.expand({2, 2}).t(), b.unsqueeze(1)), bools(table).t());
  CHECK(op(bools({{1}}).slice(0, 0, 0), b).sizes() == Shape{0, 2});
}

void check_logical_errors(const BinaryFn& op, const char* name) {
  check_error([op] { op(zeros({2}), bools({1, 0})); }, {name, "bool", "f32", "[2]"});
  check_error([op] { op(bools({1, 0}), bools({1, 0, 1})); }, {name, "[2]", "[3]"});
}

}  // namespace

OP_TEST("logical_and", "values") { check_logical_values(logical_and, {{0, 0}, {0, 1}}); }
OP_TEST("logical_and", "errors") { check_logical_errors(logical_and, "logical_and"); }
OP_TEST("logical_or", "values") { check_logical_values(logical_or, {{0, 1}, {1, 1}}); }
OP_TEST("logical_or", "errors") { check_logical_errors(logical_or, "logical_or"); }
OP_TEST("logical_xor", "values") { check_logical_values(logical_xor, {{0, 1}, {1, 0}}); }
OP_TEST("logical_xor", "errors") { check_logical_errors(logical_xor, "logical_xor"); }

OP_TEST("logical_not", "values") {
  check_close(logical_not(bools({1, 0})), bools({0, 1}));
  check_close(logical_not(bools({{1, 0}, {1, 1}}).t()), bools({{0, 0}, {1, 0}}));
  CHECK(logical_not(bools({{1}}).slice(0, 0, 0)).sizes() == Shape{0, 1});
}

OP_TEST("logical_not", "errors") {
  check_error([] { logical_not(zeros({2})); }, {"logical_not", "bool", "f32", "[2]"});
}

// ================================================================ in place

namespace {

using InplaceFn = const Tensor& (*)(const Tensor&, const Tensor&);
using InplaceScalarFn = const Tensor& (*)(const Tensor&, double);

// x op= other equals the out-of-place op, bumps the version, returns x, and writes through views.
void check_inplace_values(InplaceFn op_, InplaceScalarFn op_scalar_, const BinaryFn& op) {
  for (DType dt : {f32, f64, i64}) {
    Tensor x = tensor({{2, 4, 6}, {8, 10, 12}}, dt), other = tensor({{1}, {2}}, dt);
    Tensor want = op(x, other);
    uint64_t version = x.version();
    CHECK(op_(x, other).is_same(x));
    check_close(x, want);
    CHECK(x.version() > version);
    Tensor y = tensor({{2, 4}, {6, 8}}, dt);  // through a transposed view, with a scalar
    Tensor want_t = op(y.t(), full({}, 2, dt));
    op_scalar_(y.t(), 2);
    check_close(y.t(), want_t);
    op_(x.narrow(0, 0, 0), other.narrow(0, 0, 0));  // empty: nothing to do
  }
  // the operand overlapping the target is read before it is overwritten
  Tensor z = tensor({{1, 2}, {3, 4}});
  Tensor want = op(z, z.t());
  op_(z, z.t());
  check_close(z, want);
}

void check_inplace_errors(InplaceFn op_, InplaceScalarFn op_scalar_, const char* name) {
  check_error([op_] { op_(zeros({3}), zeros({2, 3})); }, {name, "[2, 3]", "[3]"});
  check_error([op_] { op_(zeros({3}), zeros({3}, f64)); }, {name, "f32", "f64"});
  check_error([op_] { op_(zeros({3}, f64).requires_grad_(), zeros({3}, f64)); },
              {name, "requires grad", "[3]"});
  check_error([op_scalar_] { op_scalar_(zeros({3}, i64), 0.5); }, {name, "0.5", "i64", "[3]"});
  check_error([op_] { op_(zeros({3}, f64), zeros({3}, f64).requires_grad_()); },
              {name, "requires grad", "[3]"});
}

}  // namespace

OP_TEST("add_", "values") {
  check_inplace_values(add_, add_, [](const Tensor& a, const Tensor& b) { return add(a, b); });
}
OP_TEST("add_", "errors") { check_inplace_errors(add_, add_, "add_"); }
OP_TEST("sub_", "values") {
  check_inplace_values(sub_, sub_, [](const Tensor& a, const Tensor& b) { return sub(a, b); });
}
OP_TEST("sub_", "errors") { check_inplace_errors(sub_, sub_, "sub_"); }
OP_TEST("mul_", "values") {
  check_inplace_values(mul_, mul_, [](const Tensor& a, const Tensor& b) { return mul(a, b); });
}
OP_TEST("mul_", "errors") { check_inplace_errors(mul_, mul_, "mul_"); }
OP_TEST("div_", "values") {
  check_inplace_values(div_, div_, [](const Tensor& a, const Tensor& b) { return div(a, b); });
}
OP_TEST("div_", "errors") { check_inplace_errors(div_, div_, "div_"); }

TEST_CASE("mul_: changing a tensor saved for backward makes backward throw") {
  Tensor x = rand_leaf({2, 3}, 1), w = tensor({1, 2, 3}, f64);
  Tensor y = mul(x, w);
  mul_(w, 2);
  check_error([&y] { sum(y).backward(); }, {"mul", "modified in place", "[3]"});
  // under no_grad a leaf that requires grad may be changed (an optimizer step)
  {
    NoGradGuard no_grad;
    sub_(x, 0.5);
  }
}
