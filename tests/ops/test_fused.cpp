// The fused ops (engine/ops/fused.h): values by hand and against their unfused composition,
// gradients by finite differences (f64), and their argument errors.
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

}  // namespace

OP_TEST("linear_gelu", "values") {
  NoGradGuard no_grad;  // the fused kernel
  // h = [1, 2] W^T + b = [1, 0, -1] with W = [[1, 0], [0, 1], [1, 1]], b = [0, -2, -4];
  // gelu erf: x Phi(x) = 0.841344746068543, 0, -0.158655253931457;
  // gelu tanh: 0.841191990608276, 0, -0.158808009391724 (torch.nn.functional.gelu).
  Tensor x = tensor({1, 2}), w = tensor({{1, 0}, {0, 1}, {1, 1}}), b = tensor({0, -2, -4});
  check_close(linear_gelu(x, w, b), tensor({0.841344746068543, 0, -0.158655253931457}), 1e-12);
  check_close(linear_gelu(x, w, b, "tanh"), tensor({0.841191990608276, 0, -0.158808009391724}),
              1e-12);
  for (const char* approximate : {"none", "tanh"}) {
    INFO(approximate);
    Tensor xr = randf({2, 3, 4}, 1), wr = randf({5, 4}, 2), br = randf({5}, 3);
    check_close(linear_gelu(xr, wr, br, approximate), gelu(linear(xr, wr, br), approximate), 1e-12);
    check_close(linear_gelu(xr.transpose(0, 1), wr, Tensor(), approximate),
                gelu(linear(xr.transpose(0, 1), wr), approximate), 1e-12);
    check_close(linear_gelu(xr.to(DType::f32), wr.to(DType::f32), br.to(DType::f32), approximate),
                gelu(linear(xr, wr, br), approximate), 1e-5, 1e-4);
  }
  // Empty rows and an empty contracted dim take the composition: gelu(bias) for K = 0.
  CHECK(linear_gelu(zeros({0, 4}, DType::f64), randf({5, 4}, 4)).sizes() == Shape{0, 5});
  check_close(linear_gelu(zeros({2, 0}), zeros({3, 0}), tensor({1, 0, -1})),
              tensor({{0.841344746068543, 0, -0.158655253931457},
                      {0.841344746068543, 0, -0.158655253931457}}),
              1e-12);
}

OP_TEST("linear_gelu", "gradient") {
  for (const char* approximate : {"none", "tanh"}) {
    std::string a = approximate;
    check_gradient(
        [a](const TensorList& t) { return TensorList{linear_gelu(t[0], t[1], t[2], a)}; },
        {rand_leaf({3, 4}, 1), rand_leaf({2, 4}, 2), rand_leaf({2}, 3)});
    check_gradient([a](const TensorList& t) { return TensorList{linear_gelu(t[0], t[1], {}, a)}; },
                   {rand_leaf({2, 3, 4}, 4), rand_leaf({3, 4}, 5)});
  }
}

OP_TEST("linear_gelu", "errors") {
  NoGradGuard no_grad;
  check_error([] { linear_gelu(zeros({2, 3}), zeros({4, 5})); }, {"linear", "[2, 3]", "[4, 5]"});
  check_error(
      [] {
        linear_gelu(zeros({2, 3}), zeros({4, 3}), zeros({3}));
      },
      {"linear_gelu", "[3]", "[4, 3]"});
  check_error(
      [] {
        linear_gelu(zeros({2, 3}), zeros({4, 3}), {}, "fast");
      },
      {"linear_gelu", "approximate", "fast", "[2, 3]"});
  check_error(
      [] {
        linear_gelu(zeros({2, 3}), zeros({4, 3}, DType::f64));
      },
      {"linear_gelu", "f32", "f64"});
}
