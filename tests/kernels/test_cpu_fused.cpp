// The CPU backend's fused kernels against the reference backend, whose fused kernels run exactly
// the unfused composition (kernels/reference/fused.cpp): outputs and, where the op records one,
// input gradients to a normalized MSE <= 1e-7 (DESIGN.md), on odd sizes, batch 1, non-contiguous
// inputs, with and without bias.
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

}  // namespace
}  // namespace tutor
