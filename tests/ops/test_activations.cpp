#include <cmath>
#include <limits>

#include "support/op_test.h"

using namespace tutor;
using testing::check_close;
using testing::check_error;
using testing::check_gradient;
using testing::rand_leaf;

namespace {

const double kInf = std::numeric_limits<double>::infinity();

Tensor randf(const Shape& shape, uint64_t seed, double scale = 1) {
  Generator gen(seed);
  return mul(randn(shape, DType::f64, &gen), scale);
}

// log applied to every value on the host.
Tensor host_log(const Tensor& t) {
  std::vector<double> v = t.to_vector<double>();
  for (double& x : v) x = std::log(x);
  return from_vector(v, t.sizes(), DType::f64);
}

// Every case of a softmax-like op along one dim: shapes with size-1 and empty dims, negative dims.
struct DimCase {
  Shape shape;
  int64_t dim;
};
const std::vector<DimCase> kCases = {{{5}, 0},       {{3, 4}, 1},    {{3, 4}, 0},   {{2, 3, 4}, -2},
                                     {{2, 1, 3}, 1}, {{2, 0, 3}, 2}, {{2, 3, 0}, 1}};

// First derivatives of f(x) contracted with g, as a function of (x, g): gradchecking it checks the
// second derivatives of f (gradcheck's finite differences run with grad mode off, so turn it on).
TensorList grad_of(Tensor (*f)(const Tensor&, int64_t), int64_t dim, const TensorList& t) {
  EnableGradGuard grad_on;
  Tensor y = f(t[0], dim);
  return autograd::grad({y}, {t[0]}, {t[1]}, true, true);
}

}  // namespace

OP_TEST("softmax", "values") {
  double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0), s = e1 + e2 + e3;
  check_close(softmax(tensor({1, 2, 3}), 0), tensor({e1 / s, e2 / s, e3 / s}));
  check_close(softmax(tensor({{1, 1}, {0, 0}}), 0),
              tensor({{e1 / (e1 + 1), e1 / (e1 + 1)}, {1 / (e1 + 1), 1 / (e1 + 1)}}));
  // rows sum to one along every dim, also for non-contiguous inputs
  Tensor x = randf({3, 4, 5}, 1, 3);
  for (int64_t d : {0, 1, 2, -1, -3}) {
    INFO("dim ", d);
    Tensor y = softmax(x, d);
    Shape ones_shape = x.sizes();
    ones_shape.erase(ones_shape.begin() + (d < 0 ? d + 3 : d));
    check_close(sum(y, {d}), ones(ones_shape, DType::f64), 1e-12);
    check_close(softmax(x.permute({2, 0, 1}), d), softmax(x.permute({2, 0, 1}).contiguous(), d),
                1e-15);
  }
  check_close(softmax(x.slice(1, 0, 4, 2), 1), softmax(x.slice(1, 0, 4, 2).contiguous(), 1), 1e-15);
  // large inputs stay finite (the max shift); shifting all inputs changes nothing
  check_close(softmax(tensor({1000, 1001, 1000}), 0),
              tensor({1 / (2 + e1), e1 / (2 + e1), 1 / (2 + e1)}));
  check_close(softmax(tensor({-1000.f, 1000.f}), 0), tensor({0, 1}));
  check_close(softmax(add(x, 500.0), 2), softmax(x, 2), 1e-12);
  // size-1 dim, empty dims, 0-dim
  check_close(softmax(tensor({{3}, {-2}}), 1), tensor({{1}, {1}}));
  CHECK(softmax(zeros({2, 0}), 1).sizes() == Shape{2, 0});
  CHECK(softmax(zeros({0, 3}), 1).sizes() == Shape{0, 3});
  check_close(softmax(tensor(7.0), 0), tensor(1.0));
  // a row of all -inf has no softmax: NaN, as torch.softmax; -inf entries get 0
  check_close(softmax(tensor({-kInf, -kInf}), 0), tensor({NAN, NAN}));
  check_close(softmax(tensor({-kInf, 0.0}), 0), tensor({0, 1}));
}

OP_TEST("softmax", "gradient") {
  uint64_t seed = 1;
  for (const DimCase& c : kCases) {
    INFO("shape ", shape_str(c.shape), " dim ", c.dim);
    check_gradient([d = c.dim](const TensorList& t) { return TensorList{softmax(t[0], d)}; },
                   {rand_leaf(c.shape, seed++)});
  }
  check_gradient([](const TensorList& t) { return TensorList{softmax(t[0].transpose(0, 2), 1)}; },
                 {rand_leaf({4, 3, 2}, 20)});
  check_gradient([](const TensorList& t) { return TensorList{softmax(t[0], 0)}; },
                 {rand_leaf({}, 21)});
  // second derivatives (through the recorded softmax_backward)
  check_gradient([](const TensorList& t) { return grad_of(softmax, 1, t); },
                 {rand_leaf({2, 4}, 22), rand_leaf({2, 4}, 23)});
  check_gradient([](const TensorList& t) { return grad_of(softmax, 0, t); },
                 {rand_leaf({3, 2}, 24), rand_leaf({3, 2}, 25)});
}

OP_TEST("softmax", "errors") {
  check_error([] { softmax(zeros({2, 3}), 2); }, {"softmax", "dim 2", "[2, 3]"});
  check_error([] { softmax(zeros({2, 3}), -3); }, {"softmax", "dim -3", "[2, 3]"});
  check_error([] { softmax(arange(3), 0); }, {"softmax", "i64", "[3]"});
}

OP_TEST("log_softmax", "values") {
  double e1 = std::exp(1.0), s = 1 + e1 + std::exp(2.0);
  check_close(log_softmax(tensor({0, 1, 2}), 0),
              tensor({-std::log(s), 1 - std::log(s), 2 - std::log(s)}));
  // equals log(softmax) computed on the host, along every dim and for non-contiguous inputs
  Tensor x = randf({3, 4, 5}, 2, 3);
  for (int64_t d : {0, 1, -1}) {
    INFO("dim ", d);
    check_close(log_softmax(x, d), host_log(softmax(x, d)), 1e-12);
    check_close(log_softmax(x.transpose(0, 2), d), host_log(softmax(x.transpose(0, 2), d)), 1e-12);
  }
  // large inputs: log_softmax stays finite where log(softmax) would give -inf
  check_close(log_softmax(tensor({1000, 0}), 0), tensor({0, -1000}));
  check_close(log_softmax(tensor({-1000.f, 1000.f, 1000.f}), 0),
              tensor({-2000 - std::log(2.0), -std::log(2.0), -std::log(2.0)}), 1e-3);
  check_close(log_softmax(tensor({{3}, {-2}}), 1), tensor({{0}, {0}}));
  CHECK(log_softmax(zeros({0, 3}), 0).sizes() == Shape{0, 3});
  check_close(log_softmax(tensor(-4.0), -1), tensor(0.0));
  check_close(log_softmax(tensor({-kInf, 0.0}), 0), tensor({-kInf, 0}));
}

OP_TEST("log_softmax", "gradient") {
  uint64_t seed = 30;
  for (const DimCase& c : kCases) {
    INFO("shape ", shape_str(c.shape), " dim ", c.dim);
    check_gradient([d = c.dim](const TensorList& t) { return TensorList{log_softmax(t[0], d)}; },
                   {rand_leaf(c.shape, seed++)});
  }
  check_gradient(
      [](const TensorList& t) { return TensorList{log_softmax(t[0].slice(1, 0, 6, 2), -1)}; },
      {rand_leaf({2, 6}, 40)});
  check_gradient([](const TensorList& t) { return grad_of(log_softmax, 1, t); },
                 {rand_leaf({2, 4}, 41), rand_leaf({2, 4}, 42)});
  check_gradient([](const TensorList& t) { return grad_of(log_softmax, 0, t); },
                 {rand_leaf({3, 2}, 43), rand_leaf({3, 2}, 44)});
}

OP_TEST("log_softmax", "errors") {
  check_error([] { log_softmax(zeros({4}), 1); }, {"log_softmax", "dim 1", "[4]"});
}

OP_TEST("safe_softmax", "values") {
  Tensor x = randf({3, 4}, 3);
  check_close(safe_softmax(x, 1), softmax(x, 1), 0);
  // fully -inf rows give zeros instead of NaN; other rows are untouched
  check_close(safe_softmax(tensor({{-kInf, -kInf}, {-kInf, 0.0}}), 1), tensor({{0, 0}, {0, 1}}));
  double e1 = std::exp(1.0);
  check_close(safe_softmax(tensor({{-kInf, 1.0}, {-kInf, 2.0}}), 0),
              tensor({{0, 1 / (1 + e1)}, {0, e1 / (1 + e1)}}));
}

OP_TEST("safe_softmax", "gradient") {
  check_gradient([](const TensorList& t) { return TensorList{safe_softmax(t[0], -1)}; },
                 {rand_leaf({3, 4}, 50)});
  // a fully masked row (a -inf constant added) passes no gradient and does not poison the others
  check_gradient(
      [](const TensorList& t) {
        Tensor mask = tensor({{0.0, 0.0, 0.0}, {-kInf, -kInf, -kInf}}, DType::f64);
        return TensorList{safe_softmax(add(t[0], mask), 1)};
      },
      {rand_leaf({2, 3}, 51)});
}
