#include <cmath>
#include <limits>

#include "double_backward.h"
#include "support/op_test.h"

using namespace tutor;
using testing::check_close;
using testing::check_error;
using testing::check_gradient;
using testing::rand_leaf;

namespace {

const double kInf = std::numeric_limits<double>::infinity();

Tensor randf(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, DType::f64, &gen);
}

// The attention formula written out: softmax(q k^T * scale + additive) v.
Tensor composed(const Tensor& q, const Tensor& k, const Tensor& v,
                const Tensor& additive = Tensor(), std::optional<double> scale = {}) {
  Tensor s = mul(matmul(q, k.transpose(-2, -1)), scale.value_or(1 / std::sqrt(double(q.size(-1)))));
  if (additive.defined()) s = add(s, additive);
  return matmul(softmax(s, -1), v);
}

// 0 where keep is true, -inf elsewhere, built on the host.
Tensor additive_from(const Tensor& keep) {
  std::vector<double> v = keep.to_vector<double>();
  for (double& x : v) x = x != 0 ? 0.0 : -kInf;
  return from_vector(v, keep.sizes(), DType::f64);
}

// A bool mask from 0/1 values.
Tensor bool_mask(const NestedList& values) { return tensor(values, DType::b8); }

// [l, s] with true where j <= i.
Tensor lower_triangle(int64_t l, int64_t s) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < l; ++i)
    for (int64_t j = 0; j < s; ++j) v.push_back(j <= i);
  return from_vector(v, {l, s}, DType::b8);
}

Tensor sdpa(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask = Tensor(),
            bool is_causal = false) {
  return scaled_dot_product_attention(q, k, v, mask, 0, is_causal).output;
}

}  // namespace

OP_TEST("scaled_dot_product_attention", "values") {
  // one query [1, 0] against keys [1, 0] and [0, 1]: scores [1/sqrt(2), 0]
  {
    double a = std::exp(1 / std::sqrt(2.0)), w0 = a / (a + 1), w1 = 1 / (a + 1);
    auto r = scaled_dot_product_attention(tensor({{1, 0}}), tensor({{1, 0}, {0, 1}}),
                                          tensor({{1, 2}, {3, 4}}), Tensor(), 0, false, {}, nullptr,
                                          /*need_weights=*/true);
    check_close(r.output, tensor({{w0 + 3 * w1, 2 * w0 + 4 * w1}}));
    check_close(r.weights, tensor({{w0, w1}}));
    // scale 0: uniform weights; masking the second key leaves the first value
    check_close(scaled_dot_product_attention(tensor({{1, 0}}), tensor({{1, 0}, {0, 1}}),
                                             tensor({{1, 2}, {3, 4}}), Tensor(), 0, false, 0.0)
                    .output,
                tensor({{2, 3}}));
    check_close(sdpa(tensor({{1, 0}}), tensor({{1, 0}, {0, 1}}), tensor({{1, 2}, {3, 4}}),
                     bool_mask({{1, 0}})),
                tensor({{1, 2}}));
  }
  Tensor q = randf({2, 2, 3, 4}, 1), k = randf({2, 2, 5, 4}, 2), v = randf({2, 2, 5, 6}, 3);
  check_close(sdpa(q, k, v), composed(q, k, v), 1e-12);
  check_close(scaled_dot_product_attention(q, k, v, Tensor(), 0, false, 0.3).output,
              composed(q, k, v, Tensor(), 0.3), 1e-12);
  // broadcast batch dims, non-contiguous inputs ([L, B, E] permuted to [B, L, E])
  Tensor k1 = randf({1, 5, 4}, 4), v1 = randf({5, 6}, 5);
  check_close(sdpa(q, k1, v1), composed(q, k1, v1), 1e-12);
  Tensor qt = randf({3, 2, 4}, 6);
  check_close(sdpa(qt.permute({1, 0, 2}), k1.transpose(-2, -1).transpose(-2, -1), v1),
              composed(qt.permute({1, 0, 2}).contiguous(), k1, v1), 1e-12);
  // additive mask, broadcast; bool mask equals the -inf additive mask
  Tensor bias = randf({3, 5}, 7);
  check_close(sdpa(q, k, v, bias), composed(q, k, v, bias), 1e-12);
  Tensor keep = bool_mask({{1, 0, 1, 1, 0}, {0, 0, 0, 0, 1}, {1, 1, 1, 1, 1}});
  check_close(sdpa(q, k, v, keep), composed(q, k, v, additive_from(keep)), 1e-12);
  Tensor keep4 = from_vector(std::vector<int64_t>{1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0,
                                                  0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1},
                             {2, 1, 3, 5}, DType::b8);
  check_close(sdpa(q, k, v, keep4), composed(q, k, v, additive_from(keep4)), 1e-12);
  // causal: top-left aligned lower triangle, also for L != S
  check_close(sdpa(q, k, v, Tensor(), true), sdpa(q, k, v, lower_triangle(3, 5)), 1e-15);
  check_close(sdpa(q, k, v, Tensor(), true), composed(q, k, v, additive_from(lower_triangle(3, 5))),
              1e-12);
  Tensor qs = randf({4, 2}, 8), ks = randf({4, 2}, 9), vs = randf({4, 3}, 10);
  check_close(sdpa(qs, ks, vs, Tensor(), true).select(0, 0), vs.select(0, 0),
              1e-15);  // first query sees key 0 only
  // weights: the softmax of the scores, rows summing to one
  auto r = scaled_dot_product_attention(q, k, v, bias, 0, false, {}, nullptr, true);
  check_close(r.weights, softmax(add(mul(matmul(q, k.transpose(-2, -1)), 0.5), bias), -1), 1e-12);
  check_close(sum(r.weights, {-1}), ones({2, 2, 3}, DType::f64), 1e-12);
  CHECK_FALSE(scaled_dot_product_attention(q, k, v).weights.defined());
  // fully masked rows give zero weights and zero output (PyTorch >= 2.5's math backend)
  auto m = scaled_dot_product_attention(
      qs, ks, vs, bool_mask({{1, 1, 1, 1}, {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 0}}), 0, false, {},
      nullptr, true);
  check_close(m.output.select(0, 1), zeros({3}, DType::f64));
  check_close(m.output.select(0, 3), zeros({3}, DType::f64));
  check_close(m.weights.select(0, 1), zeros({4}, DType::f64));
  check_close(m.output.select(0, 2), vs.select(0, 0), 1e-15);
  check_close(sdpa(qs, ks, vs, full({4, 4}, -kInf, DType::f64)), zeros({4, 3}, DType::f64));
  // empty sequences; f32
  CHECK(sdpa(zeros({2, 0, 4}), zeros({2, 5, 4}), zeros({2, 5, 3})).sizes() == Shape{2, 0, 3});
  check_close(sdpa(zeros({2, 3, 4}), zeros({2, 0, 4}), zeros({2, 0, 3})), zeros({2, 3, 3}));
  check_close(sdpa(tensor({{1, 0}}), tensor({{1, 0}, {0, 1}}), tensor({{1, 2}, {3, 4}})),
              sdpa(tensor({{1, 0}}, DType::f64), tensor({{1, 0}, {0, 1}}, DType::f64),
                   tensor({{1, 2}, {3, 4}}, DType::f64)),
              1e-6);
}

OP_TEST("scaled_dot_product_attention", "dropout") {
  // q = k = 0: every weight is 1/S, so with v = I the output holds keep / (S (1 - p)) per weight
  const int64_t n = 64;
  Tensor q = zeros({n, 2}, DType::f64), v = eye(n, {}, DType::f64);
  Generator gen(42);
  Tensor out = scaled_dot_product_attention(q, q, v, Tensor(), 0.5, false, {}, &gen).output;
  std::vector<double> values = out.to_vector<double>();
  int64_t kept = 0;
  for (double x : values) {
    bool zero = x == 0, scaled = std::fabs(x - 2.0 / double(n)) < 1e-15;
    CHECK((zero || scaled));
    kept += scaled;
  }
  double fraction = double(kept) / double(values.size());
  CHECK(fraction == doctest::Approx(0.5).epsilon(0.06));  // 4096 draws: sigma ~ 0.008
  // the expectation is preserved: mean row sum ~ 1
  CHECK(sum(out).item() / double(n) == doctest::Approx(1.0).epsilon(0.06));
  // determinism under a fixed generator; another seed differs
  Generator same(42), other(43);
  check_close(scaled_dot_product_attention(q, q, v, Tensor(), 0.5, false, {}, &same).output, out,
              0);
  Tensor different = scaled_dot_product_attention(q, q, v, Tensor(), 0.5, false, {}, &other).output;
  CHECK(different.to_vector<double>() != values);
  // p = 1 drops everything; the returned weights are those before dropout
  auto all = scaled_dot_product_attention(q, q, v, Tensor(), 1.0, false, {}, &gen, true);
  check_close(all.output, zeros({n, n}, DType::f64));
  check_close(all.weights, full({n, n}, 1.0 / double(n), DType::f64));
}

OP_TEST("scaled_dot_product_attention", "gradient") {
  auto plain = [](const TensorList& t) { return TensorList{sdpa(t[0], t[1], t[2])}; };
  check_gradient(plain, {rand_leaf({3, 2}, 1), rand_leaf({4, 2}, 2), rand_leaf({4, 3}, 3)});
  check_gradient(plain, {rand_leaf({2, 2, 3}, 4), rand_leaf({1, 3, 3}, 5), rand_leaf({3, 2}, 6)});
  check_gradient(plain, {rand_leaf({1, 1}, 7), rand_leaf({1, 1}, 8), rand_leaf({1, 1}, 9)});
  // non-contiguous views, a custom scale, and the weights as a second output
  check_gradient(
      [](const TensorList& t) {
        auto r = scaled_dot_product_attention(t[0].transpose(0, 1), t[1], t[2], Tensor(), 0, false,
                                              1.7, nullptr, true);
        return TensorList{r.output, r.weights};
      },
      {rand_leaf({3, 2, 2}, 10), rand_leaf({2, 4, 2}, 11), rand_leaf({2, 4, 2}, 12)});
  // bool and causal masks (with a fully masked row), and an additive mask that gets a gradient
  Tensor keep = bool_mask({{1, 0, 1, 1}, {0, 0, 0, 0}, {0, 1, 0, 0}});
  check_gradient([keep](const TensorList& t) { return TensorList{sdpa(t[0], t[1], t[2], keep)}; },
                 {rand_leaf({2, 3, 2}, 13), rand_leaf({2, 4, 2}, 14), rand_leaf({2, 4, 3}, 15)});
  check_gradient(
      [](const TensorList& t) { return TensorList{sdpa(t[0], t[1], t[2], Tensor(), true)}; },
      {rand_leaf({3, 2}, 16), rand_leaf({4, 2}, 17), rand_leaf({4, 2}, 18)});
  check_gradient([](const TensorList& t) { return TensorList{sdpa(t[0], t[1], t[2], t[3])}; },
                 {rand_leaf({2, 3, 2}, 19), rand_leaf({2, 4, 2}, 20), rand_leaf({2, 4, 2}, 21),
                  rand_leaf({3, 4}, 22)});
  // dropout with a generator reseeded on every call: a fixed mask
  check_gradient(
      [](const TensorList& t) {
        Generator gen(5);
        return TensorList{
            scaled_dot_product_attention(t[0], t[1], t[2], Tensor(), 0.4, false, {}, &gen).output};
      },
      {rand_leaf({3, 2}, 23), rand_leaf({4, 2}, 24), rand_leaf({4, 2}, 25)});
}

// The attention kernels (no weights asked for) against the composite path (weights asked for),
// forward and the gradients of sum(out * r), in f64 and f32 (each dtype's kernels: reference f64,
// cpu f32).
OP_TEST("scaled_dot_product_attention", "values: kernel and composite paths agree") {
  auto check = [](DType dtype, const Tensor& q, const Tensor& k, const Tensor& v,
                  const Tensor& mask, bool causal, double tolerance) {
    auto run = [&](bool weights) {
      TensorList leaves = {q.to(dtype).detach().requires_grad_(),
                           k.to(dtype).detach().requires_grad_(),
                           v.to(dtype).detach().requires_grad_()};
      Tensor m = mask.defined() && mask.dtype() != DType::b8 ? mask.to(dtype) : mask;
      auto r = scaled_dot_product_attention(leaves[0], leaves[1], leaves[2], m, 0, causal, {},
                                            nullptr, weights);
      CHECK(r.weights.defined() == weights);
      sum(mul(r.output, randf(r.output.sizes(), 99).to(dtype))).backward();
      return TensorList{r.output.detach(), leaves[0].grad(), leaves[1].grad(), leaves[2].grad()};
    };
    TensorList kernel = run(false), composite = run(true);
    for (size_t i = 0; i < kernel.size(); ++i) {
      INFO("dtype ", dtype_name(dtype), ", tensor ", i, " (output, dq, dk, dv)");
      check_close(kernel[i], composite[i], tolerance, tolerance);
    }
  };
  Tensor q = randf({2, 3, 70, 8}, 30), k = randf({2, 3, 90, 8}, 31), v = randf({2, 3, 90, 5}, 32);
  std::vector<int64_t> keep_values;
  for (int64_t n = 0; n < 70 * 90; ++n) keep_values.push_back(n / 90 != 4 && n % 7 != 0);
  Tensor keep = from_vector(keep_values, {70, 90}, DType::b8);  // row 4 fully masked
  Tensor bias = randf({3, 70, 90}, 33);
  Tensor bias_inf = masked_fill(bias, logical_not(keep), -kInf);
  for (DType dtype : {DType::f64, DType::f32}) {
    const double tol = dtype == DType::f64 ? 1e-12 : 2e-5;
    check(dtype, q, k, v, Tensor(), false, tol);
    check(dtype, q, k, v, Tensor(), true, tol);
    check(dtype, q, k, v, keep, false, tol);
    check(dtype, q, k, v, bias, false, tol);
    check(dtype, q, k, v, bias_inf, false, tol);
    check(dtype, q.permute({2, 0, 1, 3}).contiguous().permute({1, 2, 0, 3}), k.select(0, 0),
          v.select(0, 0).select(0, 1), Tensor(), false, tol);
  }
}

OP_TEST("scaled_dot_product_attention", "gradient: kernel path, broadcast, second order") {
  // a constant additive mask (with -inf) and batch dims broadcast between q and k, v
  Tensor bias =
      masked_fill(randf({3, 4}, 40), bool_mask({{0, 1, 0, 0}, {0, 0, 0, 0}, {1, 1, 1, 1}}), -kInf);
  check_gradient(
      [bias](const TensorList& t) { return TensorList{sdpa(t[0], t[1], t[2], bias)}; },
      {rand_leaf({2, 1, 3, 2}, 41), rand_leaf({1, 2, 4, 2}, 42), rand_leaf({2, 2, 4, 3}, 43)});
  // create_graph through the kernel path's backward (it then runs as differentiable ops)
  Tensor k = rand_leaf({2, 5, 3}, 44), v = rand_leaf({2, 5, 2}, 45);
  testing::check_double_backward([k, v](const Tensor& q) { return sdpa(q, k, v); }, {2, 4, 3});
  testing::check_double_backward([k, v](const Tensor& q) { return sdpa(q, k, v, Tensor(), true); },
                                 {2, 4, 3});
  testing::check_double_backward([k](const Tensor& x) { return sdpa(k, k, x); }, {2, 5, 2});
}

OP_TEST("scaled_dot_product_attention", "errors") {
  const char* op = "scaled_dot_product_attention";
  Tensor q = zeros({2, 3, 4}), k = zeros({2, 5, 4}), v = zeros({2, 5, 6});
  check_error([&] { sdpa(q, zeros({2, 5, 3}), v); }, {op, "[2, 3, 4]", "[2, 5, 3]"});
  check_error([&] { sdpa(q, k, zeros({2, 4, 6})); }, {op, "[2, 5, 4]", "[2, 4, 6]"});
  check_error([&] { sdpa(q, zeros({3, 5, 4}), zeros({3, 5, 6})); }, {op, "[2, 3, 4]", "[3, 5, 4]"});
  check_error([&] { sdpa(zeros({4}), zeros({4}), zeros({4})); }, {op, "[4]"});
  check_error([&] { sdpa(q, k, v, zeros({3, 4})); }, {op, "[3, 4]", "[2, 3, 5]"});
  check_error([&] { sdpa(q, k, v, zeros({4, 3, 5})); }, {op, "[4, 3, 5]", "[2, 3, 5]"});
  check_error([&] { sdpa(q, k, v, zeros({3, 5}, DType::i64)); }, {op, "i64", "[3, 5]"});
  check_error([&] { sdpa(q, k, v, zeros({3, 5}), true); }, {op, "is_causal", "[3, 5]"});
  check_error([&] { sdpa(q, k, zeros({2, 5, 6}, DType::f64)); }, {op, "f32", "f64"});
  check_error([&] { scaled_dot_product_attention(q, k, v, Tensor(), 1.5); },
              {op, "dropout_p", "1.5"});
  check_error(
      [&] {
        sdpa(zeros({2, 3}, DType::i64), zeros({2, 3}, DType::i64), zeros({2, 3}, DType::i64));
      },
      {op, "i64", "[2, 3]"});
}
