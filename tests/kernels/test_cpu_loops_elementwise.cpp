// The CPU loop kernels for the element-wise ops beyond arithmetic (kernels/cpu/
// loops_elementwise_body.h) against the reference backend, forward and backward, by
// tests/support/backend_compare.h: unary math with scalar parameters, minimum / maximum / pow with
// broadcasting, comparisons (bool output), where and masked_fill (bool operands), on odd sizes,
// size 1, 0-dim, empty, transposed and sliced inputs, and NaN / inf inputs.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "engine/ops/dispatch.h"
#include "engine/ops/ops.h"
#include "support/backend_compare.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

using Unary = std::function<Tensor(const Tensor&)>;
using Binary = std::function<Tensor(const Tensor&, const Tensor&)>;

// Same shape at odd sizes, scalar, row, channel and two-sided broadcasts, empty.
const std::vector<std::pair<Shape, Shape>> kBinaryShapes = {{{1}, {1}},
                                                            {{7}, {7}},
                                                            {{4097}, {4097}},
                                                            {{257, 129}, {}},
                                                            {{}, {33, 65}},
                                                            {{65, 1000}, {1000}},
                                                            {{2, 7, 5, 3}, {1, 7, 1, 1}},
                                                            {{64, 1, 9}, {1, 33, 9}},
                                                            {{5, 1}, {1, 6}},
                                                            {{0, 7}, {7}},
                                                            {{128, 513}, {128, 1}}};

// Values on a grid of 0.5, so comparisons and minimum / maximum meet ties.
Tensor coarse(const Shape& s, uint64_t seed) {
  return div(floor(mul(randn_f32(s, seed), 2.0)), 2.0).detach();
}

// Unary cases of `op` on odd sizes, 0-dim, empty, a transpose and a strided slice of x = f(randn).
void add_unary_cases(std::vector<Case>& cases, const std::string& name, const Unary& op,
                     const Unary& domain, uint64_t& seed) {
  const Shape shapes[] = {{}, {1}, {7}, {1023}, {4097}, {0, 3}, {70000}};
  auto input = [&](const Shape& s) { return domain(randn_f32(s, seed++, 2)).detach(); };
  for (const Shape& s : shapes)
    cases.push_back(
        {name + " " + shape_str(s), {input(s)}, [op](const TensorList& t) { return op(t[0]); }});
  cases.push_back({name + " transposed", {input({65, 31})}, [op](const TensorList& t) {
                     return op(t[0].t());
                   }});
  cases.push_back({name + " sliced", {input({40, 300})}, [op](const TensorList& t) {
                     return op(t[0].narrow(1, 3, 257));
                   }});
  cases.push_back({name + " NaN and inf",
                   {special_values_f32()},
                   [op](const TensorList& t) { return op(t[0]); },
                   false});
}

Tensor identity(const Tensor& x) { return x; }
Tensor positive(const Tensor& x) { return add(abs(x), 0.1); }
Tensor away_from_zero(const Tensor& x) { return add(x, mul(sign(x), 0.25)); }

}  // namespace

TEST_CASE("cpu loops: element-wise kernels registered as the cpu backend for f32") {
  for (const char* name :
       {"minimum", "maximum", "pow", "pow_scalar", "clamp",      "sign",     "floor", "reciprocal",
        "expm1",   "log1p",   "sin", "cos",        "leaky_relu", "softplus", "where", "masked_fill",
        "eq",      "ne",      "lt",  "le",         "gt",         "ge"}) {
    INFO(name);
    const ops::Kernel k(name);
    CHECK(ops::backend_for(k, kCPU, DType::f32) == kernels::Backend::cpu);
    CHECK(ops::backend_for(k, kCPU, DType::f64) == kernels::Backend::reference);
  }
}

TEST_CASE("cpu loops: unary math with scalar parameters") {
  const std::tuple<const char*, Unary, Unary> ops_list[] = {
      {"reciprocal", [](const Tensor& x) { return reciprocal(x); }, away_from_zero},
      {"expm1", [](const Tensor& x) { return expm1(x); }, identity},
      {"log1p", [](const Tensor& x) { return log1p(x); }, [](const Tensor& x) { return abs(x); }},
      {"sign", [](const Tensor& x) { return sign(x); }, identity},
      {"floor", [](const Tensor& x) { return floor(x); }, identity},
      {"sin", [](const Tensor& x) { return sin(x); }, identity},
      {"cos", [](const Tensor& x) { return cos(x); }, identity},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.1); }, identity},
      {"softplus", [](const Tensor& x) { return softplus(x); }, identity},
      {"softplus beta 2 threshold 1", [](const Tensor& x) { return softplus(x, 2, 1); }, identity},
      {"pow 2", [](const Tensor& x) { return pow(x, 2.0); }, identity},
      {"pow 3", [](const Tensor& x) { return pow(x, 3.0); }, identity},
      {"pow -1.5", [](const Tensor& x) { return pow(x, -1.5); }, positive},
      {"pow 0.5", [](const Tensor& x) { return pow(x, 0.5); }, positive},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.7); }, identity},
      {"clamp min", [](const Tensor& x) { return clamp(x, 0.1, std::nullopt); }, identity},
      {"clamp max", [](const Tensor& x) { return clamp(x, std::nullopt, -0.3); }, identity},
      {"clamp min > max", [](const Tensor& x) { return clamp(x, 1.0, -1.0); }, identity}};
  std::vector<Case> cases;
  uint64_t seed = 1000;
  for (const auto& [name, op, domain] : ops_list) add_unary_cases(cases, name, op, domain, seed);
  // where 1 + x rounds: the small arguments of log1p and softplus's far left tail
  cases.push_back({"log1p of |x| ~ 1e-5",
                   {randn_f32({4097}, seed++, 1e-5)},
                   [](const TensorList& t) { return log1p(t[0]); }});
  cases.push_back({"softplus far below 0",
                   {add(randn_f32({4097}, seed++, 3), -15.0).detach()},
                   [](const TensorList& t) { return softplus(t[0]); }});
  check_cases(cases);
}

// sin, cos, expm1 and pow run glibc's vector math (kernels/cpu/libmvec.h): its range reduction of
// large arguments, expm1 where exp(x) - 1 would cancel, and pow's special cases as C (and PyTorch)
// define them. Each case holds values of one scale, so the normalized error is relative to it.
TEST_CASE("cpu loops: sin, cos, expm1 and pow at extreme arguments") {
  std::vector<Case> cases;
  uint64_t seed = 1050;
  auto scaled = [&](const Shape& s, double scale) { return randn_f32(s, seed++, scale); };
  const std::pair<const char*, double> sin_scales[] = {
      {"|x| ~ 1e-20", 1e-20}, {"|x| ~ 1e3", 1e3}, {"|x| ~ 1e5", 1e5}, {"|x| ~ 1e30", 1e30}};
  for (const auto& [what, scale] : sin_scales) {
    cases.push_back({std::string("sin ") + what, {scaled({4099}, scale)}, [](const TensorList& t) {
                       return sin(t[0]);
                     }});
    cases.push_back({std::string("cos ") + what, {scaled({4099}, scale)}, [](const TensorList& t) {
                       return cos(t[0]);
                     }});
  }
  cases.push_back({"sin and cos of multiples of pi/2 near 2^20",
                   {from_vector<float>({1647099.f, 1647100.f, 3294199.f, 3294200.f, 102943.7f,
                                        205887.4f, 8388607.f, 16777216.f},
                                       {8})},
                   [](const TensorList& t) {
                     return cat({sin(t[0]), cos(t[0])}, 0);
                   }});
  const std::pair<const char*, double> expm1_scales[] = {
      {"|x| ~ 1e-30", 1e-30}, {"|x| ~ 1e-7", 1e-7}, {"|x| ~ 1e-3", 1e-3}, {"|x| ~ 30", 30}};
  for (const auto& [what, scale] : expm1_scales)
    cases.push_back({std::string("expm1 ") + what,
                     {scaled({4099}, scale)},
                     [](const TensorList& t) { return expm1(t[0]); }});
  cases.push_back({"expm1 at subnormals, overflow and its ends",
                   {from_vector<float>({1e-40f, -1e-40f, 88.f, 88.7f, 89.f, 200.f, -16.f, -17.f,
                                        -88.f, -104.f, -1e30f, 0.f, -0.f},
                                       {13})},
                   [](const TensorList& t) { return expm1(t[0]); },
                   false});
  // Bases and exponents crossed: negative bases with integer and fractional exponents, +-0 with
  // negative ones (+-inf), +-1, +-inf and NaN on either side.
  const Tensor bases = from_vector<float>({-3.f, -2.f, -1.f, -0.5f, -0.f, 0.f, 0.5f, 1.f, 2.f, 3.f,
                                           INFINITY, -INFINITY, NAN, -1e-30f, 1e30f},
                                          {15, 1});
  const Tensor exponents =
      from_vector<float>({-3.f, -2.f, -1.5f, -1.f, -0.5f, -0.f, 0.f, 0.5f, 1.f, 1.5f, 2.f, 3.f, 7.f,
                          1e10f, INFINITY, -INFINITY, NAN},
                         {17});
  cases.push_back({"pow of special bases and exponents",
                   {bases, exponents},
                   [](const TensorList& t) { return pow(t[0], t[1]); },
                   false});
  for (float e : {-3.f, -1.f, -0.5f, 0.f, 0.5f, 3.f, 1e10f})
    cases.push_back({"pow of special bases to " + std::to_string(e),
                     {bases},
                     [e](const TensorList& t) { return pow(t[0], double(e)); },
                     false});
  cases.push_back(
      {"pow of negative bases to integer exponents",
       {neg(add(abs(scaled({777}, 3)), 0.1)).detach(), floor(scaled({777}, 4)).detach()},
       [](const TensorList& t) { return pow(t[0], t[1]); },
       false});
  cases.push_back({"pow of huge and tiny results",
                   {add(abs(scaled({4099}, 1)), 1e-3).detach(), scaled({4099}, 30)},
                   [](const TensorList& t) { return pow(t[0], t[1]); },
                   false});
  check_cases(cases);
}

TEST_CASE("cpu loops: minimum, maximum and pow with broadcasting") {
  const std::tuple<const char*, Binary, Unary> ops_list[] = {
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, identity},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, identity},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, positive}};
  std::vector<Case> cases;
  uint64_t seed = 1100;
  for (const auto& [name, op, domain] : ops_list) {
    for (auto [sa, sb] : kBinaryShapes)
      cases.push_back({std::string(name) + " " + shape_str(sa) + " " + shape_str(sb),
                       {domain(coarse(sa, seed++)).detach(), coarse(sb, seed++)},
                       [op](const TensorList& t) { return op(t[0], t[1]); }});
    cases.push_back({std::string(name) + " transposed",
                     {domain(randn_f32({33, 17}, seed++)).detach(), randn_f32({17, 33}, seed++)},
                     [op](const TensorList& t) { return op(t[0].t(), t[1]); }});
    cases.push_back({std::string(name) + " NaN and inf",
                     {special_values_f32().view({18, 1}), special_values_f32()},
                     [op](const TensorList& t) { return op(t[0], t[1]); },
                     false});
  }
  check_cases(cases);
}

TEST_CASE("cpu loops: comparisons give bool outputs") {
  const std::pair<const char*, Binary> ops_list[] = {
      {"eq", [](const Tensor& a, const Tensor& b) { return eq(a, b); }},
      {"ne", [](const Tensor& a, const Tensor& b) { return ne(a, b); }},
      {"lt", [](const Tensor& a, const Tensor& b) { return lt(a, b); }},
      {"le", [](const Tensor& a, const Tensor& b) { return le(a, b); }},
      {"gt", [](const Tensor& a, const Tensor& b) { return gt(a, b); }},
      {"ge", [](const Tensor& a, const Tensor& b) { return ge(a, b); }}};
  std::vector<Case> cases;
  uint64_t seed = 1200;
  for (const auto& [name, op] : ops_list) {
    auto as_f32 = [op](const Tensor& a, const Tensor& b) {
      Tensor y = op(a, b);
      REQUIRE(y.dtype() == DType::b8);
      return y.to(DType::f32);
    };
    for (auto [sa, sb] : kBinaryShapes)
      cases.push_back({std::string(name) + " " + shape_str(sa) + " " + shape_str(sb),
                       {coarse(sa, seed++), coarse(sb, seed++)},
                       [as_f32](const TensorList& t) { return as_f32(t[0], t[1]); },
                       false});
    cases.push_back(
        {std::string(name) + " transposed and sliced",
         {coarse({33, 40}, seed++), coarse({17, 33}, seed++)},
         [as_f32](const TensorList& t) { return as_f32(t[0].narrow(1, 5, 17).t(), t[1]); },
         false});
    cases.push_back({std::string(name) + " NaN and inf",
                     {special_values_f32().view({18, 1}), special_values_f32()},
                     [as_f32](const TensorList& t) { return as_f32(t[0], t[1]); },
                     false});
  }
  cases.push_back({"gt against a scalar",
                   {coarse({1001}, seed++)},
                   [](const TensorList& t) { return gt(t[0], 0.5).to(DType::f32); },
                   false});
  check_cases(cases);
}

TEST_CASE("cpu loops: where and masked_fill with broadcast bool operands") {
  struct WhereCase {
    Shape cond, a, b;
  };
  const WhereCase wheres[] = {{{1}, {1}, {1}},
                              {{4097}, {4097}, {4097}},
                              {{65, 1}, {65, 33}, {}},
                              {{1, 33}, {}, {65, 33}},
                              {{2, 3, 1, 5}, {1, 3, 4, 1}, {2, 1, 4, 5}},
                              {{0, 4}, {4}, {0, 4}}};
  std::vector<Case> cases;
  uint64_t seed = 1300;
  for (const WhereCase& w : wheres) {
    Tensor cond = gt(randn_f32(w.cond, seed++), 0.0);
    cases.push_back({"where " + shape_str(w.cond) + " " + shape_str(w.a) + " " + shape_str(w.b),
                     {randn_f32(w.a, seed++), randn_f32(w.b, seed++)},
                     [cond](const TensorList& t) { return where(cond, t[0], t[1]); }});
  }
  cases.push_back({"where transposed condition and operand",
                   {randn_f32({31, 47}, seed++), randn_f32({47, 31}, seed++)},
                   [c = gt(randn_f32({31, 47}, seed++), 0.0)](const TensorList& t) {
                     return where(c.t(), t[0].t(), t[1]);
                   }});
  struct FillCase {
    Shape x, mask;
    double value;
  };
  const FillCase fills[] = {{{7}, {7}, 0.0},
                            {{64, 1000}, {64, 1000}, -1e9},
                            {{8, 17, 17}, {8, 1, 17}, -INFINITY},
                            {{5, 33}, {33}, 2.5},
                            {{}, {}, 1.0},
                            {{0, 3}, {3}, 1.0}};
  for (const FillCase& f : fills) {
    Tensor mask = gt(randn_f32(f.mask, seed++), 0.3);
    cases.push_back({"masked_fill " + shape_str(f.x) + " mask " + shape_str(f.mask),
                     {randn_f32(f.x, seed++)},
                     [mask, f](const TensorList& t) { return masked_fill(t[0], mask, f.value); }});
  }
  cases.push_back({"masked_fill transposed input",
                   {randn_f32({40, 23}, seed++)},
                   [m = gt(randn_f32({23, 40}, seed++), 0.0)](const TensorList& t) {
                     return masked_fill(t[0].t(), m, -3.0);
                   }});
  cases.push_back(
      {"masked_fill then softmax, a fully masked row left to NaN",
       {randn_f32({4, 6}, seed++)},
       [m = gt(
            from_vector<float>(
                {1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, {4, 6}),
            0.5)](const TensorList& t) { return softmax(masked_fill(t[0], m, -INFINITY), 1); },
       false});
  check_cases(cases);
}
