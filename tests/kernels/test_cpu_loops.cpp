// The CPU loop kernels (kernels/cpu/loops_*.cpp) against the reference backend, table-driven as
// ggml's test-backend-ops: each case runs the public op forward and backward once under
// ops::ReferenceOnlyGuard and once normally, and compares the output and every input gradient by
// normalized MSE  sum (a - b)^2 / sum b^2 <= 1e-7 (DESIGN.md's bound for fast kernels).
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/random.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/ops.h"
#include "support/backend_compare.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

using Binary = Tensor (*)(const Tensor&, const Tensor&);
using Unary = std::function<Tensor(const Tensor&)>;

// Input shape pairs: same shape at odd sizes, scalar, row and channel broadcast, a broadcast of
// both sides (no fast path), transposed and empty operands.
std::vector<std::pair<Shape, Shape>> binary_shapes() {
  return {{{1}, {1}},
          {{7}, {7}},
          {{1023}, {1023}},
          {{4097}, {4097}},
          {{257, 129}, {}},
          {{}, {33, 65}},
          {{65, 1000}, {1000}},
          {{1, 7}, {7}},
          {{2, 7, 5, 3}, {1, 7, 1, 1}},
          {{1, 3, 2, 2}, {3, 1, 1}},
          {{64, 1, 9}, {1, 33, 9}},
          {{5, 1}, {1, 6}},
          {{0, 7}, {7}},
          {{128, 513}, {128, 1}}};
}

}  // namespace

TEST_CASE("cpu loops: registered as the cpu backend for f32") {
  for (const char* name : {"add",
                           "sub",
                           "mul",
                           "div",
                           "neg",
                           "exp",
                           "log",
                           "sqrt",
                           "rsqrt",
                           "relu",
                           "relu_backward",
                           "sigmoid",
                           "tanh",
                           "gelu",
                           "gelu_backward",
                           "silu",
                           "square",
                           "abs",
                           "sum",
                           "max",
                           "min",
                           "softmax",
                           "log_softmax",
                           "softmax_backward",
                           "log_softmax_backward",
                           "cross_entropy",
                           "cross_entropy_backward"}) {
    INFO(name);
    const ops::Kernel k(name);
    CHECK(ops::backend_for(k, kCPU, DType::f32) == kernels::Backend::cpu);
    CHECK(ops::backend_for(k, kCPU, DType::f64) == kernels::Backend::reference);
  }
}

TEST_CASE("cpu loops: add, sub, mul, div with broadcasting") {
  const std::pair<const char*, Binary> ops_list[] = {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }}};
  std::vector<Case> cases;
  uint64_t seed = 1;
  for (auto [name, op] : ops_list)
    for (auto [sa, sb] : binary_shapes()) {
      Tensor a = randn_f32(sa, seed++), b = randn_f32(sb, seed++);
      if (std::string(name) == "div") b = add(abs(b), 0.5).detach();  // away from 0
      cases.push_back({std::string(name) + " " + shape_str(sa) + " " + shape_str(sb),
                       {a, b},
                       [op](const TensorList& t) { return op(t[0], t[1]); }});
    }
  // non-contiguous operands: a transpose against a contiguous tensor, and two transposes
  cases.push_back({"add transposed",
                   {randn_f32({33, 17}, 50), randn_f32({17, 33}, 51)},
                   [](const TensorList& t) { return add(t[0].t(), t[1]); }});
  cases.push_back({"mul both transposed",
                   {randn_f32({9, 65}, 52), randn_f32({9, 65}, 53)},
                   [](const TensorList& t) { return mul(t[0].t(), t[1].t()); }});
  cases.push_back({"sub permuted 4-d",
                   {randn_f32({3, 4, 5, 6}, 54), randn_f32({6, 5, 4, 3}, 55)},
                   [](const TensorList& t) {
                     return sub(t[0].permute({3, 2, 1, 0}), t[1]);
                   }});
  check_cases(cases);
}

TEST_CASE("cpu loops: in-place arithmetic into a transposed view") {
  // the output of the in-place kernel is the non-contiguous target itself
  std::vector<Case> cases;
  cases.push_back({"add_ transposed target",
                   {randn_f32({37, 41}, 60), randn_f32({41}, 61)},
                   [](const TensorList& t) {
                     Tensor base = t[0].detach().clone();
                     add_(base.t(), t[1].detach().view({41, 1}));
                     return base;
                   },
                   false});
  cases.push_back({"mul_ scalar into narrowed rows",
                   {randn_f32({300, 129}, 62)},
                   [](const TensorList& t) {
                     Tensor base = t[0].detach().clone();
                     mul_(base.narrow(1, 3, 100), 1.5);
                     return base;
                   },
                   false});
  check_cases(cases);
}

TEST_CASE("cpu loops: unary math and activations") {
  const std::pair<const char*, Unary> ops_list[] = {
      {"neg", [](const Tensor& x) { return neg(x); }},
      {"exp", [](const Tensor& x) { return exp(x); }},
      {"log", [](const Tensor& x) { return log(add(abs(x), 0.1)); }},
      {"sqrt", [](const Tensor& x) { return sqrt(add(abs(x), 0.1)); }},
      {"rsqrt", [](const Tensor& x) { return rsqrt(add(abs(x), 0.1)); }},
      {"relu", [](const Tensor& x) { return relu(x); }},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
      {"tanh", [](const Tensor& x) { return tanh(x); }},
      {"gelu", [](const Tensor& x) { return gelu(x); }},
      {"gelu tanh", [](const Tensor& x) { return gelu(x, "tanh"); }},
      {"silu", [](const Tensor& x) { return silu(x); }},
      {"square", [](const Tensor& x) { return square(x); }},
      {"abs", [](const Tensor& x) { return abs(x); }}};
  const Shape shapes[] = {{}, {1}, {7}, {1023}, {4097}, {0, 3}, {70000}};
  std::vector<Case> cases;
  uint64_t seed = 100;
  for (const auto& [name, op] : ops_list) {
    for (const Shape& s : shapes)
      cases.push_back({std::string(name) + " " + shape_str(s),
                       {randn_f32(s, seed++, 3)},
                       [op](const TensorList& t) { return op(t[0]); }});
    cases.push_back({std::string(name) + " transposed",
                     {randn_f32({65, 31}, seed++, 3)},
                     [op](const TensorList& t) { return op(t[0].t()); }});
  }
  // exp's range ends: overflow to inf, underflow to 0, NaN passes through (forward only)
  cases.push_back(
      {"exp extremes",
       {from_vector<float>({-1e30f, -104.f, -87.f, -20.f, 0.f, 1e-6f, 20.f, 88.f, 88.7f}, {9})},
       [](const TensorList& t) { return exp(t[0]); },
       false});
  check_cases(cases);
}

TEST_CASE("cpu loops: sum over any dims") {
  struct SumCase {
    Shape shape;
    std::vector<int64_t> dims;
    bool transpose = false;
  };
  const SumCase sums[] = {{{1}, {}},
                          {{7}, {}},
                          {{4097}, {0}},
                          {{300001}, {}},
                          {{64, 1000}, {1}},
                          {{64, 1000}, {0}},
                          {{1, 1000}, {1}},
                          {{5, 7, 9}, {1}},
                          {{5, 7, 9}, {0, 2}},
                          {{5, 7, 9}, {0, 1}},
                          {{5, 7, 9}, {1, 2}},
                          {{4, 1, 6}, {0, 1}},
                          {{0, 5}, {0}},
                          {{0, 5}, {1}},
                          {{33, 65}, {0}, true},
                          {{33, 65}, {1}, true},
                          {{2000, 70}, {1}, true},
                          {{70001, 3}, {0}},
                          {{3001, 700}, {0}},
                          {{5, 9, 11}, {0, 1}}};
  std::vector<Case> cases;
  uint64_t seed = 200;
  for (const SumCase& s : sums)
    cases.push_back({"sum " + shape_str(s.shape) + " dims " + shape_str(s.dims) +
                         (s.transpose ? " transposed" : ""),
                     {randn_f32(s.shape, seed++)},
                     [s](const TensorList& t) {
                       return sum(s.transpose ? t[0].t() : t[0], s.dims, /*keepdim=*/false);
                     }});
  check_cases(cases);
}

TEST_CASE("cpu loops: max and min, values and indices") {
  struct ExtremeCase {
    Shape shape;
    int64_t dim;
    bool transpose = false;
  };
  // ties: values rounded to a coarse grid, so the first extreme must win
  auto coarse = [](const Shape& s, uint64_t seed) {
    return div(floor(mul(randn_f32(s, seed), 2.0)), 2.0).detach();
  };
  const ExtremeCase exts[] = {{{1}, 0},       {{7}, 0},       {{64, 1000}, 1},     {{64, 1000}, 0},
                              {{3, 4097}, 1}, {{5, 7, 9}, 1}, {{33, 65}, 1, true}, {{300001}, 0}};
  std::vector<Case> cases;
  uint64_t seed = 600;
  for (const ExtremeCase& e : exts) {
    const std::string shape =
        shape_str(e.shape) + " dim " + std::to_string(e.dim) + (e.transpose ? " transposed" : "");
    Tensor x = coarse(e.shape, seed++);
    auto input = [e](const Tensor& t) { return e.transpose ? t.t() : t; };
    cases.push_back({"max values " + shape, {x}, [e, input](const TensorList& t) {
                       return max(input(t[0]), e.dim).values;
                     }});
    cases.push_back({"min values " + shape, {x}, [e, input](const TensorList& t) {
                       return min(input(t[0]), e.dim).values;
                     }});
    cases.push_back(
        {"argmax " + shape,
         {x},
         [e, input](const TensorList& t) { return argmax(input(t[0]), e.dim).to(DType::f32); },
         false});
    cases.push_back(
        {"argmin " + shape,
         {x},
         [e, input](const TensorList& t) { return argmin(input(t[0]), e.dim).to(DType::f32); },
         false});
  }
  cases.push_back({"amax over dims 0, 2", {coarse({6, 5, 7}, 650)}, [](const TensorList& t) {
                     return amax(t[0], {0, 2});
                   }});
  cases.push_back({"argmax over all, with NaN",
                   {from_vector<float>({1, NAN, 3, NAN, 7, 7}, {2, 3})},
                   [](const TensorList& t) {
                     return add(argmax(t[0]).to(DType::f32), argmax(t[0], 1).to(DType::f32).sum());
                   },
                   false});
  check_cases(cases);
}

TEST_CASE("cpu loops: softmax and log_softmax along any dim") {
  struct SoftmaxCase {
    Shape shape;
    int64_t dim;
  };
  const SoftmaxCase sms[] = {{{1, 1}, 1},     {{7}, 0},         {{128, 1000}, 1}, {{128, 1000}, 0},
                             {{1, 4097}, -1}, {{3, 5, 7}, 1},   {{3, 5, 7}, 0},   {{0, 9}, 1},
                             {{4, 0}, 1},     {{2, 3, 4, 5}, 2}};
  std::vector<Case> cases;
  uint64_t seed = 300;
  for (const SoftmaxCase& s : sms) {
    const std::string shape = shape_str(s.shape) + " dim " + std::to_string(s.dim);
    Tensor x = randn_f32(s.shape, seed++, 4);
    cases.push_back(
        {"softmax " + shape, {x}, [s](const TensorList& t) { return softmax(t[0], s.dim); }});
    cases.push_back({"log_softmax " + shape, {x}, [s](const TensorList& t) {
                       return log_softmax(t[0], s.dim);
                     }});
  }
  cases.push_back({"softmax transposed", {randn_f32({1000, 33}, 350, 4)}, [](const TensorList& t) {
                     return softmax(t[0].t(), 1);
                   }});
  cases.push_back({"safe_softmax with a fully masked row",
                   {from_vector<float>({1, 2, 3, -INFINITY, -INFINITY, -INFINITY}, {2, 3})},
                   [](const TensorList& t) { return safe_softmax(t[0], 1); },
                   false});
  check_cases(cases);
}

TEST_CASE("cpu loops: cross_entropy forward and backward") {
  struct CeCase {
    std::string name;
    Shape shape;  // [N, C, d...]
    bool weight = false, prob = false;
    double smoothing = 0;
    Reduction reduction = Reduction::none;
  };
  const CeCase ces[] = {
      {"[128, 1000]", {128, 1000}},
      {"[128, 1000] mean", {128, 1000}, false, false, 0, Reduction::mean},
      {"batch 1", {1, 7}},
      {"one class", {5, 1}},
      {"weights and smoothing", {33, 10}, true, false, 0.1, Reduction::mean},
      {"smoothing", {17, 1000}, false, false, 0.2},
      {"spatial [4, 5, 3, 7]", {4, 5, 3, 7}, true, false, 0.1, Reduction::sum},
      {"probabilities", {16, 1000}, false, true},
      {"probabilities, weights, smoothing", {9, 11}, true, true, 0.3, Reduction::mean},
      {"spatial probabilities", {3, 6, 5}, false, true, 0.1},
      {"empty batch", {0, 5}, false, false, 0, Reduction::sum}};
  std::vector<Case> cases;
  uint64_t seed = 400;
  for (const CeCase& c : ces) {
    Generator gen(seed++);
    Tensor x = randn_f32(c.shape, seed++, 3);
    Shape index_shape = c.shape;
    index_shape.erase(index_shape.begin() + 1);
    Tensor target = c.prob ? softmax(randn_f32(c.shape, seed++), 1).detach()
                           : randint(0, c.shape[1], index_shape, DType::i64, &gen);
    if (!c.prob && target.numel() > 3) target.view({-1}).narrow(0, 1, 2).fill_raw_(-100.0);
    Tensor w = c.weight ? add(rand({c.shape[1]}, DType::f32, &gen), 0.5).detach() : Tensor();
    cases.push_back({"cross_entropy " + c.name, {x, target}, [c, w](const TensorList& t) {
                       return cross_entropy(t[0], t[1], w, -100, c.reduction, c.smoothing);
                     }});
  }
  cases.push_back({"cross_entropy transposed logits",
                   {randn_f32({1000, 64}, 450, 3), randint(0, 1000, {64}, DType::i64)},
                   [](const TensorList& t) {
                     return cross_entropy(t[0].t(), t[1], {}, -100, Reduction::none);
                   }});
  check_cases(cases);
}

TEST_CASE("cpu loops: cross_entropy rejects a class index out of range") {
  Tensor x = randn_f32({4, 3}, 500);
  Tensor y = from_vector<int64_t>({0, 1, 3, 2}, {4}, DType::i64);
  CHECK_THROWS_WITH_AS(cross_entropy(x, y), doctest::Contains("out of range for 3 classes"), Error);
}
