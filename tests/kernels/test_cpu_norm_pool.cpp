// The CPU normalization and pooling kernels (kernels/cpu/norm_pool_*.cpp) against the reference
// backend (support/backend_compare.h): outputs and input, weight and bias gradients by normalized
// MSE, batch_norm's running statistics and max pooling's indices exactly or by the same bound.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "engine/ops/dispatch.h"
#include "engine/ops/ops.h"
#include "support/backend_compare.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

// ResNet's shapes (batch 8, channels 16/32/64 at 28x28, 14x14, 7x7), odd sizes and batch 1.
const std::vector<Shape> kImageShapes = {{8, 16, 28, 28}, {8, 32, 14, 14}, {8, 64, 7, 7},
                                         {3, 5, 7, 9},    {1, 3, 5, 5},    {1, 7, 13, 1}};

// A [N, C, H, W] view with strides of a contiguous [N, H, C, W]: not contiguous.
Tensor transposed_nchw(const Shape& s, uint64_t seed) {
  return randn_f32({s[0], s[2], s[1], s[3]}, seed).transpose(1, 2);
}

// Running statistics as a model holds them: a mean near 0 and a positive variance.
struct Running {
  Tensor mean, var;
};
Running running_stats(int64_t channels, uint64_t seed) {
  return {randn_f32({channels}, seed, 0.5),
          add(abs(randn_f32({channels}, seed + 1)), 0.5).detach()};
}

}  // namespace

TEST_CASE("cpu norm pool: registered as the cpu backend for f32") {
  for (const char* name : {"batch_norm", "batch_norm_backward", "layer_norm", "layer_norm_backward",
                           "group_norm", "group_norm_backward", "max_pool2d", "adaptive_max_pool2d",
                           "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward",
                           "adaptive_avg_pool2d", "adaptive_avg_pool2d_backward"}) {
    INFO(name);
    const ops::Kernel k(name);
    CHECK(ops::backend_for(k, kCPU, DType::f32) == kernels::Backend::cpu);
    CHECK(ops::backend_for(k, kCPU, DType::f64) == kernels::Backend::reference);
  }
}

TEST_CASE("cpu norm pool: batch_norm training and eval, with and without affine") {
  std::vector<Case> cases;
  uint64_t seed = 1000;
  for (const Shape& s : kImageShapes) {
    const std::string shape = shape_str(s);
    const int64_t C = s[1];
    Tensor x = randn_f32(s, seed++, 2), w = randn_f32({C}, seed++), b = randn_f32({C}, seed++);
    const Running r = running_stats(C, seed++);
    cases.push_back({"batch_norm training " + shape, {x, w, b}, [](const TensorList& t) {
                       return batch_norm(t[0], {}, {}, t[1], t[2], true);
                     }});
    cases.push_back({"batch_norm eval " + shape, {x, w, b}, [r](const TensorList& t) {
                       return batch_norm(t[0], r.mean.clone(), r.var.clone(), t[1], t[2], false);
                     }});
    cases.push_back({"batch_norm training, no affine " + shape, {x}, [](const TensorList& t) {
                       return batch_norm(t[0], {}, {}, {}, {}, true, 0.1, 1e-3);
                     }});
    cases.push_back(
        {"batch_norm training, non-contiguous " + shape,
         {transposed_nchw(s, seed++), w, b},
         [](const TensorList& t) { return batch_norm(t[0], {}, {}, t[1], t[2], true); }});
  }
  // BatchNorm1d: [N, C] (one value per sample and channel) and a shifted mean.
  cases.push_back({"batch_norm training [64, 37], mean 5",
                   {add(randn_f32({64, 37}, seed++), 5.0).detach(), randn_f32({37}, seed++),
                    randn_f32({37}, seed++)},
                   [](const TensorList& t) { return batch_norm(t[0], {}, {}, t[1], t[2], true); }});
  check_cases(cases);
}

TEST_CASE("cpu norm pool: batch_norm updates the running statistics as the reference") {
  uint64_t seed = 2000;
  for (const Shape& s : kImageShapes) {
    INFO(shape_str(s));
    const Running start = running_stats(s[1], seed++);
    Tensor x = randn_f32(s, seed++, 3);
    Running fast{start.mean.clone(), start.var.clone()}, ref{start.mean.clone(), start.var.clone()};
    batch_norm(x, fast.mean, fast.var, {}, {}, true, 0.3);
    {
      ops::ReferenceOnlyGuard guard;
      batch_norm(x, ref.mean, ref.var, {}, {}, true, 0.3);
    }
    CHECK(nmse(fast.mean, ref.mean) <= kBound);
    CHECK(nmse(fast.var, ref.var) <= kBound);
    CHECK(nmse(fast.mean, start.mean) > kBound);  // they did move
  }
}

TEST_CASE("cpu norm pool: layer_norm and group_norm") {
  std::vector<Case> cases;
  uint64_t seed = 3000;
  struct Ln {
    Shape input, normalized;
  };
  for (const Ln& l : {Ln{{8, 49, 64}, {64}}, Ln{{5, 7, 9}, {7, 9}}, Ln{{3, 1000}, {1000}},
                      Ln{{1, 1, 33}, {33}}, Ln{{16, 3}, {3}}, Ln{{600, 768}, {768}}}) {
    Tensor x = add(randn_f32(l.input, seed++, 2), 3.0).detach();
    Tensor w = randn_f32(l.normalized, seed++), b = randn_f32(l.normalized, seed++);
    const Shape ns = l.normalized;
    cases.push_back({"layer_norm " + shape_str(l.input), {x, w, b}, [ns](const TensorList& t) {
                       return layer_norm(t[0], ns, t[1], t[2]);
                     }});
    cases.push_back({"layer_norm, no affine " + shape_str(l.input), {x}, [ns](const TensorList& t) {
                       return layer_norm(t[0], ns);
                     }});
  }
  cases.push_back({"layer_norm, non-contiguous [9, 6, 5]",
                   {randn_f32({9, 5, 6}, seed++).transpose(1, 2)},
                   [](const TensorList& t) { return layer_norm(t[0], {5}); }});
  struct Gn {
    Shape input;
    int64_t groups;
  };
  // [5, 12] with one group is a norm over each row, as layer_norm (row_norm_backward).
  for (const Gn& g : {Gn{{8, 32, 14, 14}, 8}, Gn{{2, 6, 5, 3}, 3}, Gn{{1, 4, 7, 7}, 1},
                      Gn{{5, 12}, 1}, Gn{{3, 5, 4, 4}, 5}}) {
    Tensor x = randn_f32(g.input, seed++, 2);
    Tensor w = randn_f32({g.input[1]}, seed++), b = randn_f32({g.input[1]}, seed++);
    const int64_t groups = g.groups;
    cases.push_back(
        {"group_norm " + shape_str(g.input) + " groups " + std::to_string(groups),
         {x, w, b},
         [groups](const TensorList& t) { return group_norm(t[0], groups, t[1], t[2]); }});
  }
  check_cases(cases);
}

TEST_CASE("cpu norm pool: max_pool2d and adaptive_max_pool2d, values, indices and gradients") {
  std::vector<Case> cases;
  uint64_t seed = 4000;
  struct Mp {
    Shape input;
    Size2 k, stride, pad, dilation;
    bool ceil;
  };
  const Mp pools[] = {{{8, 64, 28, 28}, 3, 2, 1, 1, false},  // ResNet's stem pool
                      {{8, 16, 28, 28}, 2, 2, 0, 1, false},
                      {{3, 5, 9, 11}, 3, 2, 0, 1, true},
                      {{2, 3, 10, 9}, {3, 2}, {2, 1}, {1, 0}, 2, true},
                      {{1, 1, 5, 5}, 5, 1, 2, 1, false}};
  for (const Mp& m : pools) {
    for (bool contiguous : {true, false}) {
      Tensor x = contiguous ? randn_f32(m.input, seed++) : transposed_nchw(m.input, seed++);
      const std::string name =
          "max_pool2d " + shape_str(m.input) + (contiguous ? "" : " non-contiguous");
      cases.push_back({name, {x}, [m](const TensorList& t) {
                         return max_pool2d(t[0], m.k, m.stride, m.pad, m.dilation, m.ceil);
                       }});
      auto [fast_values, fast_idx] =
          max_pool2d_with_indices(x, m.k, m.stride, m.pad, m.dilation, m.ceil);
      ops::ReferenceOnlyGuard guard;
      auto [ref_values, ref_idx] =
          max_pool2d_with_indices(x, m.k, m.stride, m.pad, m.dilation, m.ceil);
      INFO(name);
      CHECK(fast_idx.to_vector<int64_t>() == ref_idx.to_vector<int64_t>());
      CHECK(fast_values.to_vector<float>() == ref_values.to_vector<float>());
    }
  }
  cases.push_back({"adaptive_max_pool2d [2, 3, 11, 7] to 4x3",
                   {randn_f32({2, 3, 11, 7}, seed++)},
                   [](const TensorList& t) {
                     return adaptive_max_pool2d(t[0], {4, 3});
                   }});
  check_cases(cases);
}

TEST_CASE("cpu norm pool: avg_pool2d and adaptive_avg_pool2d") {
  std::vector<Case> cases;
  uint64_t seed = 5000;
  struct Ap {
    Shape input;
    Size2 k, stride, pad;
    bool ceil, count_include_pad;
    std::optional<int64_t> divisor;
  };
  const Ap pools[] = {{{8, 32, 14, 14}, 3, 2, 1, false, true, {}},
                      {{8, 32, 14, 14}, 3, 2, 1, false, false, {}},
                      {{3, 5, 9, 11}, 3, 2, 1, true, true, {}},
                      {{3, 5, 9, 11}, {2, 3}, {3, 1}, {1, 0}, true, false, {}},
                      {{2, 4, 8, 8}, 2, 2, 0, false, true, 3},
                      {{1, 2, 7, 7}, 7, 1, 0, false, true, {}}};
  for (const Ap& p : pools)
    for (bool contiguous : {true, false})
      cases.push_back({"avg_pool2d " + shape_str(p.input) + (contiguous ? "" : " non-contiguous"),
                       {contiguous ? randn_f32(p.input, seed++) : transposed_nchw(p.input, seed++)},
                       [p](const TensorList& t) {
                         return avg_pool2d(t[0], p.k, p.stride, p.pad, p.ceil, p.count_include_pad,
                                           p.divisor);
                       }});
  // The global pool on every ResNet's head, then windows that overlap.
  for (const Shape& s : kImageShapes) {
    cases.push_back({"adaptive_avg_pool2d global " + shape_str(s),
                     {randn_f32(s, seed++)},
                     [](const TensorList& t) { return adaptive_avg_pool2d(t[0], 1); }});
    cases.push_back({"adaptive_avg_pool2d global non-contiguous " + shape_str(s),
                     {transposed_nchw(s, seed++)},
                     [](const TensorList& t) { return adaptive_avg_pool2d(t[0], 1); }});
  }
  cases.push_back({"adaptive_avg_pool2d [2, 3, 11, 7] to 4x3",
                   {randn_f32({2, 3, 11, 7}, seed++)},
                   [](const TensorList& t) {
                     return adaptive_avg_pool2d(t[0], {4, 3});
                   }});
  check_cases(cases);
}
