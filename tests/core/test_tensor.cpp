// Tensor core: factories, dtypes, element access, printing, devices.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/ops/ops.h"

using namespace tutor;

TEST_CASE("tensor: factories") {
  Tensor z = zeros({2, 3});
  CHECK(z.sizes() == Shape{2, 3});
  CHECK(z.strides() == Shape{3, 1});
  CHECK(z.dtype() == DType::f32);
  CHECK(z.to_vector<float>() == std::vector<float>(6, 0.0f));
  CHECK(ones({2}, DType::f64).to_vector<double>() == std::vector<double>{1, 1});
  CHECK(full({3}, 2.5).to_vector<float>() == std::vector<float>{2.5f, 2.5f, 2.5f});
  CHECK(empty({0, 4}).numel() == 0);
  CHECK(scalar_tensor(3).dim() == 0);
  CHECK(scalar_tensor(3).item() == 3.0);
  CHECK(zeros_like(ones({2, 2}, DType::i64)).dtype() == DType::i64);
}

TEST_CASE("tensor: 64-byte aligned storage") {
  for (int64_t n : {1, 3, 17, 1000}) {
    Tensor t = empty({n}, DType::f64);
    CHECK(reinterpret_cast<uintptr_t>(t.raw_data()) % 64 == 0);
  }
}

TEST_CASE("tensor: arange, linspace, eye") {
  CHECK(arange(5).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(arange(5).dtype() == DType::i64);
  CHECK(arange(1, 2, 0.25, DType::f64).to_vector<double>() == std::vector<double>{1, 1.25, 1.5, 1.75});
  CHECK(arange(5, 0, -2).to_vector<int64_t>() == std::vector<int64_t>{5, 3, 1});
  CHECK(arange(3, 3).numel() == 0);
  // both endpoints exact, as PyTorch's two-sided formula guarantees
  std::vector<double> l = linspace(0, 1, 11, DType::f64).to_vector<double>();
  CHECK(l.front() == 0.0);
  CHECK(l.back() == 1.0);
  CHECK(l[3] == doctest::Approx(0.3));
  CHECK(linspace(2, 5, 1).to_vector<float>() == std::vector<float>{2});
  CHECK(eye(2, 3).to_vector<float>() == std::vector<float>{1, 0, 0, 0, 1, 0});
  CHECK(eye(3).sizes() == Shape{3, 3});
}

TEST_CASE("tensor: from values") {
  Tensor a = tensor({{1, 2}, {3, 4}});
  CHECK(a.sizes() == Shape{2, 2});
  CHECK(a.to_vector<float>() == std::vector<float>{1, 2, 3, 4});
  CHECK(tensor({{1}, {2}}).sizes() == Shape{2, 1});
  CHECK(tensor({{{1, 2}}, {{3, 4}}}).sizes() == Shape{2, 1, 2});
  CHECK(tensor(7.0).dim() == 0);
  CHECK(tensor({1, 2}, DType::i64).dtype() == DType::i64);
  Tensor v = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}, DType::f64);
  CHECK(v.sizes() == Shape{2, 3});
  CHECK(v.data<double>()[5] == 6.0);
}

TEST_CASE("tensor: dtype conversion") {
  Tensor x = tensor({-1.5, 0, 2.7});
  CHECK(x.to(DType::i64).to_vector<int64_t>() == std::vector<int64_t>{-1, 0, 2});  // truncation
  CHECK(x.to(DType::b8).to_vector<bool>() == std::vector<bool>{true, false, true});
  CHECK(x.to(DType::f64).to_vector<double>() == std::vector<double>{-1.5, 0, double(2.7f)});
  // bf16 keeps 8 mantissa bits, rounding to nearest even: 1 + 2^-8 is a tie and rounds down to 1,
  // 1 + 3 * 2^-8 rounds up to 1 + 2^-6.
  Tensor b = tensor({1.0 + 1.0 / 256, 1.0 + 3.0 / 256, 3.0}).to(DType::bf16);
  CHECK(b.dtype() == DType::bf16);
  CHECK(b.to(DType::f32).to_vector<float>() == std::vector<float>{1.0f, 1.0f + 1.0f / 64, 3.0f});
  CHECK(std::isnan(float(BFloat16(NAN))));
  CHECK(tensor({true, false}, DType::b8).to(DType::f32).to_vector<float>() == std::vector<float>{1, 0});
}

TEST_CASE("tensor: item and data access") {
  CHECK(tensor({42}).item() == 42.0);
  CHECK(tensor({3}, DType::i64).item<int64_t>() == 3);
  CHECK_THROWS_WITH_AS(tensor({1, 2}).item(), doctest::Contains("item"), Error);
  CHECK_THROWS_WITH_AS(tensor({1, 2}).data<double>(), doctest::Contains("f32"), Error);
}

TEST_CASE("tensor: errors") {
  CHECK_THROWS_WITH_AS(zeros({2, -1}), doctest::Contains("[2, -1]"), Error);
  CHECK_THROWS_WITH_AS(tensor({{1, 2}, {3}}), doctest::Contains("ragged"), Error);
  CHECK_THROWS_WITH_AS(arange(0, 5, -1), doctest::Contains("arange"), Error);
  CHECK_THROWS_WITH_AS(from_vector(std::vector<float>{1, 2, 3}, {2, 2}), doctest::Contains("[2, 2]"), Error);
  CHECK_THROWS_WITH_AS(zeros({2}, DType::i64).requires_grad_(), doctest::Contains("floating"), Error);
}

TEST_CASE("device: parse and allocate") {
  CHECK(Device("cpu").is_cpu());
  CHECK(Device("cuda").is_cuda());
  CHECK(Device("cuda:3").index == 3);
  CHECK(Device("cuda:1").str() == "cuda:1");
  CHECK_THROWS_WITH_AS(Device("gpu"), doctest::Contains("gpu"), Error);
  CHECK_THROWS_WITH_AS(Device("cuda:x"), doctest::Contains("cuda:x"), Error);
  CHECK_THROWS_WITH_AS(zeros({2}, Device("cuda:0")), doctest::Contains("cuda:0"), Error);
}

TEST_CASE("tensor: printing in PyTorch's style") {
  CHECK(tensor({{1, 2}, {3, 4}}).str() == "tensor([[1., 2.],\n        [3., 4.]])");
  CHECK(tensor({1.5, -2.25}).str() == "tensor([ 1.5000, -2.2500])");
  CHECK(tensor({1, 2}, DType::i64).str() == "tensor([1, 2])");
  CHECK(tensor({0.5}, DType::f64).str() == "tensor([0.5000], dtype=f64)");
  CHECK(tensor({1e-5, 1.0}).str() == "tensor([1.0000e-05, 1.0000e+00])");
  CHECK(tensor(2.5).str() == "tensor(2.5000)");
  CHECK(tensor({1, 0}).to(DType::b8).str() == "tensor([ True, False])");
  CHECK(ones({2}).requires_grad_().str() == "tensor([1., 1.], requires_grad=True)");
  CHECK(zeros({2000}).str().find("...") != std::string::npos);
}

TEST_CASE("tensor: set_data swaps the data behind every handle") {
  Tensor p = zeros({2}).requires_grad_();
  Tensor alias = p;
  p.set_data(ones({3}, DType::f64));
  CHECK(alias.dtype() == DType::f64);
  CHECK(alias.sizes() == Shape{3});
  CHECK(alias.requires_grad());
  CHECK(alias.is_leaf());
  CHECK_THROWS_WITH_AS(p.set_data(zeros({1}, DType::i64)), doctest::Contains("i64"), Error);
}

TEST_CASE("tensor: op methods forward to the free functions") {
  Tensor x = tensor({{1, -2}, {3, 4}});
  CHECK(x.sum().item() == 6.0);
  CHECK(x.sum({1}).to_vector<float>() == std::vector<float>{-1, 7});
  CHECK(x.mean({0}, true).sizes() == Shape{1, 2});
  CHECK(x.abs().amax().item() == 4.0);
  CHECK(x.argmax().item<int64_t>() == 3);
  CHECK(x.relu().to_vector<float>() == std::vector<float>{1, 0, 3, 4});
  CHECK(x.square().sum().item() == 30.0);
  CHECK(x.matmul(x).to_vector<float>() == std::vector<float>{-5, -10, 15, 10});
  CHECK(x.softmax(1).sum({1}).to_vector<float>() == std::vector<float>{1, 1});
  Tensor y = x.clone();
  y.add_(ones({2})).mul_(2.0);
  CHECK(y.to_vector<float>() == std::vector<float>{4, -2, 8, 10});
}
