#include "support/op_test.h"

using namespace tutor;
using testing::check_close;
using testing::check_error;
using testing::check_gradient;
using testing::rand_leaf;

namespace {

Tensor randf(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, DType::f64, &gen);
}

// out[..., i, j] = sum_r a[..., i, r] b[..., r, j] over the broadcast batch dims of two inputs of
// at least 2 dims, by index arithmetic on their row-major values.
Tensor naive_matmul(const Tensor& a, const Tensor& b) {
  std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>();
  Shape sa = a.sizes(), sb = b.sizes();
  const int64_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
  REQUIRE(sb[sb.size() - 2] == k);
  const size_t nb = std::max(sa.size(), sb.size()) - 2;
  // batch dims padded on the left with 1
  Shape ba(nb, 1), bb(nb, 1), batch(nb);
  for (size_t i = 0; i < sa.size() - 2; ++i) ba[nb - (sa.size() - 2) + i] = sa[i];
  for (size_t i = 0; i < sb.size() - 2; ++i) bb[nb - (sb.size() - 2) + i] = sb[i];
  for (size_t i = 0; i < nb; ++i) batch[i] = std::max(ba[i], bb[i]);
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  std::vector<double> out(size_t(shape_numel(out_shape)), 0.0);
  const int64_t nbatch = shape_numel(batch);
  for (int64_t p = 0; p < nbatch; ++p) {
    int64_t rest = p, pa = 0, pb = 0, ma = 1, mb = 1;
    for (size_t d = nb; d-- > 0;) {
      int64_t idx = rest % batch[d];
      rest /= batch[d];
      pa += (ba[d] == 1 ? 0 : idx) * ma;
      pb += (bb[d] == 1 ? 0 : idx) * mb;
      ma *= ba[d];
      mb *= bb[d];
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t r = 0; r < k; ++r)
          s += av[size_t((pa * m + i) * k + r)] * bv[size_t((pb * k + r) * n + j)];
        out[size_t((p * m + i) * n + j)] = s;
      }
  }
  return from_vector(out, out_shape, DType::f64);
}

// Every pair of shapes below exercises one class of torch.matmul's rules.
const std::vector<std::pair<Shape, Shape>> kMatmulShapes = {
    {{3}, {3}},                 // dot
    {{3}, {3, 2}},              // 1-D promoted on the left
    {{2, 3}, {3}},              // 1-D promoted on the right
    {{2, 3}, {3, 4}},           // matrices
    {{2, 1, 2, 3}, {3, 3, 2}},  // broadcast batch dims
    {{2, 3}, {2, 3, 2}},        // matrix times a batch
    {{2, 2, 3}, {3, 2}},        // batch times a matrix (folded into one product)
    {{3}, {2, 3, 2}},           // 1-D times a batch
    {{2, 2, 3}, {3}},           // batch times 1-D
    {{1, 1}, {1, 1}},           // size-1 everything
};

}  // namespace

OP_TEST("matmul", "values") {
  check_close(matmul(tensor({{1, 2}, {3, 4}}), tensor({{5, 6}, {7, 8}})),
              tensor({{19, 22}, {43, 50}}));
  check_close(matmul(tensor({1, 2, 3}), tensor({4, 5, 6})), tensor(32));  // 0-dim dot product
  check_close(matmul(tensor({1, 2}), tensor({{1, 2, 3}, {4, 5, 6}})), tensor({9, 12, 15}));
  check_close(matmul(tensor({{1, 2}, {3, 4}}), tensor({1, 1})), tensor({3, 7}));
  check_close(matmul(arange(6).view({2, 3}), arange(3)), tensor({5, 14}, DType::i64));

  // every shape class against the triple loop, on random inputs
  uint64_t seed = 1;
  for (const auto& [sa, sb] : kMatmulShapes) {
    INFO("shapes ", shape_str(sa), " x ", shape_str(sb));
    Tensor a = randf(sa, seed++), b = randf(sb, seed++);
    Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a, b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
    Tensor expected = naive_matmul(a2, b2);
    if (a.dim() == 1) expected = expected.squeeze(-2);
    if (b.dim() == 1) expected = expected.squeeze(-1);
    check_close(matmul(a, b), expected, 1e-12, 1e-12);
  }
  // non-contiguous inputs: transposed, sliced with a step, permuted batches
  Tensor x = randf({5, 4}, 20), y = randf({6, 5}, 21);
  check_close(matmul(x.t(), y.t()), naive_matmul(x.t().contiguous(), y.t().contiguous()), 1e-12);
  Tensor z = randf({3, 8, 4}, 22);
  check_close(matmul(z.slice(1, 0, 8, 2), x.t()),
              naive_matmul(z.slice(1, 0, 8, 2).contiguous(), x.t().contiguous()), 1e-12);
  Tensor w = randf({4, 2, 3}, 23);
  check_close(matmul(w.permute({1, 0, 2}), randf({2, 3, 5}, 24)),
              naive_matmul(w.permute({1, 0, 2}).contiguous(), randf({2, 3, 5}, 24)), 1e-12);
  // a broadcast (stride-0) operand
  check_close(matmul(randf({3, 1}, 25).expand({3, 4}), randf({4, 2}, 26)),
              naive_matmul(randf({3, 1}, 25).expand({3, 4}).contiguous(), randf({4, 2}, 26)),
              1e-12);

  // K = 0 gives zeros; other empty dims give empty results
  check_close(matmul(zeros({3, 0}), zeros({0, 4})), zeros({3, 4}));
  check_close(matmul(zeros({2, 3, 0}), zeros({0, 2})), zeros({2, 3, 2}));
  check_close(matmul(zeros({0}), zeros({0})), zeros({}));
  CHECK(matmul(zeros({0, 3}), zeros({3, 2})).sizes() == Shape{0, 2});
  CHECK(matmul(zeros({0, 2, 3}), zeros({1, 3, 2})).sizes() == Shape{0, 2, 2});
  // f32
  check_close(matmul(tensor({{1.5f, -2.f}}), tensor({{2.f}, {0.25f}})), tensor({{2.5}}));
}

OP_TEST("matmul", "gradient") {
  uint64_t seed = 100;
  for (const auto& [sa, sb] : kMatmulShapes) {
    INFO("shapes ", shape_str(sa), " x ", shape_str(sb));
    check_gradient([](const TensorList& t) { return TensorList{matmul(t[0], t[1])}; },
                   {rand_leaf(sa, seed), rand_leaf(sb, seed + 1)});
    seed += 2;
  }
  // non-contiguous views taken inside the function
  check_gradient(
      [](const TensorList& t) { return TensorList{matmul(t[0].t(), t[1].transpose(0, 1))}; },
      {rand_leaf({4, 3}, 1), rand_leaf({2, 4}, 2)});
  check_gradient(
      [](const TensorList& t) {
        return TensorList{matmul(t[0].slice(1, 0, 6, 2), t[1].permute({0, 2, 1}))};
      },
      {rand_leaf({2, 6, 3}, 3), rand_leaf({2, 2, 3}, 4)});
  check_gradient([](const TensorList& t) { return TensorList{matmul(t[0].transpose(0, 1), t[1])}; },
                 {rand_leaf({3, 2, 4}, 12), rand_leaf({4, 2}, 13)});  // folded after a copy
  // K = 0 (the gradient of the other operand is zero) and an empty batch
  check_gradient([](const TensorList& t) { return TensorList{matmul(t[0], t[1])}; },
                 {rand_leaf({3, 0}, 5), rand_leaf({0, 2}, 6)});
  check_gradient([](const TensorList& t) { return TensorList{matmul(t[0], t[1])}; },
                 {rand_leaf({0, 2, 3}, 7), rand_leaf({3, 2}, 8)});
  // second derivatives: gradcheck the gradient itself (gradcheck's finite differences run with
  // grad mode off, and this function needs it on)
  check_gradient(
      [](const TensorList& t) {
        EnableGradGuard grad_on;
        Tensor y = matmul(t[0], t[1]);
        return autograd::grad({y}, {t[0], t[1]}, {t[2]}, true, true);
      },
      {rand_leaf({2, 1, 3}, 9), rand_leaf({2, 3, 2}, 10), rand_leaf({2, 1, 2}, 11)});
}

OP_TEST("matmul", "errors") {
  check_error([] { matmul(zeros({2, 3}), zeros({4, 5})); }, {"matmul", "[2, 3]", "[4, 5]"});
  check_error([] { matmul(zeros({3}), zeros({4})); }, {"matmul", "[3]", "[4]"});
  check_error(
      [] {
        matmul(zeros({2, 2, 3}), zeros({3, 3, 2}));
      },
      {"matmul", "[2, 2, 3]", "[3, 3, 2]"});
  check_error([] { matmul(zeros({}), zeros({3})); }, {"matmul", "[]", "[3]"});
  check_error([] { matmul(zeros({2, 2}), zeros({2, 2}, DType::f64)); }, {"matmul", "f32", "f64"});
}

OP_TEST("bmm", "values") {
  Tensor a = randf({3, 2, 4}, 1), b = randf({3, 4, 5}, 2);
  check_close(bmm(a, b), naive_matmul(a, b), 1e-12);
  check_close(bmm(a.transpose(1, 2).transpose(1, 2), b), naive_matmul(a, b), 1e-12);
  Tensor c = randf({4, 3, 2}, 3);  // non-contiguous: [3, 2, 4] from a permuted view
  check_close(bmm(c.permute({1, 2, 0}), b), naive_matmul(c.permute({1, 2, 0}).contiguous(), b),
              1e-12);
  check_close(bmm(tensor({{{1, 2}}, {{3, 4}}}), tensor({{{1}, {1}}, {{2}, {0}}})),
              tensor({{{3}}, {{6}}}));
  check_close(bmm(zeros({2, 3, 0}), zeros({2, 0, 4})), zeros({2, 3, 4}));
  CHECK(bmm(zeros({0, 3, 2}), zeros({0, 2, 4})).sizes() == Shape{0, 3, 4});
}

OP_TEST("bmm", "gradient") {
  check_gradient([](const TensorList& t) { return TensorList{bmm(t[0], t[1])}; },
                 {rand_leaf({2, 3, 4}, 1), rand_leaf({2, 4, 2}, 2)});
  check_gradient([](const TensorList& t) { return TensorList{bmm(t[0].transpose(1, 2), t[1])}; },
                 {rand_leaf({2, 4, 3}, 3), rand_leaf({2, 4, 1}, 4)});
  check_gradient([](const TensorList& t) { return TensorList{bmm(t[0], t[1])}; },
                 {rand_leaf({1, 1, 1}, 5), rand_leaf({1, 1, 3}, 6)});
}

OP_TEST("bmm", "errors") {
  check_error([] { bmm(zeros({2, 3}), zeros({3, 2})); }, {"bmm", "[2, 3]", "[3, 2]"});
  check_error([] { bmm(zeros({2, 2, 3}), zeros({3, 3, 2})); }, {"bmm", "[2, 2, 3]", "[3, 3, 2]"});
  check_error([] { bmm(zeros({2, 2, 3}), zeros({2, 4, 2})); }, {"bmm", "[2, 2, 3]", "[2, 4, 2]"});
}

OP_TEST("linear", "values") {
  // [1, 2] W^T + b with W = [[1, 0], [1, 1], [0, 2]], b = [1, 2, 3]
  Tensor w = tensor({{1, 0}, {1, 1}, {0, 2}}), b = tensor({1, 2, 3});
  check_close(linear(tensor({1, 2}), w, b), tensor({2, 5, 7}));
  check_close(linear(tensor({{1, 2}, {0, 1}}), w), tensor({{1, 3, 4}, {0, 1, 2}}));
  Tensor x = randf({2, 3, 4}, 1), wr = randf({5, 4}, 2), br = randf({5}, 3);
  check_close(linear(x, wr, br), add(naive_matmul(x, wr.t().contiguous()), br), 1e-12);
  check_close(linear(x.transpose(0, 1), wr, br),
              add(naive_matmul(x.transpose(0, 1).contiguous(), wr.t().contiguous()), br), 1e-12);
  CHECK(linear(zeros({0, 4}, DType::f64), wr, br).sizes() == Shape{0, 5});
  check_close(linear(zeros({2, 0}), zeros({3, 0}), tensor({1, 2, 3})),
              tensor({{1, 2, 3}, {1, 2, 3}}));
}

OP_TEST("linear", "gradient") {
  check_gradient([](const TensorList& t) { return TensorList{linear(t[0], t[1], t[2])}; },
                 {rand_leaf({3, 4}, 1), rand_leaf({2, 4}, 2), rand_leaf({2}, 3)});
  check_gradient([](const TensorList& t) { return TensorList{linear(t[0], t[1])}; },
                 {rand_leaf({2, 3, 4}, 4), rand_leaf({3, 4}, 5)});
  check_gradient([](const TensorList& t) { return TensorList{linear(t[0], t[1], t[2])}; },
                 {rand_leaf({4}, 6), rand_leaf({1, 4}, 7), rand_leaf({1}, 8)});
  check_gradient(
      [](const TensorList& t) { return TensorList{linear(t[0].transpose(0, 1), t[1], t[2])}; },
      {rand_leaf({3, 2, 4}, 9), rand_leaf({2, 4}, 10), rand_leaf({2}, 11)});
}

OP_TEST("linear", "errors") {
  check_error([] { linear(zeros({2, 3}), zeros({4, 5})); }, {"linear", "[2, 3]", "[4, 5]"});
  check_error(
      [] {
        linear(zeros({2, 3}), zeros({4, 3}), zeros({3}));
      },
      {"linear", "[3]", "[4, 3]"});
  check_error([] { linear(zeros({2, 3}), zeros({3})); }, {"linear", "[3]"});
}

OP_TEST("outer", "values") {
  check_close(outer(tensor({1, 2}), tensor({3, 4, 5})), tensor({{3, 4, 5}, {6, 8, 10}}));
  check_close(outer(tensor({1, 2, 3, 4}).slice(0, 0, 4, 2), tensor({2})), tensor({{2}, {6}}));
  CHECK(outer(zeros({0}), zeros({3})).sizes() == Shape{0, 3});
}

OP_TEST("outer", "gradient") {
  check_gradient([](const TensorList& t) { return TensorList{outer(t[0], t[1])}; },
                 {rand_leaf({3}, 1), rand_leaf({4}, 2)});
  check_gradient(
      [](const TensorList& t) { return TensorList{outer(t[0].slice(0, 0, 6, 3), t[1])}; },
      {rand_leaf({6}, 3), rand_leaf({1}, 4)});
}

OP_TEST("outer", "errors") {
  check_error([] { outer(zeros({2, 3}), zeros({3})); }, {"outer", "[2, 3]", "[3]"});
}

namespace {

// A random symmetric positive-definite [..., n, n] matrix: X X^T + n I.
Tensor random_spd(const Shape& batch, int64_t n, uint64_t seed) {
  Shape shape = batch;
  shape.push_back(n);
  shape.push_back(n);
  Tensor x = randf(shape, seed);
  return matmul(x, x.transpose(-2, -1)) + eye(n, {}, DType::f64) * double(n);
}

}  // namespace

OP_TEST("cholesky", "values") {
  // The textbook example: [[4, 12, -16], [12, 37, -43], [-16, -43, 98]] = L L^T.
  Tensor a = tensor({{4, 12, -16}, {12, 37, -43}, {-16, -43, 98}}, DType::f64);
  Tensor l = tensor({{2, 0, 0}, {6, 1, 0}, {-8, 5, 3}}, DType::f64);
  check_close(cholesky(a), l, 1e-12, 0);
  check_close(cholesky(a.to(DType::f32)), l.to(DType::f32), 1e-5, 0);
  // Only the lower triangle is read.
  check_close(cholesky(a + triu(full({3, 3}, 7.0, DType::f64), 1)), l, 1e-12, 0);
  // Batched, against L L^T = A; the factor is lower triangular with a positive diagonal.
  Tensor b = random_spd({2, 3}, 4, 5);
  Tensor lb = cholesky(b);
  CHECK(lb.sizes() == Shape{2, 3, 4, 4});
  check_close(matmul(lb, lb.transpose(-2, -1)), b, 1e-12, 1e-12);
  check_close(triu(lb, 1), zeros_like(lb), 0, 0);
  CHECK(min((lb * eye(4, {}, DType::f64)).sum({-1})).item() > 0);
  check_close(cholesky(b.to(DType::f32)), lb, 1e-5, 1e-5);
  CHECK(cholesky(zeros({0, 0}, DType::f64)).sizes() == Shape{0, 0});
}

OP_TEST("cholesky", "gradient") {
  // Through a general leaf (only its lower triangle matters) and through a symmetric product.
  Tensor a = random_spd({}, 4, 11).detach().requires_grad_();
  check_gradient([](const TensorList& t) { return TensorList{cholesky(t[0])}; }, {a});
  check_gradient(
      [](const TensorList& t) {
        return TensorList{
            cholesky(matmul(t[0], t[0].transpose(-2, -1)) + eye(3, {}, DType::f64) * 0.5)};
      },
      {rand_leaf({2, 3, 3}, 12)});
  testing::check_f32_backward([](const TensorList& t) { return TensorList{cholesky(t[0])}; },
                              {random_spd({2}, 3, 13).detach().requires_grad_()});
}

OP_TEST("cholesky", "errors") {
  check_error(
      [] {
        cholesky(tensor({{1, 2}, {2, 1}}, DType::f64));
      },
      {"cholesky", "not positive-definite", "order 2"});
  check_error([] { cholesky(zeros({2, 3})); }, {"cholesky", "square", "[2, 3]"});
  check_error([] { cholesky(zeros({3})); }, {"cholesky", "[3]"});
  check_error([] { cholesky(zeros({2, 2}, DType::i64)); }, {"cholesky"});
}

OP_TEST("cholesky_inverse", "values") {
  Tensor a = tensor({{4, 12, -16}, {12, 37, -43}, {-16, -43, 98}}, DType::f64);
  Tensor l = tensor({{2, 0, 0}, {6, 1, 0}, {-8, 5, 3}}, DType::f64);
  check_close(matmul(cholesky_inverse(l), a), eye(3, {}, DType::f64), 1e-10, 0);
  // Only the lower triangle of the factor is read.
  check_close(cholesky_inverse(l + triu(full({3, 3}, 5.0, DType::f64), 1)), cholesky_inverse(l), 0,
              0);
  // 1x1: 1 / l^2.
  check_close(cholesky_inverse(tensor({{2.0}}, DType::f64)), tensor({{0.25}}, DType::f64), 0, 0);
  Tensor b = random_spd({3}, 5, 21);
  Tensor y = cholesky_inverse(cholesky(b));
  check_close(matmul(y, b), eye(5, {}, DType::f64).expand({3, 5, 5}), 1e-10, 0);
  check_close(y, y.transpose(-2, -1), 1e-14, 0);
  check_close(cholesky_inverse(cholesky(b).to(DType::f32)), y, 1e-5, 1e-4);
}

OP_TEST("cholesky_inverse", "gradient") {
  // A general leaf whose diagonal stays away from 0; its upper triangle gets a zero gradient.
  Tensor l = (rand_leaf({4, 4}, 31) + eye(4, {}, DType::f64) * 3).detach().requires_grad_();
  check_gradient([](const TensorList& t) { return TensorList{cholesky_inverse(t[0])}; }, {l});
  Tensor lb = (rand_leaf({2, 3, 3}, 32) + eye(3, {}, DType::f64) * 2).detach().requires_grad_();
  check_gradient([](const TensorList& t) { return TensorList{cholesky_inverse(t[0])}; }, {lb});
  testing::check_f32_backward(
      [](const TensorList& t) { return TensorList{cholesky_inverse(t[0])}; }, {lb});
}

OP_TEST("cholesky_inverse", "errors") {
  check_error(
      [] {
        cholesky_inverse(tensor({{1, 0}, {3, 0}}, DType::f64));
      },
      {"cholesky_inverse", "zero", "diagonal entry 1"});
  check_error([] { cholesky_inverse(zeros({2, 3})); }, {"cholesky_inverse", "square", "[2, 3]"});
}
