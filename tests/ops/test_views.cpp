// Views share storage, have the right geometry, and pass gradients back to their base.
#include "support/op_test.h"

using namespace tutor;
using testing::check_close;
using testing::check_error;
using testing::check_gradient;
using testing::rand_leaf;

namespace {

Tensor iota(const Shape& shape, DType dtype = DType::f32) {
  return arange(0, double(shape_numel(shape)), 1, dtype).view(shape);
}

// The gradient test every view gets: f applied to the leaf (and to a transposed leaf, so the view
// starts from non-contiguous strides).
template <class F>
void check_view_gradient(const Shape& shape, F f) {
  check_gradient([&](const TensorList& x) { return TensorList{f(x[0])}; }, {rand_leaf(shape)});
}

}  // namespace

OP_TEST("view", "values") {
  Tensor x = iota({2, 3});
  Tensor v = x.view({3, 2});
  CHECK(v.shares_storage(x));
  CHECK(v.to_vector<float>() == x.to_vector<float>());
  CHECK(x.view({-1}).sizes() == Shape{6});
  CHECK(x.view({1, 2, 1, 3}).strides() == Shape{6, 3, 3, 1});
  {
    NoGradGuard g;
    v.fill_(1);  // writes through to the base
  }
  CHECK(x.to_vector<float>() == std::vector<float>(6, 1.0f));
  CHECK(zeros({0, 3}).view({3, 0}).numel() == 0);
}

OP_TEST("view", "gradient") {
  check_view_gradient({2, 3}, [](const Tensor& x) { return x.view({3, 2}); });
  check_view_gradient({2, 3}, [](const Tensor& x) { return x.view({6}); });
}

OP_TEST("view", "errors") {
  check_error([] { iota({2, 3}).view({4}); }, {"view", "[4]", "6"});
  check_error([] { iota({2, 3}).t().view({6}); }, {"view", "[3, 2]", "reshape"});
  check_error([] { iota({2, 3}).view({-1, -1}); }, {"view", "-1"});
}

OP_TEST("reshape", "values") {
  Tensor x = iota({2, 3});
  CHECK(x.reshape({3, 2}).shares_storage(x));
  Tensor r = x.t().reshape({6});  // needs a copy
  CHECK(!r.shares_storage(x));
  CHECK(r.to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
}

OP_TEST("reshape", "gradient") {
  check_view_gradient({2, 3}, [](const Tensor& x) { return x.t().reshape({6}); });
  check_view_gradient({4}, [](const Tensor& x) { return x.reshape({2, -1}); });
}

OP_TEST("flatten", "values") {
  Tensor x = iota({2, 3, 4});
  CHECK(x.flatten().sizes() == Shape{24});
  CHECK(x.flatten(1).sizes() == Shape{2, 12});
  CHECK(x.flatten(0, 1).sizes() == Shape{6, 4});
  CHECK(scalar_tensor(1).flatten().sizes() == Shape{1});
  check_error([] { iota({2, 3}).flatten(1, 0); }, {"flatten"});
}

OP_TEST("flatten", "gradient") {
  check_view_gradient({2, 3, 2}, [](const Tensor& x) { return x.permute({2, 0, 1}).flatten(1); });
}

OP_TEST("permute", "values") {
  Tensor x = iota({2, 3, 4});
  Tensor p = x.permute({2, 0, 1});
  CHECK(p.sizes() == Shape{4, 2, 3});
  CHECK(p.strides() == Shape{1, 12, 4});
  CHECK(!p.is_contiguous());
  CHECK(p.contiguous().to_vector<float>()[1] == 4.0f);  // p[0][0][1] = x[0][1][0]
  check_error([] { iota({2, 3}).permute({0, 0}); }, {"permute", "repeats"});
  check_error([] { iota({2, 3}).permute({0}); }, {"permute", "[2, 3]"});
}

OP_TEST("permute", "gradient") {
  check_view_gradient({2, 3, 2}, [](const Tensor& x) { return x.permute({1, 2, 0}) * x.permute({1, 2, 0}); });
}

OP_TEST("transpose", "values") {
  Tensor x = iota({2, 3});
  CHECK(x.transpose(0, 1).contiguous().to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
  CHECK(x.transpose(-1, -2).sizes() == Shape{3, 2});
  check_error([] { iota({2, 3}).transpose(0, 2); }, {"transpose", "dim 2"});
}

OP_TEST("transpose", "gradient") {
  check_view_gradient({2, 3, 2}, [](const Tensor& x) { return x.transpose(0, 2); });
}

OP_TEST("t", "values") {
  CHECK(iota({2, 3}).t().sizes() == Shape{3, 2});
  CHECK(iota({3}).t().sizes() == Shape{3});
  check_error([] { iota({2, 3, 4}).t(); }, {"t:", "[2, 3, 4]"});
}

OP_TEST("t", "gradient") {
  check_view_gradient({2, 3}, [](const Tensor& x) { return x.t(); });
}

OP_TEST("expand", "values") {
  Tensor x = tensor({{1}, {2}});
  Tensor e = x.expand({2, 3});
  CHECK(e.strides() == Shape{1, 0});
  CHECK(e.contiguous().to_vector<float>() == std::vector<float>{1, 1, 1, 2, 2, 2});
  CHECK(x.expand({4, 2, -1}).sizes() == Shape{4, 2, 1});
  check_error([] { tensor({1, 2}).expand({3}); }, {"expand", "[2]", "[3]"});
}

OP_TEST("expand", "gradient") {
  check_view_gradient({2, 1}, [](const Tensor& x) { return x.expand({3, 2, 4}); });
  check_view_gradient({1}, [](const Tensor& x) { return x.expand({0}); });
}

OP_TEST("broadcast_to", "values") {
  CHECK(tensor({1, 2}).broadcast_to({3, 2}).sizes() == Shape{3, 2});
  check_error([] { tensor({1, 2}).broadcast_to({3}); }, {"broadcast_to", "[2]", "[3]"});
}

OP_TEST("broadcast_to", "gradient") {
  check_view_gradient({3}, [](const Tensor& x) { return x.broadcast_to({2, 3}); });
}

OP_TEST("narrow", "values") {
  Tensor x = iota({3, 4});
  Tensor n = x.narrow(1, 1, 2);
  CHECK(n.sizes() == Shape{3, 2});
  CHECK(n.shares_storage(x));
  CHECK(n.contiguous().to_vector<float>() == std::vector<float>{1, 2, 5, 6, 9, 10});
  CHECK(x.narrow(0, -1, 1).contiguous().to_vector<float>() == std::vector<float>{8, 9, 10, 11});
  check_error([] { iota({3, 4}).narrow(1, 3, 2); }, {"narrow", "[3, 5)", "[3, 4]"});
}

OP_TEST("narrow", "gradient") {
  check_view_gradient({3, 4}, [](const Tensor& x) { return x.narrow(1, 1, 2); });
  check_view_gradient({3, 4}, [](const Tensor& x) { return x.t().narrow(0, 0, 0); });
}

OP_TEST("select", "values") {
  Tensor x = iota({3, 4});
  CHECK(x.select(0, 1).to_vector<float>() == std::vector<float>{4, 5, 6, 7});
  CHECK(x.select(1, -1).contiguous().to_vector<float>() == std::vector<float>{3, 7, 11});
  CHECK(x.select(0, 2).select(0, 3).dim() == 0);
  check_error([] { iota({3, 4}).select(1, 4); }, {"select", "index 4", "size 4"});
}

OP_TEST("select", "gradient") {
  check_view_gradient({3, 4}, [](const Tensor& x) { return x.select(1, 2); });
  check_view_gradient({3, 4}, [](const Tensor& x) { return x.select(0, 0) * x.select(0, 2); });
}

OP_TEST("slice", "values") {
  Tensor x = iota({10});
  CHECK(x.slice(0, 1, 8, 3).to_vector<float>() == std::vector<float>{1, 4, 7});
  CHECK(x.slice(0, -3).to_vector<float>() == std::vector<float>{7, 8, 9});
  CHECK(x.slice(0, 5, 2).numel() == 0);
  CHECK(x.slice(0, {}, {}, 4).to_vector<float>() == std::vector<float>{0, 4, 8});
  check_error([] { iota({10}).slice(0, 0, 5, 0); }, {"slice", "step"});
}

OP_TEST("slice", "gradient") {
  check_view_gradient({7, 2}, [](const Tensor& x) { return x.slice(0, 1, 7, 2); });
}

OP_TEST("squeeze", "values") {
  Tensor x = zeros({1, 3, 1});
  CHECK(x.squeeze().sizes() == Shape{3});
  CHECK(x.squeeze(0).sizes() == Shape{3, 1});
  CHECK(x.squeeze(1).sizes() == Shape{1, 3, 1});
  CHECK(x.squeeze(-1).sizes() == Shape{1, 3});
}

OP_TEST("squeeze", "gradient") {
  check_view_gradient({1, 3, 1}, [](const Tensor& x) { return x.squeeze(); });
}

OP_TEST("unsqueeze", "values") {
  Tensor x = zeros({2, 3});
  CHECK(x.unsqueeze(0).sizes() == Shape{1, 2, 3});
  CHECK(x.unsqueeze(-1).sizes() == Shape{2, 3, 1});
  CHECK(x.unsqueeze(1).sizes() == Shape{2, 1, 3});
  check_error([] { zeros({2, 3}).unsqueeze(4); }, {"unsqueeze", "dim 4"});
}

OP_TEST("unsqueeze", "gradient") {
  check_view_gradient({2, 3}, [](const Tensor& x) { return x.t().unsqueeze(1); });
}

OP_TEST("contiguous", "values") {
  Tensor x = iota({2, 3});
  CHECK(x.contiguous().is_same(x));
  Tensor c = x.t().contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
}

OP_TEST("contiguous", "gradient") {
  check_view_gradient({2, 3}, [](const Tensor& x) { return x.t().contiguous(); });
}

OP_TEST("clone", "values") {
  Tensor x = iota({2, 2});
  Tensor c = x.clone();
  CHECK(!c.shares_storage(x));
  {
    NoGradGuard g;
    c.fill_(5);
  }
  CHECK(x.to_vector<float>() == std::vector<float>{0, 1, 2, 3});
}

OP_TEST("clone", "gradient") {
  check_view_gradient({2, 3}, [](const Tensor& x) { return x.clone(); });
}

OP_TEST("to", "values") {
  CHECK(iota({3}).to(DType::f64).dtype() == DType::f64);
  CHECK(iota({3}, DType::i64).to(DType::f32).to_vector<float>() == std::vector<float>{0, 1, 2});
  Tensor x = iota({2});
  CHECK(x.to(DType::f32).is_same(x));
}

OP_TEST("to", "gradient") {
  // f64 -> f32 -> f64 loses precision, so check through an exactly representable path
  check_gradient([](const TensorList& x) { return TensorList{x[0].to(DType::f64) * 2.0}; },
                 {rand_leaf({3})});
  Tensor x = ones({2}, DType::f64).requires_grad_();
  x.to(DType::f32).backward(ones({2}));
  CHECK(x.grad().dtype() == DType::f64);
  CHECK(x.grad().to_vector<double>() == std::vector<double>{1, 1});
}

TEST_CASE("in-place: copy_ and fill_") {
  Tensor x = zeros({2, 3});
  x.t().copy_(iota({3, 2}));
  CHECK(x.to_vector<float>() == std::vector<float>{0, 2, 4, 1, 3, 5});
  x.copy_(tensor({7, 8, 9}));  // broadcasts the source
  CHECK(x.to_vector<float>() == std::vector<float>{7, 8, 9, 7, 8, 9});
  x.copy_(ones({2, 3}, DType::f64));  // converts
  CHECK(x.to_vector<float>() == std::vector<float>(6, 1.0f));
  uint64_t v = x.version();
  x.fill_(2);
  CHECK(x.version() == v + 1);
  Tensor leaf = zeros({2}).requires_grad_();
  check_error([&] { leaf.fill_(1); }, {"fill_", "requires grad", "NoGradGuard"});
  check_error([&] { x.copy_(zeros({4})); }, {"expand", "[4]", "[2, 3]"});
  NoGradGuard g;
  leaf.fill_(1);
  CHECK(leaf.to_vector<float>() == std::vector<float>{1, 1});
}
