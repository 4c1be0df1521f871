// The CPU backend's fused kernels against the reference backend, whose fused kernels run exactly
// the unfused composition (kernels/reference/fused.cpp): outputs and, where the op records one,
// input gradients to a normalized MSE <= 1e-7 (DESIGN.md), on odd sizes, batch 1, C = 1 and large
// C, NCHW and channels-last activations, non-contiguous inputs, with and without bias.
#include <doctest/doctest.h>

#include "engine/ops/dispatch.h"
#include "kernels/cpu/onednn.h"
#include "support/backend_compare.h"

namespace tutor {
namespace {

using testing::Case;
using testing::check_cases;
using testing::randn_f32;

// linear_gelu cases: forward without gradients takes the fused kernel, with them the composition.
std::vector<Case> linear_gelu_cases(const std::string& approximate, bool backward) {
  auto fused = [approximate](bool with_bias) {
    return [approximate, with_bias](const TensorList& t) {
      return linear_gelu(t[0], t[1], with_bias ? t[2] : Tensor(), approximate);
    };
  };
  const std::string a = " (" + approximate + ")";
  return {
      {"odd sizes" + a,
       {randn_f32({7, 13}, 1), randn_f32({5, 13}, 2), randn_f32({5}, 3)},
       fused(true),
       backward},
      {"no bias" + a, {randn_f32({7, 13}, 4), randn_f32({5, 13}, 5)}, fused(false), backward},
      {"batch 1, tokens" + a,
       {randn_f32({1, 49, 64}, 6), randn_f32({128, 64}, 7), randn_f32({128}, 8)},
       fused(true),
       backward},
      {"vector input" + a,
       {randn_f32({19}, 9), randn_f32({6, 19}, 10), randn_f32({6}, 11)},
       fused(true),
       backward},
      {"transposed input (mixer token mlp)" + a,
       {randn_f32({3, 49, 32}, 12), randn_f32({17, 49}, 13), randn_f32({17}, 14)},
       [approximate](const TensorList& t) {
         return linear_gelu(t[0].transpose(1, 2), t[1], t[2], approximate);
       },
       backward},
      {"sliced input, transposed weight, strided bias" + a,
       {randn_f32({12, 20}, 15), randn_f32({15, 9}, 16), randn_f32({18}, 17)},
       [approximate](const TensorList& t) {
         return linear_gelu(t[0].narrow(1, 3, 15), t[1].t(), t[2].slice(0, 0, 18, 2), approximate);
       },
       backward},
  };
}

TEST_CASE("cpu fused: linear_gelu forward (no gradients: the fused kernel) against the reference") {
  check_cases(linear_gelu_cases("none", false));
  check_cases(linear_gelu_cases("tanh", false));
}

TEST_CASE("cpu fused: linear_gelu forward and backward (the composition) against the reference") {
  check_cases(linear_gelu_cases("none", true));
  check_cases(linear_gelu_cases("tanh", true));
}

TEST_CASE("cpu fused: linear_gelu runs on oneDNN, and the GELU form is part of the cache key") {
  CHECK(ops::backend_for(ops::Kernel("linear_gelu"), kCPU, DType::f32) == kernels::Backend::cpu);
  NoGradGuard no_grad;
  Tensor x = randn_f32({33, 29}, 21), w = randn_f32({11, 29}, 22), b = randn_f32({11}, 23);
  const size_t before = kernels::cpu::onednn::cache_size();
  Tensor erf_form = linear_gelu(x, w, b, "none");
  CHECK(kernels::cpu::onednn::cache_size() > before);
  // The same shapes with the other form: a primitive keyed without the post-op would return the
  // erf form here.
  Tensor tanh_form = linear_gelu(x, w, b, "tanh");
  Tensor expected;
  {
    ops::ReferenceOnlyGuard reference_only;
    expected = gelu(linear(x, w, b), "tanh");
  }
  CHECK(testing::nmse(tanh_form, expected) <= testing::kBound);
  CHECK(testing::nmse(erf_form, tanh_form) > 1e-9);
}

// conv2d_relu cases in the given activation layout: without gradients the fused kernel (oneDNN's
// convolution with sum and ReLU post-ops), with them the composition.
std::vector<Case> conv2d_relu_cases(MemoryFormat format, bool backward) {
  auto layout = [format](const Tensor& t) { return t.contiguous(format); };
  // relu(conv2d(t[0], t[1], t[2]?, s, p, d, g) + t[3]?), residual's layout as given.
  auto fused = [layout](Size2 s, Size2 p, Size2 d, int64_t g, bool with_bias, bool with_residual) {
    return [=](const TensorList& t) {
      return conv2d_relu(layout(t[0]), t[1], with_bias ? t[2] : Tensor(), s, p, d, g,
                         with_residual ? layout(t[3]) : Tensor());
    };
  };
  const std::string f = format == MemoryFormat::ChannelsLast ? " (channels-last)" : " (NCHW)";
  const MemoryFormat grad_format = format;
  return {
      {"odd sizes, 3x3 pad 1" + f,
       {randn_f32({3, 5, 11, 9}, 1), randn_f32({7, 5, 3, 3}, 2), randn_f32({7}, 3)},
       fused(1, 1, 1, 1, true, false),
       backward,
       grad_format},
      {"residual, stride 2, no bias" + f,
       {randn_f32({2, 6, 13, 10}, 4), randn_f32({5, 6, 3, 3}, 5), randn_f32({5}, 6),
        randn_f32({2, 5, 7, 5}, 7)},
       fused(2, 1, 1, 1, false, true),
       backward,
       grad_format},
      {"batch 1, residual, bias (a resnet block's closing conv)" + f,
       {randn_f32({1, 16, 14, 14}, 8), randn_f32({16, 16, 3, 3}, 9), randn_f32({16}, 10),
        randn_f32({1, 16, 14, 14}, 11)},
       fused(1, 1, 1, 1, true, true),
       backward,
       grad_format},
      {"C = 1 in and out, 5x5 dilated" + f,
       {randn_f32({2, 1, 12, 12}, 12), randn_f32({1, 1, 5, 5}, 13), randn_f32({1}, 14),
        randn_f32({2, 1, 2, 2}, 15)},
       fused(2, 0, 2, 1, true, true),
       backward,
       grad_format},
      {"large C (512), 1x1 stride 2 (a downsample)" + f,
       {randn_f32({1, 256, 7, 7}, 16, 0.1), randn_f32({512, 256, 1, 1}, 17, 0.1),
        randn_f32({512}, 18), randn_f32({1, 512, 4, 4}, 19)},
       fused(2, 0, 1, 1, true, true),
       backward,
       grad_format},
      {"groups 3, residual" + f,
       {randn_f32({2, 6, 8, 8}, 20), randn_f32({9, 2, 3, 3}, 21), randn_f32({9}, 22),
        randn_f32({2, 9, 8, 8}, 23)},
       fused(1, 1, 1, 3, true, true),
       backward,
       grad_format},
      {"non-contiguous input, transposed residual, strided bias" + f,
       {randn_f32({2, 8, 10, 12}, 24), randn_f32({4, 3, 3, 3}, 25), randn_f32({8}, 26),
        randn_f32({2, 4, 8, 10}, 27)},
       [](const TensorList& t) {
         return conv2d_relu(t[0].narrow(1, 2, 3).narrow(3, 1, 8), t[1], t[2].slice(0, 0, 8, 2), 1,
                            1, 1, 1, t[3].transpose(2, 3));
       },
       backward,
       grad_format},
  };
}

TEST_CASE("cpu fused: conv2d_relu forward (no gradients: the fused kernel) against the reference") {
  check_cases(conv2d_relu_cases(MemoryFormat::Contiguous, false));
  check_cases(conv2d_relu_cases(MemoryFormat::ChannelsLast, false));
}

TEST_CASE("cpu fused: conv2d_relu forward and backward (the composition) against the reference") {
  check_cases(conv2d_relu_cases(MemoryFormat::Contiguous, true));
  check_cases(conv2d_relu_cases(MemoryFormat::ChannelsLast, true));
}

TEST_CASE("cpu fused: conv2d_relu runs on oneDNN, keeps channels-last, keys the residual") {
  CHECK(ops::backend_for(ops::Kernel("conv2d_relu"), kCPU, DType::f32) == kernels::Backend::cpu);
  NoGradGuard no_grad;
  Tensor x = randn_f32({2, 8, 9, 9}, 31), w = randn_f32({8, 8, 3, 3}, 32), b = randn_f32({8}, 33);
  Tensor r = randn_f32({2, 8, 9, 9}, 34, 10);
  Tensor plain = conv2d_relu(x, w, b, 1, 1);
  // The same shapes with a residual: a primitive keyed without the sum post-op would ignore it.
  Tensor with_residual = conv2d_relu(x, w, b, 1, 1, 1, 1, r);
  Tensor expected;
  {
    ops::ReferenceOnlyGuard reference_only;
    expected = relu(add(conv2d(x, w, b, 1, 1), r));
  }
  CHECK(testing::nmse(with_residual, expected) <= testing::kBound);
  CHECK(testing::nmse(plain, with_residual) > 1e-3);
  Tensor cl = conv2d_relu(x.contiguous(MemoryFormat::ChannelsLast), w, b, 1, 1, 1, 1, r);
  CHECK(cl.is_contiguous(MemoryFormat::ChannelsLast));
  CHECK(testing::nmse(cl, expected) <= testing::kBound);
}

// batch_norm_relu cases (batch_norm's OpenMP kernels with the ReLU in the forward's pass and the
// mask in the backward's), in training or evaluation, in the given activation layout. Running
// statistics start from fixed values in each run; evaluation uses them.
std::vector<Case> batch_norm_relu_cases(MemoryFormat format, bool training) {
  auto run = [format, training](bool affine) {
    return [=](const TensorList& t) {
      const int64_t c = t[0].size(1);
      Tensor mean = mul(ones({c}), 0.1), var = mul(ones({c}), 1.5);
      return batch_norm_relu(t[0].contiguous(format), mean, var, affine ? t[1] : Tensor(),
                             affine ? t[2] : Tensor(), training, 0.1, 1e-5);
    };
  };
  const std::string f = std::string(training ? " training" : " eval") +
                        (format == MemoryFormat::ChannelsLast ? " (channels-last)" : " (NCHW)");
  return {
      {"odd sizes" + f,
       {randn_f32({3, 7, 5, 9}, 1), randn_f32({7}, 2), randn_f32({7}, 3)},
       run(true),
       true,
       format},
      {"no affine" + f, {randn_f32({4, 6, 3, 3}, 4)}, run(false), true, format},
      {"batch 1" + f,
       {randn_f32({1, 16, 14, 14}, 5), randn_f32({16}, 6), randn_f32({16}, 7)},
       run(true),
       true,
       format},
      {"C = 1" + f,
       {randn_f32({5, 1, 6, 7}, 8), randn_f32({1}, 9), randn_f32({1}, 10)},
       run(true),
       true,
       format},
      {"large C (512)" + f,
       {randn_f32({4, 512, 3, 3}, 11), randn_f32({512}, 12), randn_f32({512}, 13)},
       run(true),
       true,
       format},
      {"resnet8 stem shape" + f,
       {randn_f32({128, 16, 28, 28}, 14, 2), randn_f32({16}, 15), randn_f32({16}, 16)},
       run(true),
       true,
       format},
      {"batch 6, mean far from zero (resnet20 layer3)" + f,
       {add(randn_f32({6, 64, 7, 7}, 23, 0.05), 3.0).detach(), randn_f32({64}, 24),
        randn_f32({64}, 25)},
       run(true),
       true,
       format},
      {"2-D input" + f,
       {randn_f32({9, 5}, 17), randn_f32({5}, 18), randn_f32({5}, 19)},
       [training](const TensorList& t) {
         return batch_norm_relu(t[0], mul(ones({5}), 0.1), mul(ones({5}), 1.5), t[1], t[2],
                                training);
       },
       true},
      {"non-contiguous input" + f,
       {randn_f32({3, 10, 6, 8}, 20), randn_f32({4}, 21), randn_f32({4}, 22)},
       [training](const TensorList& t) {
         return batch_norm_relu(t[0].narrow(1, 3, 4).transpose(2, 3), mul(ones({4}), 0.1),
                                mul(ones({4}), 1.5), t[1], t[2], training);
       },
       true},
  };
}

TEST_CASE("cpu fused: batch_norm_relu forward and backward against the reference") {
  for (bool training : {true, false}) {
    check_cases(batch_norm_relu_cases(MemoryFormat::Contiguous, training));
    check_cases(batch_norm_relu_cases(MemoryFormat::ChannelsLast, training));
  }
}

TEST_CASE("cpu fused: batch_norm_relu runs on the cpu backend and keeps channels-last") {
  CHECK(ops::backend_for(ops::Kernel("batch_norm_relu"), kCPU, DType::f32) ==
        kernels::Backend::cpu);
  CHECK(ops::backend_for(ops::Kernel("batch_norm_relu_backward"), kCPU, DType::f32) ==
        kernels::Backend::cpu);
  Tensor x = randn_f32({2, 8, 5, 5}, 41).contiguous(MemoryFormat::ChannelsLast);
  Tensor y = batch_norm_relu(x, Tensor(), Tensor(), Tensor(), Tensor(), true);
  CHECK(y.is_contiguous(MemoryFormat::ChannelsLast));
}

}  // namespace
}  // namespace tutor
