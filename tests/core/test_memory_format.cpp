// Memory formats of strided tensors: channels-last strides, the predicates, empty in a format,
// empty_strided's check, and copies between layouts (values by logical index, never by memory
// order).
#include <doctest/doctest.h>

#include <vector>

#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

namespace {
constexpr MemoryFormat kCL = MemoryFormat::ChannelsLast;
}

TEST_CASE("memory format: channels-last strides and the predicates") {
  CHECK(channels_last_strides({2, 3, 4, 5}) == Shape{60, 1, 15, 3});
  Tensor t = empty({2, 3, 4, 5}, {}, kCL);
  CHECK(t.strides() == Shape{60, 1, 15, 3});
  CHECK(t.is_contiguous(kCL));
  CHECK_FALSE(t.is_contiguous());
  CHECK(t.suggest_memory_format() == kCL);
  CHECK(empty({2, 3, 4, 5}).suggest_memory_format() == MemoryFormat::Contiguous);
  CHECK_FALSE(empty({2, 3, 4, 5}).is_contiguous(kCL));
  // C = 1 and H = W = 1: both layouts hold the same memory; the strides decide the suggestion.
  Tensor one_channel = empty({2, 1, 4, 5}, {}, kCL);
  CHECK(one_channel.is_contiguous());
  CHECK(one_channel.suggest_memory_format() == kCL);
  CHECK(empty({2, 1, 4, 5}).suggest_memory_format() == MemoryFormat::Contiguous);
  CHECK(empty({2, 7, 1, 1}, {}, kCL).suggest_memory_format() == kCL);
  // Not 4-D, or not dense: never channels-last.
  CHECK(empty({3, 4, 5}).suggest_memory_format() == MemoryFormat::Contiguous);
  CHECK(t.narrow(3, 0, 2).suggest_memory_format() == MemoryFormat::Contiguous);
}

TEST_CASE("memory format: non_overlapping_and_dense and empty_strided") {
  CHECK(non_overlapping_and_dense({2, 3}, {3, 1}));
  CHECK(non_overlapping_and_dense({2, 3}, {1, 2}));         // a transposed layout
  CHECK(non_overlapping_and_dense({2, 1, 3}, {3, 99, 1}));  // size-1 strides do not matter
  CHECK_FALSE(non_overlapping_and_dense({2, 3}, {1, 1}));   // overlapping
  CHECK_FALSE(non_overlapping_and_dense({2, 3}, {6, 1}));   // gaps
  CHECK_FALSE(non_overlapping_and_dense({2, 3}, {0, 1}));   // broadcast
  CHECK(empty_strided({2, 3}, {1, 2}).strides() == Shape{1, 2});
  check_error([] { empty_strided({2, 3}, {6, 1}); }, {"empty_strided", "[6, 1]", "[2, 3]"});
  check_error([] { empty({2, 3}, {}, kCL); }, {"channels_last", "4-D", "[2, 3]"});
}

TEST_CASE("memory format: copies between layouts keep the values at each index") {
  Tensor x = arange(2 * 3 * 4 * 5, DType::f32).reshape({2, 3, 4, 5});
  Tensor y = x.contiguous(kCL);
  CHECK(y.suggest_memory_format() == kCL);
  CHECK(y.to_vector<float>() == x.to_vector<float>());
  CHECK(y.contiguous(kCL).is_same(y));
  Tensor back = y.contiguous();
  CHECK(back.is_contiguous());
  CHECK(back.to_vector<float>() == x.to_vector<float>());
  // Element [n, c, h, w] of y sits at n*60 + h*15 + w*3 + c in memory.
  const float* p = y.data<float>();
  CHECK(p[1 * 60 + 2 * 15 + 3 * 3 + 1] == float(((1 * 3 + 1) * 4 + 2) * 5 + 3));
  // copy_raw_ between two tensors of one dense layout, and contiguous_raw(format).
  Tensor z = empty({2, 3, 4, 5}, {}, kCL);
  z.copy_raw_(y);
  CHECK(z.to_vector<float>() == x.to_vector<float>());
  CHECK(x.contiguous_raw(kCL).to_vector<float>() == x.to_vector<float>());
  CHECK(x.contiguous_raw(kCL).is_contiguous(kCL));
  check_error([&] { x.reshape({6, 20}).contiguous(kCL); }, {"contiguous", "4-D", "[6, 20]"});
}

TEST_CASE("memory format: contiguous(ChannelsLast) passes gradients through") {
  Tensor x = rand_leaf({2, 3, 2, 2});
  Tensor w = rand_leaf({2, 3, 2, 2}, 8);
  sum(mul(x.contiguous(kCL), w)).backward();
  check_close(x.grad(), w.detach());
}

TEST_CASE("memory format: element-wise outputs follow their inputs' dense layout") {
  Tensor a = randn({2, 3, 4, 5}).contiguous(kCL), b = randn({2, 3, 4, 5}).contiguous(kCL);
  CHECK(add(a, b).strides() == a.strides());
  CHECK(exp(a).strides() == a.strides());
  Tensor t = randn({5, 4}).t();  // a transposed dense layout is kept too, as PyTorch does
  CHECK(neg(t).strides() == t.strides());
  check_close(neg(t), neg(t.contiguous()));
  // Mixed layouts: the first input's channels-last wins; broadcast inputs do not count.
  CHECK(add(a, randn({2, 3, 4, 5})).suggest_memory_format() == kCL);
  CHECK(add(randn({2, 3, 4, 5}), a).is_contiguous());
  CHECK(mul(a, randn({1, 3, 1, 1})).suggest_memory_format() == kCL);
  check_close(add(a, b), add(a.contiguous(), b.contiguous()));
}
