// The fused ops (engine/ops/fused.h): values by hand and against their unfused composition,
// gradients by finite differences (f64), and their argument errors.
#include <algorithm>
#include <cmath>

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

OP_TEST("conv2d_relu", "values") {
  NoGradGuard no_grad;  // the fused kernel
  // x = [[1, -2], [3, -4]], 1x1 filters +1 and -1, bias 0.5: conv = [[1.5, -1.5], [3.5, -3.5]] and
  // [[-0.5, 2.5], [-2.5, 4.5]]; a residual of 1 and -3 per channel shifts them before the ReLU.
  Tensor x = tensor({{{{1, -2}, {3, -4}}}}), w = tensor({1, -1}).view({2, 1, 1, 1});
  Tensor b = tensor({0.5, 0.5});
  check_close(conv2d_relu(x, w, b), tensor({{{{1.5, 0}, {3.5, 0}}, {{0, 2.5}, {0, 4.5}}}}), 1e-12);
  Tensor r = tensor({1, -3}).view({1, 2, 1, 1}).expand({1, 2, 2, 2});
  check_close(conv2d_relu(x, w, b, 1, 0, 1, 1, r),
              tensor({{{{2.5, 0}, {4.5, 0}}, {{0, 0}, {0, 1.5}}}}), 1e-12);

  // Against the composition: strides, padding, dilation, groups, no bias, channels-last and
  // transposed residuals, in f64 and f32.
  Tensor xr = randf({2, 4, 7, 9}, 5), wr = randf({6, 2, 3, 3}, 6), br = randf({6}, 7);
  auto composed = [&](const Tensor& xx, const Tensor& bias, Size2 s, Size2 p, Size2 d,
                      const Tensor& res) {
    Tensor y = conv2d(xx, wr, bias, s, p, d, 2);
    return relu(res.defined() ? add(y, res) : y);
  };
  for (bool with_bias : {true, false}) {
    const Tensor bias = with_bias ? br : Tensor();
    INFO("bias: ", with_bias);
    check_close(conv2d_relu(xr, wr, bias, 2, 1, 1, 2), composed(xr, bias, 2, 1, 1, Tensor()),
                1e-12);
    Tensor res = randf({2, 6, 3, 5}, 8);
    check_close(conv2d_relu(xr, wr, bias, 1, 0, 2, 2, res), composed(xr, bias, 1, 0, 2, res),
                1e-12);
    Tensor res_cl = res.contiguous(MemoryFormat::ChannelsLast);
    check_close(
        conv2d_relu(xr.contiguous(MemoryFormat::ChannelsLast), wr, bias, 1, 0, 2, 2, res_cl),
        composed(xr, bias, 1, 0, 2, res), 1e-12);
    Tensor res_t = randf({2, 6, 5, 3}, 9).transpose(2, 3);
    check_close(conv2d_relu(xr, wr, bias, 1, 0, 2, 2, res_t), composed(xr, bias, 1, 0, 2, res_t),
                1e-12);
    check_close(
        conv2d_relu(xr.to(DType::f32), wr.to(DType::f32), with_bias ? br.to(DType::f32) : Tensor(),
                    1, 0, 2, 2, res.to(DType::f32)),
        composed(xr, bias, 1, 0, 2, res), 1e-5, 1e-4);
  }
  // An empty batch and an empty reduction (no input channels) take the composition.
  CHECK(conv2d_relu(zeros({0, 4, 5, 5}, DType::f64), wr, br, 1, 0, 1, 2).sizes() ==
        Shape{0, 6, 3, 3});
  check_close(conv2d_relu(zeros({1, 0, 2, 2}), zeros({2, 0, 1, 1}), tensor({1, -1})),
              tensor({{{{1, 1}, {1, 1}}, {{0, 0}, {0, 0}}}}), 1e-12);
}

OP_TEST("conv2d_relu", "gradient") {
  // With gradients the op is the composition; its gradient in every input, residual included.
  check_gradient(
      [](const TensorList& t) {
        return TensorList{conv2d_relu(t[0], t[1], t[2], 2, 1, 1, 1, t[3])};
      },
      {rand_leaf({2, 3, 5, 4}, 1), rand_leaf({4, 3, 3, 3}, 2), rand_leaf({4}, 3),
       rand_leaf({2, 4, 3, 2}, 4)});
  check_gradient(
      [](const TensorList& t) { return TensorList{conv2d_relu(t[0], t[1], {}, 1, 0, 1, 2)}; },
      {rand_leaf({1, 4, 4, 4}, 5), rand_leaf({2, 2, 2, 2}, 6)});
}

OP_TEST("conv2d_relu", "errors") {
  NoGradGuard no_grad;
  check_error(
      [] {
        conv2d_relu(zeros({1, 3, 5, 5}), zeros({4, 2, 3, 3}));
      },
      {"conv2d_relu", "[4, 2, 3, 3]", "[1, 3, 5, 5]"});
  check_error(
      [] {
        conv2d_relu(zeros({1, 3, 5, 5}), zeros({4, 3, 3, 3}), zeros({3}));
      },
      {"conv2d_relu", "bias", "[3]"});
  check_error(
      [] {
        conv2d_relu(zeros({1, 3, 5, 5}), zeros({4, 3, 3, 3}), {}, 1, 0, 1, 1, zeros({1, 4, 5, 5}));
      },
      {"conv2d_relu", "residual", "[1, 4, 5, 5]", "[1, 4, 3, 3]"});
  check_error(
      [] {
        conv2d_relu(zeros({1, 3, 5, 5}), zeros({4, 3, 3, 3}), {}, 1, 0, 1, 1,
                    zeros({1, 4, 3, 3}, DType::f64));
      },
      {"conv2d_relu", "f32", "f64"});
}

OP_TEST("batch_norm_relu", "values") {
  // One channel, x = [1, 2, 3, 6]: mean 3, biased var 3.5, xhat = [-2, -1, 0, 3] / sqrt(3.5 + eps);
  // weight 2, bias 1: y = relu(2 xhat + 1).
  Tensor x = tensor({1, 2, 3, 6}).view({4, 1}), w = tensor({2}), b = tensor({1});
  Tensor rm = zeros({1}), rv = ones({1});
  const double s = 1 / std::sqrt(3.5 + 1e-5);
  check_close(batch_norm_relu(x, rm, rv, w, b, true),
              tensor({0, std::max(0.0, 1 - 2 * s), 1, 1 + 6 * s}).view({4, 1}), 1e-6);
  // running = 0.9 running + 0.1 batch stat (unbiased variance 14 / 3)
  check_close(rm, tensor({0.3}), 1e-6);
  check_close(rv, tensor({0.9 + 0.1 * 14.0 / 3}), 1e-6);

  // Against relu(batch_norm) in f64 and f32, training and evaluation, NCHW and channels-last, with
  // and without affine parameters.
  for (bool training : {true, false}) {
    for (bool affine : {true, false}) {
      INFO("training ", training, ", affine ", affine);
      Tensor xr = randf({3, 5, 4, 6}, 11), wr = affine ? randf({5}, 12) : Tensor(),
             br = affine ? randf({5}, 13) : Tensor();
      Tensor m1 = randf({5}, 14), v1 = add(randf({5}, 15).abs(), 0.5);
      Tensor m2 = m1.clone(), v2 = v1.clone();
      Tensor expected = relu(batch_norm(xr, m1, v1, wr, br, training, 0.2, 1e-3));
      check_close(batch_norm_relu(xr, m2, v2, wr, br, training, 0.2, 1e-3), expected, 1e-12);
      check_close(m2, m1, 1e-12);
      check_close(v2, v1, 1e-12);
      auto f32 = [](const Tensor& t) { return t.defined() ? t.to(DType::f32) : Tensor(); };
      Tensor m3 = f32(m2), v3 = f32(v2);
      Tensor m4 = m2.clone(), v4 = v2.clone();
      Tensor expected2 = relu(batch_norm(xr, m4, v4, wr, br, training, 0.2, 1e-3));
      check_close(batch_norm_relu(f32(xr).contiguous(MemoryFormat::ChannelsLast), m3, v3, f32(wr),
                                  f32(br), training, 0.2, 1e-3),
                  expected2, 1e-5, 1e-4);
      check_close(m3, m4, 1e-6, 1e-5);
      check_close(v3, v4, 1e-6, 1e-5);
    }
  }
  // An empty batch and a bf16 input take the composition.
  CHECK(batch_norm_relu(zeros({0, 3, 2, 2}), zeros({3}), ones({3})).sizes() == Shape{0, 3, 2, 2});
}

OP_TEST("batch_norm_relu", "gradient") {
  for (bool training : {true, false}) {
    INFO("training ", training);
    Tensor rm = zeros({3}, DType::f64), rv = ones({3}, DType::f64);
    check_gradient(
        [=](const TensorList& t) {
          return TensorList{batch_norm_relu(t[0], rm, rv, t[1], t[2], training, 0.1, 1e-5)};
        },
        {rand_leaf({4, 3, 3, 2}, 1), rand_leaf({3}, 2), rand_leaf({3}, 3)});
  }
  // Twice along the incoming gradient v, as batch_norm (distill/bilevel.h needs it): dx, dweight
  // and dbias built with create_graph, their derivative in v by finite differences.
  for (bool training : {true, false}) {
    INFO("training ", training);
    Tensor x = rand_leaf({3, 2, 4}, 1), w = rand_leaf({2}, 2), b = rand_leaf({2}, 3);
    Tensor rm = tensor({0.1, -0.2}, DType::f64), rv = tensor({0.5, 1.5}, DType::f64);
    check_gradient(
        [&](const TensorList& v) {
          EnableGradGuard grad_mode;
          Tensor y = batch_norm_relu(x, rm.clone(), rv.clone(), w, b, training);
          return autograd::grad({y}, {x, w, b}, {v[0]}, false, /*create_graph=*/true);
        },
        {rand_leaf({3, 2, 4}, 4)});
  }
}

OP_TEST("batch_norm_relu", "errors") {
  check_error([] { batch_norm_relu(zeros({4}), Tensor(), Tensor(), {}, {}, true); },
              {"batch_norm_relu", "[N, C, *]", "[4]"});
  check_error(
      [] {
        batch_norm_relu(zeros({4, 3}), zeros({2}), ones({2}));
      },
      {"batch_norm_relu", "running_mean", "[2]", "[4, 3]"});
  check_error(
      [] {
        batch_norm_relu(zeros({4, 3}), Tensor(), Tensor());
      },
      {"batch_norm_relu", "evaluation", "running_mean"});
  check_error(
      [] {
        batch_norm_relu(zeros({1, 3}), Tensor(), Tensor(), {}, {}, true);
      },
      {"batch_norm_relu", "more than 1 value per channel", "[1, 3]"});
  check_error(
      [] {
        batch_norm_relu(zeros({4, 3}), zeros({3}), ones({3}, DType::f64));
      },
      {"batch_norm_relu", "f32", "f64"});
}
