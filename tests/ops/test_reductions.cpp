#include <cmath>
#include <limits>

#include "support/op_test.h"

using namespace tutor;
using testing::check_close;
using testing::check_error;
using testing::check_gradient;
using testing::rand_leaf;

namespace {

const double kNan = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

Tensor f64(const NestedList& values) { return tensor(values, DType::f64); }
Tensor i64(const NestedList& values) { return tensor(values, DType::i64); }

// [[1, 2, 3], [4, 5, 6]]
Tensor grid() { return f64({{1, 2, 3}, {4, 5, 6}}); }
// x[i][j][k] = 12 i + 4 j + k, shape [2, 3, 4]
Tensor cube() { return arange(24).to(DType::f64).view({2, 3, 4}); }

// The input gradient of sum(f(x)), by one backward pass.
Tensor grad_of(const std::function<Tensor(const Tensor&)>& f, const Tensor& values) {
  Tensor x = values.detach().clone().requires_grad_();
  sum(f(x)).backward();
  return x.grad();
}

// A bad dim (out of range, repeated) must name the op and the input's shape.
void check_dim_errors(const std::function<void(const Tensor&, std::vector<int64_t>)>& op,
                      const char* name) {
  check_error([&] { op(zeros({2, 3}), {2}); }, {name, "[2, 3]", "dim 2"});
  check_error([&] { op(zeros({2, 3}), {-3}); }, {name, "[2, 3]", "dim -3"});
  check_error([&] { op(zeros({2, 3}), {0, -2}); }, {name, "[2, 3]", "twice"});
}

}  // namespace

// ---- sum ----

OP_TEST("sum", "values") {
  check_close(sum(grid()), f64(21));
  check_close(sum(grid(), {0}), f64({5, 7, 9}));
  check_close(sum(grid(), {-1}), f64({6, 15}));
  check_close(sum(grid(), {1}, true), f64({{6}, {15}}));
  check_close(sum(grid(), {0, 1}, true), f64({{21}}));
  check_close(sum(grid().t(), {0}), f64({6, 15}));  // non-contiguous
  check_close(sum(grid().slice(1, 1), {1}), f64({5, 11}));  // offset and strided
  check_close(sum(cube().slice(2, 0, {}, 2), {0, 2}), f64({28, 44, 60}));  // k in {0, 2}: 16 j + 28
  // sum over j, k of 12 i + 4 j + k, per j: 32 j + 60
  check_close(sum(cube(), {0, 2}), f64({60, 92, 124}));
  check_close(sum(cube(), {2, 0}, true), f64({60, 92, 124}).view({1, 3, 1}));
  check_close(sum(cube().permute({2, 0, 1}), {1, 0}), f64({60, 92, 124}));
  check_close(sum(ones({2, 1, 3}), {1}), ones({2, 3}));
  check_close(sum(f64(2.5), {0}), f64(2.5));  // a 0-dim input accepts dim 0
  // empty slices sum to 0; an empty output stays empty
  check_close(sum(zeros({2, 0}), {1}), zeros({2}));
  check_close(sum(zeros({0})), tensor(0));
  CHECK(sum(zeros({0, 3}), {1}).sizes() == Shape{0});
}

OP_TEST("sum", "values i64") {
  Tensor s = sum(i64({{1, 2}, {3, 4}}), {0});
  CHECK(s.dtype() == DType::i64);
  check_close(s, i64({4, 6}));
  // exact beyond double's 2^53
  Tensor big = from_vector<int64_t>({3000000000000001, 2}, {2}, DType::i64);
  CHECK(sum(big).item<int64_t>() == 3000000000000003);
  Tensor count = sum(f64({{1, 0}, {2, 3}}).to(DType::b8), {1});  // bool counts as i64
  CHECK(count.dtype() == DType::i64);
  check_close(count, i64({1, 2}));
}

OP_TEST("sum", "gradient") {
  auto f = [](auto g) { return [g](const TensorList& x) { return TensorList{g(x[0])}; }; };
  check_gradient(f([](const Tensor& x) { return sum(x); }), {rand_leaf({3, 4})});
  check_gradient(f([](const Tensor& x) { return sum(x, {-1}, true); }), {rand_leaf({3, 4})});
  check_gradient(f([](const Tensor& x) { return sum(x.permute({2, 0, 1}), {0, 2}); }), {rand_leaf({2, 3, 4})});
  check_gradient(f([](const Tensor& x) { return sum(x, {1}); }), {rand_leaf({2, 1, 3})});
  check_gradient(f([](const Tensor& x) { return sum(x, {1}); }), {rand_leaf({2, 0})});
}

OP_TEST("sum", "errors") {
  check_dim_errors([](const Tensor& x, std::vector<int64_t> d) { sum(x, d); }, "sum");
  check_error([] { sum(f64(1), {1}); }, {"sum", "[]"});
}

// ---- mean ----

OP_TEST("mean", "values") {
  check_close(mean(grid()), f64(3.5));
  check_close(mean(grid(), {0}), f64({2.5, 3.5, 4.5}));
  check_close(mean(grid().t(), {-1}, true), f64({{2.5}, {3.5}, {4.5}}));
  check_close(mean(cube(), {0, 2}), f64({7.5, 11.5, 15.5}));  // (32 j + 60) / 8
  check_close(mean(ones({2, 1}), {1}), ones({2}));
  CHECK(std::isnan(mean(zeros({0})).item()));  // 0 / 0
  check_close(mean(zeros({2, 0}), {1}), f64({kNan, kNan}));
}

OP_TEST("mean", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{mean(x[0], {0, 2})}; }, {rand_leaf({2, 3, 4})});
  check_gradient([](const TensorList& x) { return TensorList{mean(x[0].t())}; }, {rand_leaf({3, 4})});
  check_gradient([](const TensorList& x) { return TensorList{mean(x[0], {1}, true)}; }, {rand_leaf({3, 1})});
}

OP_TEST("mean", "errors") {
  check_dim_errors([](const Tensor& x, std::vector<int64_t> d) { mean(x, d); }, "mean");
  check_error([] { mean(i64({1, 2})); }, {"mean", "i64"});
}

// ---- prod ----

OP_TEST("prod", "values") {
  check_close(prod(grid()), f64(720));
  check_close(prod(grid(), {1}), f64({6, 120}));
  check_close(prod(grid().t(), {0}, true), f64({{6, 120}}));
  check_close(prod(grid(), {-2}), f64({4, 10, 18}));
  check_close(prod(zeros({2, 0}), {1}), ones({2}));  // the empty product
  Tensor p = prod(i64({{1, 2, 3}, {-4, 5, 6}}), {1});
  CHECK(p.dtype() == DType::i64);
  check_close(p, i64({6, -120}));
}

OP_TEST("prod", "gradient") {
  auto along = [](std::vector<int64_t> d) {
    return [d](const TensorList& x) { return TensorList{prod(x[0], d)}; };
  };
  check_gradient(along({1}), {rand_leaf({3, 4})});
  check_gradient(along({}), {rand_leaf({2, 3})});
  check_gradient(along({0, 2}), {rand_leaf({2, 1, 3})});
  check_gradient([](const TensorList& x) { return TensorList{prod(x[0].t(), {0}, true)}; }, {rand_leaf({3, 2})});
  // rows with no zero, one zero and two zeros
  Tensor z = f64({{0.5, -2, 1.5}, {2, 0, 3}, {0, 3, 0}});
  check_gradient(along({1}), {z.clone().requires_grad_()});
  check_gradient(along({}), {z.narrow(0, 1, 1).clone().requires_grad_()});
  check_gradient([](const TensorList& x) { return TensorList{prod(x[0].narrow(0, 1, 2), {1})}; },
                 {z.clone().requires_grad_()});  // a view with an offset
  check_close(grad_of([](const Tensor& x) { return prod(x, {1}); }, z),
              f64({{-3, 0.75, -1}, {0, 6, 0}, {0, 0, 0}}));
}

OP_TEST("prod", "errors") {
  check_dim_errors([](const Tensor& x, std::vector<int64_t> d) { prod(x, d); }, "prod");
}

// ---- max, min, amax, amin ----

OP_TEST("max", "values") {
  Tensor x = f64({{1, 5, 5}, {7, 2, 7}});
  auto [v, i] = max(x, 1);
  check_close(v, f64({5, 7}));
  check_close(i, i64({1, 0}));  // the first of tied maxima
  CHECK(i.dtype() == DType::i64);
  auto [vk, ik] = max(x, -2, true);
  check_close(vk, f64({{7, 5, 7}}));
  check_close(ik, i64({{1, 0, 1}}));
  auto [vt, it] = max(x.t(), 0);  // non-contiguous
  check_close(vt, f64({5, 7}));
  check_close(it, i64({1, 0}));
  check_close(max(x), f64(7));
  check_close(max(f64({{-3}, {-1}}), 1).values, f64({-3, -1}));  // size-1 dim
  check_close(max(i64({4, -2, 9})), i64(9));
  CHECK(max(zeros({3, 0}), 0).values.sizes() == Shape{0});  // nonempty slices, empty output
  CHECK(std::isnan(max(f64({1, kNan, 3})).item()));  // NaN propagates
  CHECK(max(f64(2.5), 0).indices.item<int64_t>() == 0);  // a 0-dim input
}

OP_TEST("max", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{max(x[0], 1).values}; }, {rand_leaf({3, 4})});
  check_gradient([](const TensorList& x) { return TensorList{max(x[0].t(), -1, true).values}; }, {rand_leaf({3, 4})});
  check_gradient([](const TensorList& x) { return TensorList{max(x[0], 1).values}; }, {rand_leaf({2, 1, 3})});
  check_gradient([](const TensorList& x) { return TensorList{max(x[0])}; }, {rand_leaf({2, 3})});
  // ties: along a dim the chosen index takes it all; the full max spreads evenly
  Tensor t = f64({{1, 5, 5}, {7, 2, 7}});
  check_close(grad_of([](const Tensor& x) { return max(x, 1).values; }, t), f64({{0, 1, 0}, {1, 0, 0}}));
  check_close(grad_of([](const Tensor& x) { return max(x); }, t), f64({{0, 0, 0}, {0.5, 0, 0.5}}));
}

OP_TEST("max", "errors") {
  check_error([] { max(zeros({2, 0}), 1); }, {"max", "[2, 0]", "empty"});
  check_error([] { max(zeros({0})); }, {"max", "[0]", "empty"});
  check_error([] { max(zeros({2, 3}), 2); }, {"max", "[2, 3]", "dim 2"});
}

OP_TEST("min", "values") {
  Tensor x = f64({{4, 1, 1}, {0, 2, 0}});
  auto [v, i] = min(x, 1);
  check_close(v, f64({1, 0}));
  check_close(i, i64({1, 0}));
  auto [vt, it] = min(x.t(), 1, true);
  check_close(vt, f64({{0}, {1}, {0}}));
  check_close(it, i64({{1}, {0}, {1}}));
  check_close(min(x), f64(0));
  check_close(min(i64({4, -2, 9})), i64(-2));
}

OP_TEST("min", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{min(x[0], 0).values}; }, {rand_leaf({3, 4})});
  check_gradient([](const TensorList& x) { return TensorList{min(x[0].t())}; }, {rand_leaf({3, 2})});
  check_close(grad_of([](const Tensor& x) { return min(x); }, f64({0, 2, 0, 0})), f64({1. / 3, 0, 1. / 3, 1. / 3}));
}

OP_TEST("min", "errors") {
  check_error([] { min(zeros({0, 2}), 0); }, {"min", "[0, 2]", "empty"});
  check_error([] { min(zeros({2, 3}), -3); }, {"min", "[2, 3]", "dim -3"});
}

OP_TEST("amax", "values") {
  check_close(amax(cube(), {0, 2}), f64({15, 19, 23}));
  check_close(amax(cube(), {-1}, true), f64({{{3}, {7}, {11}}, {{15}, {19}, {23}}}));
  check_close(amax(cube().transpose(0, 2)), f64(23));
  check_close(amax(i64({{1, 8}, {3, 2}}), {0}), i64({3, 8}));
}

OP_TEST("amax", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{amax(x[0], {0, 2})}; }, {rand_leaf({2, 3, 4})});
  check_gradient([](const TensorList& x) { return TensorList{amax(x[0].t(), {1}, true)}; }, {rand_leaf({3, 1})});
  check_close(grad_of([](const Tensor& x) { return amax(x, {1}); }, f64({{2, 2, 1}, {0, 3, 1}})),
              f64({{0.5, 0.5, 0}, {0, 1, 0}}));
}

OP_TEST("amax", "errors") {
  check_dim_errors([](const Tensor& x, std::vector<int64_t> d) { amax(x, d); }, "amax");
  check_error([] { amax(zeros({2, 0, 3}), {1, 2}); }, {"amax", "[2, 0, 3]", "empty"});
}

OP_TEST("amin", "values") {
  check_close(amin(cube(), {1, 2}), f64({0, 12}));
  check_close(amin(cube().permute({1, 2, 0}), {0}), f64({{0, 12}, {1, 13}, {2, 14}, {3, 15}}));
}

OP_TEST("amin", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{amin(x[0], {-1})}; }, {rand_leaf({3, 4})});
  check_close(grad_of([](const Tensor& x) { return amin(x, {0}); }, f64({{1, 2}, {1, 0}})),
              f64({{0.5, 0}, {0.5, 1}}));
}

OP_TEST("amin", "errors") {
  check_dim_errors([](const Tensor& x, std::vector<int64_t> d) { amin(x, d); }, "amin");
}

// ---- argmax, argmin ----

OP_TEST("argmax", "values") {
  Tensor x = f64({{1, 9, 9}, {9, 2, 3}});
  check_close(argmax(x), i64(1));  // first of the ties in the flattened input
  check_close(argmax(x, 1), i64({1, 0}));
  check_close(argmax(x, 0, true), i64({{1, 0, 0}}));
  check_close(argmax(x.t()), i64(1));  // flattened x.t() is [1, 9, 9, 2, 9, 3]
  check_close(argmax(x.t(), -1), i64({1, 0, 0}));
  CHECK(argmax(x, {}, true).sizes() == Shape{1, 1});
  check_close(argmax(cube()), i64(23));
  check_close(argmax(i64({3, 7, 7})), i64(1));
}

OP_TEST("argmax", "errors") {
  check_error([] { argmax(zeros({0})); }, {"argmax", "[0]", "empty"});
  check_error([] { argmax(zeros({2, 3}), 2); }, {"argmax", "[2, 3]", "dim 2"});
}

OP_TEST("argmin", "values") {
  Tensor x = f64({{5, 0, 0}, {0, 2, 3}});
  check_close(argmin(x), i64(1));
  check_close(argmin(x, 0), i64({1, 0, 0}));
  check_close(argmin(x.t(), 0, true), i64({{1, 0}}));
}

OP_TEST("argmin", "errors") {
  check_error([] { argmin(zeros({2, 0}), 1); }, {"argmin", "[2, 0]", "empty"});
}

// ---- var, std ----

OP_TEST("var", "values") {
  // [1, 2, 3, 4]: mean 2.5, sum of squared deviations 5
  Tensor x = f64({1, 2, 3, 4});
  check_close(var(x), f64(5.0 / 3));
  check_close(var(x, {}, false), f64(1.25));
  // rows of the grid: deviations -1, 0, 1 -> 2 / 2 and 2 / 3; columns: +-1.5 -> 4.5 and 2.25
  check_close(var(grid(), {1}), f64({1, 1}));
  check_close(var(grid(), {0}, false, true), f64({{2.25, 2.25, 2.25}}));
  check_close(var(grid().t(), {0}, false), f64({2. / 3, 2. / 3}));
  check_close(var(cube(), {0, 2}, false), f64({37.25, 37.25, 37.25}));  // 6^2 + var([0, 1, 2, 3])
  CHECK(std::isnan(var(f64({3})).item()));  // n - 1 = 0
  check_close(var(f64({3}), {}, false), f64(0));
  CHECK(std::isnan(var(zeros({0}, DType::f64)).item()));
}

OP_TEST("var", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{var(x[0], {1})}; }, {rand_leaf({3, 4})});
  check_gradient([](const TensorList& x) { return TensorList{var(x[0].t(), {}, false)}; }, {rand_leaf({3, 2})});
  check_gradient([](const TensorList& x) { return TensorList{var(x[0], {0, 2}, true, true)}; }, {rand_leaf({2, 1, 3})});
}

OP_TEST("var", "errors") {
  check_dim_errors([](const Tensor& x, std::vector<int64_t> d) { var(x, d); }, "var");
  check_error([] { var(i64({1, 2})); }, {"var", "i64"});
}

OP_TEST("std", "values") {
  Tensor x = f64({1, 2, 3, 4});
  check_close(tutor::std(x), f64(std::sqrt(5.0 / 3)));
  check_close(tutor::std(x, {}, false), f64(std::sqrt(1.25)));
  check_close(tutor::std(grid(), {0}, false), f64({1.5, 1.5, 1.5}));
  check_close(tutor::std(grid().t(), {-2}, true, true), f64({{1}, {1}}).t());
}

OP_TEST("std", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{tutor::std(x[0], {1})}; }, {rand_leaf({3, 4})});
  check_gradient([](const TensorList& x) { return TensorList{tutor::std(x[0].t(), {}, false)}; }, {rand_leaf({3, 2})});
  check_gradient([](const TensorList& x) { return TensorList{tutor::std(x[0], {0, 2}, true, true)}; }, {rand_leaf({2, 1, 3})});
}

OP_TEST("std", "errors") {
  check_dim_errors([](const Tensor& x, std::vector<int64_t> d) { tutor::std(x, d); }, "std");
}

// ---- logsumexp ----

OP_TEST("logsumexp", "values") {
  check_close(logsumexp(f64({1, 2, 3})), f64(std::log(std::exp(1) + std::exp(2) + std::exp(3))));
  check_close(logsumexp(f64({{0, 0}, {1000, 1000}}), {1}), f64({std::log(2), 1000 + std::log(2)}));
  check_close(logsumexp(f64({-1000, -1000})), f64(-1000 + std::log(2)));
  check_close(logsumexp(f64({{0, 0}, {0, 0}}).t(), {0}, true), f64({{std::log(2), std::log(2)}}));
  check_close(logsumexp(f64({-kInf, -kInf})), f64(-kInf));
  check_close(logsumexp(f64({kInf, 0})), f64(kInf));
  check_close(logsumexp(zeros({2, 0}), {1}), f64({-kInf, -kInf}));
  check_close(logsumexp(f64({{5}, {6}}), {1}), f64({5, 6}));
}

OP_TEST("logsumexp", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{logsumexp(x[0], {1})}; }, {rand_leaf({3, 4})});
  check_gradient([](const TensorList& x) { return TensorList{logsumexp(x[0].t(), {}, true)}; }, {rand_leaf({3, 2})});
  check_gradient([](const TensorList& x) { return TensorList{logsumexp(x[0], {0, 2})}; }, {rand_leaf({2, 1, 3})});
  // the gradient is softmax: rows sum to 1
  check_close(sum(grad_of([](const Tensor& x) { return logsumexp(x, {1}); }, f64({{1, 2}, {900, 3}})), {1}), f64({1, 1}));
}

OP_TEST("logsumexp", "errors") {
  check_dim_errors([](const Tensor& x, std::vector<int64_t> d) { logsumexp(x, d); }, "logsumexp");
}

// ---- norm ----

OP_TEST("norm", "values") {
  Tensor x = f64({{3, -4}, {0, 0}});
  check_close(norm(x, 2, {1}), f64({5, 0}));
  check_close(norm(x, 1, {1}), f64({7, 0}));
  check_close(norm(x, kInf, {-1}, true), f64({{4}, {0}}));
  check_close(norm(x), f64(5));
  check_close(norm(x.t(), 1, {0}), f64({7, 0}));
  check_close(norm(cube(), 1, {0, 2}), f64({60, 92, 124}));
  check_close(norm(zeros({2, 0}), 2, {1}), zeros({2}));
}

OP_TEST("norm", "gradient") {
  for (double p : {1.0, 2.0, kInf}) {
    CAPTURE(p);
    check_gradient([p](const TensorList& x) { return TensorList{norm(x[0], p, {1})}; }, {rand_leaf({3, 4})});
    check_gradient([p](const TensorList& x) { return TensorList{norm(x[0].t(), p, {}, true)}; }, {rand_leaf({3, 2})});
    check_gradient([p](const TensorList& x) { return TensorList{norm(x[0], p, {0, 2})}; }, {rand_leaf({2, 1, 3})});
  }
  // subgradients: 0 at a zero vector (p = 2), sign at the maxima of |x| spread over ties (p = inf)
  check_close(grad_of([](const Tensor& x) { return norm(x, 2, {1}); }, f64({{0, 0}, {3, -4}})),
              f64({{0, 0}, {0.6, -0.8}}));
  check_close(grad_of([](const Tensor& x) { return norm(x, kInf, {1}); }, f64({{1, -3, 2}, {3, -3, 0}})),
              f64({{0, -1, 0}, {0.5, -0.5, 0}}));
  check_close(grad_of([](const Tensor& x) { return norm(x, 1); }, f64({-2, 0, 5})), f64({-1, 0, 1}));
}

OP_TEST("norm", "errors") {
  check_dim_errors([](const Tensor& x, std::vector<int64_t> d) { norm(x, 2, d); }, "norm");
  check_error([] { norm(zeros({2, 3}), 3); }, {"norm", "p = 3", "[2, 3]"});
  check_error([] { norm(zeros({2, 0}), kInf, {1}); }, {"norm", "[2, 0]", "empty"});
}

// ---- cumsum ----

OP_TEST("cumsum", "values") {
  check_close(cumsum(f64({1, 2, 3}), 0), f64({1, 3, 6}));
  check_close(cumsum(grid(), 1), f64({{1, 3, 6}, {4, 9, 15}}));
  check_close(cumsum(grid(), -2), f64({{1, 2, 3}, {5, 7, 9}}));
  check_close(cumsum(grid().t(), 0), f64({{1, 4}, {3, 9}, {6, 15}}));
  check_close(cumsum(f64({{2}, {3}}), 1), f64({{2}, {3}}));
  Tensor c = cumsum(i64({5, -1, 2}), 0);
  CHECK(c.dtype() == DType::i64);
  check_close(c, i64({5, 4, 6}));
  CHECK(cumsum(zeros({2, 0}), 1).sizes() == Shape{2, 0});
}

OP_TEST("cumsum", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{cumsum(x[0], 1)}; }, {rand_leaf({3, 4})});
  check_gradient([](const TensorList& x) { return TensorList{cumsum(x[0].t(), 0)}; }, {rand_leaf({3, 4})});
  check_gradient([](const TensorList& x) { return TensorList{cumsum(x[0], -2)}; }, {rand_leaf({2, 1, 3})});
  // d/dx_j sum_i y_i = number of i >= j
  check_close(grad_of([](const Tensor& x) { return cumsum(x, 0); }, f64({1, 1, 1})), f64({3, 2, 1}));
}

OP_TEST("cumsum", "errors") {
  check_error([] { cumsum(zeros({2, 3}), 2); }, {"cumsum", "[2, 3]", "dim 2"});
}

// ---- all, any ----

OP_TEST("all", "values") {
  Tensor x = f64({{1, 0, 2}, {3, 4, -1}});
  Tensor r = all(x, {1});
  CHECK(r.dtype() == DType::b8);
  CHECK(r.to_vector<bool>() == std::vector<bool>{false, true});
  CHECK(all(x.t(), {0}, true).sizes() == Shape{1, 2});
  CHECK(all(x).item<bool>() == false);
  CHECK(all(i64({1, 2})).item<bool>() == true);
  CHECK(all(x.to(DType::b8), {0}).to_vector<bool>() == std::vector<bool>{true, false, true});
  CHECK(all(zeros({0})).item<bool>() == true);  // the empty conjunction
}

OP_TEST("all", "errors") {
  check_dim_errors([](const Tensor& x, std::vector<int64_t> d) { all(x, d); }, "all");
}

OP_TEST("any", "values") {
  Tensor x = f64({{0, 0, 2}, {0, 0, 0}});
  CHECK(any(x, {1}).to_vector<bool>() == std::vector<bool>{true, false});
  CHECK(any(x.t(), {-1}).to_vector<bool>() == std::vector<bool>{false, false, true});
  CHECK(any(x).item<bool>() == true);
  CHECK(any(i64({0, 0})).item<bool>() == false);
  CHECK(any(x.to(DType::b8), {0, 1}, true).sizes() == Shape{1, 1});
  CHECK(any(zeros({0})).item<bool>() == false);  // the empty disjunction
}

OP_TEST("any", "errors") {
  check_dim_errors([](const Tensor& x, std::vector<int64_t> d) { any(x, d); }, "any");
}

// ---- second derivatives: the backward rules are built from differentiable ops ----

namespace {

// gradcheck of x -> d/dx sum(w * f(x)) for a fixed random w: checks the backward of the backward.
void check_double_gradient(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  check_gradient(
      [f](const TensorList& in) {
        EnableGradGuard grad_on;  // gradcheck's finite differences run under NoGradGuard
        Tensor y = f(in[0]);
        Tensor w = testing::rand_leaf(y.sizes(), 99).detach();
        return autograd::grad({sum(y * w)}, {in[0]}, {}, true, true);
      },
      {x});
}

}  // namespace

TEST_CASE("reductions: double backward") {
  check_double_gradient([](const Tensor& x) { return prod(x, {1}); }, rand_leaf({2, 3}));
  check_double_gradient([](const Tensor& x) { return var(x, {1}); }, rand_leaf({2, 3}));
  check_double_gradient([](const Tensor& x) { return tutor::std(x, {0}); }, rand_leaf({3, 2}));
  check_double_gradient([](const Tensor& x) { return logsumexp(x, {1}); }, rand_leaf({2, 3}));
  check_double_gradient([](const Tensor& x) { return norm(x, 2, {1}); }, rand_leaf({2, 3}));
  check_double_gradient([](const Tensor& x) { return cumsum(x * x, 1); }, rand_leaf({2, 3}));
  check_double_gradient([](const Tensor& x) { return max(x * x, 1).values; }, rand_leaf({2, 3}));
  check_double_gradient([](const Tensor& x) { return amax(x * x, {0}); }, rand_leaf({2, 3}));
  check_double_gradient([](const Tensor& x) { return mean(x * x, {0}); }, rand_leaf({2, 3}));
}
