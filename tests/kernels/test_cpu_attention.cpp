// The CPU attention kernels (kernels/cpu/attention.cpp) against the reference ones: each case runs
// scaled_dot_product_attention forward and backward under ops::ReferenceOnlyGuard and normally,
// and compares the output and the q, k, v gradients by normalized MSE <= 1e-7.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/ops/dispatch.h"
#include "engine/ops/ops.h"
#include "support/backend_compare.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

const double kInf = std::numeric_limits<double>::infinity();

Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask = Tensor(),
              bool causal = false) {
  return scaled_dot_product_attention(q, k, v, mask, 0, causal).output;
}

// A bool mask of `shape` whose element n is kept unless `drop(n)`.
template <class F>
Tensor bool_mask(const Shape& shape, F drop) {
  std::vector<int64_t> keep(size_t(shape_numel(shape)));
  for (size_t n = 0; n < keep.size(); ++n) keep[n] = drop(int64_t(n)) ? 0 : 1;
  return from_vector(keep, shape, DType::b8);
}

// q [batch.., l, e], k [batch.., s, e], v [batch.., s, ev] with a fixed seed per case.
Case plain(const std::string& name, const Shape& batch, int64_t l, int64_t s, int64_t e, int64_t ev,
           bool causal = false, double scale = 1) {
  auto with = [&](int64_t r, int64_t c) {
    Shape shape = batch;
    shape.push_back(r);
    shape.push_back(c);
    return shape;
  };
  return {
      name,
      {randn_f32(with(l, e), 1, scale), randn_f32(with(s, e), 2, scale), randn_f32(with(s, ev), 3)},
      [causal](const TensorList& t) { return attend(t[0], t[1], t[2], Tensor(), causal); }};
}

}  // namespace

TEST_CASE("cpu attention: registered as the cpu backend for f32") {
  for (const char* name : {"scaled_dot_product_attention", "scaled_dot_product_attention_backward"})
    CHECK(ops::backend_for(ops::Kernel(name), kCPU, DType::f32) == kernels::Backend::cpu);
}

TEST_CASE("cpu attention: shapes against the reference") {
  check_cases({
      plain("one of everything", {}, 1, 1, 1, 1),
      plain("odd sizes, L != S, Ev != E", {2, 3}, 5, 7, 3, 5),
      plain("batch 1, several tiles of odd size", {1}, 65, 130, 17, 9),
      plain("one full tile", {2}, 64, 64, 16, 16),
      plain("wide heads: E and Ev over 64 columns", {2}, 37, 100, 80, 130),
      plain("one query, many keys", {1}, 1, 200, 33, 1),
      plain("many queries, one key", {3}, 150, 1, 8, 4),
      plain("large scores (sharp softmax)", {2}, 20, 70, 16, 16, false, 4),
      plain("ViT-like heads", {8, 4}, 49, 49, 16, 16),
      // one batch element with many key tiles: its dq is summed over runs of key tiles
      plain("long sequence, batch 1", {1}, 300, 290, 32, 24),
      plain("causal, square", {2}, 150, 150, 16, 8, true),
      plain("causal, fewer keys", {1}, 130, 70, 12, 12, true),
      plain("causal, more keys", {3}, 40, 200, 16, 16, true),
  });
}

TEST_CASE("cpu attention: masks against the reference") {
  const int64_t l = 70, s = 90;
  Tensor q = randn_f32({2, 3, l, 16}, 4), k = randn_f32({2, 3, s, 16}, 5),
         v = randn_f32({2, 3, s, 12}, 6);
  // [l, s] broadcast; rows 5 and 66 fully masked
  Tensor keep = bool_mask({l, s}, [&](int64_t n) {
    int64_t i = n / s, j = n % s;
    return i == 5 || i == 66 || (i * 7 + j * 3) % 5 == 0;
  });
  // per batch element and key (a padding mask [2, 1, 1, s]), the second element's last 30 keys
  Tensor padding = bool_mask({2, 1, 1, s}, [&](int64_t n) { return n / s == 1 && n % s >= 60; });
  // an additive bias with -inf entries and a fully -inf row
  std::vector<double> bias_values(size_t(l * s));
  Tensor noise = randn_f32({l, s}, 7);
  std::vector<double> nv = noise.to_vector<double>();
  for (int64_t n = 0; n < l * s; ++n)
    bias_values[size_t(n)] = n / s == 9 || n % 11 == 0 ? -kInf : nv[size_t(n)];
  Tensor bias = from_vector(bias_values, {l, s}, DType::f32);
  // a mask read through strides: the transpose of an [s, l] tensor
  Tensor keep_t = bool_mask({s, l}, [&](int64_t n) { return (n * 13) % 7 == 0; }).transpose(0, 1);
  auto masked = [](const Tensor& mask) {
    return [mask](const TensorList& t) { return attend(t[0], t[1], t[2], mask); };
  };
  check_cases({
      {"bool [L, S] with fully masked rows", {q, k, v}, masked(keep)},
      {"bool key padding [N, 1, 1, S]", {q, k, v}, masked(padding)},
      {"additive with -inf and a fully masked row", {q, k, v}, masked(bias)},
      {"bool, transposed view", {q, k, v}, masked(keep_t)},
      {"additive, transposed view", {q, k, v}, masked(randn_f32({s, l}, 18).transpose(0, 1))},
      {"all masked", {q, k, v}, masked(full({l, s}, -kInf))},
  });
}

TEST_CASE("cpu attention: strided and broadcast inputs against the reference") {
  // ViT: one linear output [N, T, 3 C] split into q, k, v [N, H, T, C / H] by reshape and permute
  // (strides (T 3C, C/H, 3C, 1): the batch dims do not merge), without a copy.
  const int64_t n = 3, t = 50, h = 4, hd = 16, c = h * hd;
  auto vit = [=](const TensorList& x) {
    Tensor qkv = x[0].reshape({n, t, 3, h, hd}).permute({2, 0, 3, 1, 4});
    return attend(qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2));
  };
  // nn::MultiheadAttention's layout: [T, N, E] -> [N, H, T, hd] by reshape and permute
  auto mha = [=](const TensorList& x) {
    auto heads = [&](const Tensor& y) { return y.reshape({t, n, h, hd}).permute({1, 2, 0, 3}); };
    return attend(heads(x[0]), heads(x[1]), heads(x[2]));
  };
  check_cases({
      {"ViT packed qkv", {randn_f32({n, t, 3 * c}, 8)}, vit},
      {"MHA [T, N, E] heads",
       {randn_f32({t, n, c}, 9), randn_f32({t, n, c}, 10), randn_f32({t, n, c}, 11)},
       mha},
      {"k and v broadcast over the batch",
       {randn_f32({4, 33, 8}, 12), randn_f32({1, 40, 8}, 13), randn_f32({40, 5}, 14)},
       [](const TensorList& x) { return attend(x[0], x[1], x[2]); }},
      {"q transposed in its last two dims",
       {randn_f32({2, 24, 45}, 15), randn_f32({2, 60, 24}, 16), randn_f32({2, 60, 7}, 17)},
       [](const TensorList& x) { return attend(x[0].transpose(-2, -1), x[1], x[2]); }},
  });
}
