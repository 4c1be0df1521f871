#include "double_backward.h"
#include "support/op_test.h"

using namespace tutor;
using testing::check_close;
using testing::check_double_backward;
using testing::check_error;
using testing::check_gradient;
using testing::rand_leaf;

namespace {

const Tensor x23 = tensor({{1, 2, 3}, {4, 5, 6}});
const Tensor x42 = tensor({{1, 2}, {3, 4}, {5, 6}, {7, 8}});

// The pieces of split/chunk: their shapes, and that they are views of x.
void check_pieces(const std::vector<Tensor>& pieces, const std::vector<Shape>& shapes, const Tensor& x) {
  REQUIRE(pieces.size() == shapes.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    CHECK(pieces[i].sizes() == shapes[i]);
    CHECK(pieces[i].shares_storage(x));
  }
}

}  // namespace

// ---- cat, stack ----

OP_TEST("cat", "values") {
  check_close(cat({tensor({{1, 2}}), tensor({{3, 4}, {5, 6}})}), tensor({{1, 2}, {3, 4}, {5, 6}}));
  check_close(cat({tensor({{1}, {2}}), tensor({{3, 4}, {5, 6}})}, -1), tensor({{1, 3, 4}, {2, 5, 6}}));
  check_close(cat({x23.t(), tensor({{0, 0}})}, 0), tensor({{1, 4}, {2, 5}, {3, 6}, {0, 0}}));
  // 1-D empty tensors are skipped; empty slabs add nothing
  check_close(cat({zeros({0}), x23, zeros({0})}, 1), x23);
  check_close(cat({zeros({2, 0}), x23, zeros({2, 0})}, 1), x23);
  check_close(cat({zeros({0, 3}), zeros({0, 3})}), zeros({0, 3}));
  check_close(cat({x23}), x23);
  Tensor ints = cat({arange(2), arange(3)});
  CHECK(ints.dtype() == DType::i64);
  check_close(ints, tensor({0, 1, 0, 1, 2}));
  Tensor bools = cat({tensor({1}, DType::b8), tensor({0, 1}, DType::b8)});
  CHECK(bools.dtype() == DType::b8);
  check_close(bools, tensor({1, 0, 1}));
  check_close(cat({tensor({0.5}, DType::f64), tensor({0.25}, DType::f64)}), tensor({0.5, 0.25}));
}

OP_TEST("cat", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{cat({x[0], x[1], x[2]}, 0)}; },
                 {rand_leaf({1, 3}, 1), rand_leaf({2, 3}, 2), rand_leaf({1, 3}, 3)});
  check_gradient([](const TensorList& x) { return TensorList{cat({x[0].t(), x[1]}, -1)}; },
                 {rand_leaf({2, 3}, 1), rand_leaf({3, 1}, 2)});
  check_gradient([](const TensorList& x) { return TensorList{cat({x[0], x[1], x[2]}, 1)}; },
                 {rand_leaf({2, 0}, 1), rand_leaf({2, 2}, 2), rand_leaf({0}, 3)});
  check_double_backward([](const Tensor& x) { return cat({x, x}, 1); }, {2, 2});
}

OP_TEST("cat", "errors") {
  check_error([] { cat({zeros({2, 3}), zeros({3, 3})}, 1); }, {"cat", "[2, 3]", "[3, 3]", "dim 1"});
  check_error([] { cat({zeros({2, 3}), zeros({2})}); }, {"cat", "[2, 3]", "[2]"});
  check_error([] { cat({zeros({2}), zeros({2}, DType::f64)}); }, {"cat", "f32", "f64"});
  check_error([] { cat({}); }, {"cat", "non-empty"});
  check_error([] { cat({zeros({}), zeros({})}); }, {"cat", "0-dim"});
  check_error([] { cat({zeros({2})}, 1); }, {"cat", "dim 1"});
}

OP_TEST("stack", "values") {
  Tensor a = tensor({1, 2}), b = tensor({3, 4});
  check_close(stack({a, b}), tensor({{1, 2}, {3, 4}}));
  check_close(stack({a, b}, 1), tensor({{1, 3}, {2, 4}}));
  check_close(stack({a, b}, -1), tensor({{1, 3}, {2, 4}}));
  check_close(stack({x23.t(), x23.t()}, 1), tensor({{{1, 4}, {1, 4}}, {{2, 5}, {2, 5}}, {{3, 6}, {3, 6}}}));
  check_close(stack({zeros({0}), zeros({0})}), zeros({2, 0}));
  check_close(stack({tensor(1.0), tensor(2.0)}), tensor({1, 2}));
  check_close(stack({arange(2), arange(2)}), tensor({{0, 1}, {0, 1}}));
  check_close(stack({tensor({1}, DType::b8), tensor({0}, DType::b8)}, 1), tensor({{1, 0}}));
}

OP_TEST("stack", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{stack({x[0], x[1]}, 0)}; },
                 {rand_leaf({2, 3}, 1), rand_leaf({2, 3}, 2)});
  check_gradient([](const TensorList& x) { return TensorList{stack({x[0].t(), x[1], x[0].t()}, -1)}; },
                 {rand_leaf({2, 3}, 1), rand_leaf({3, 2}, 2)});
  check_gradient([](const TensorList& x) { return TensorList{stack({x[0], x[1]}, 1)}; },
                 {rand_leaf({0, 2}, 1), rand_leaf({0, 2}, 2)});
}

OP_TEST("stack", "errors") {
  check_error([] { stack({zeros({2}), zeros({3})}); }, {"stack", "[2]", "[3]"});
  check_error([] { stack({zeros({2}), zeros({2})}, 2); }, {"stack", "dim 2"});
  check_error([] { stack({}); }, {"stack", "non-empty"});
}

// ---- split, chunk ----

OP_TEST("split", "values") {
  Tensor x = arange(5);
  auto pieces = split(x, 2);
  check_pieces(pieces, {{2}, {2}, {1}}, x);
  check_close(pieces[2], tensor({4}));
  auto sized = split(x, std::vector<int64_t>{1, 0, 4});
  check_pieces(sized, {{1}, {0}, {4}}, x);
  check_close(sized[2], tensor({1, 2, 3, 4}));
  auto cols = split(x23, 2, -1);
  check_pieces(cols, {{2, 2}, {2, 1}}, x23);
  check_close(cols[1], tensor({{3}, {6}}));
  auto rows = split(x23.t(), 1, 0);
  check_close(rows[2], tensor({{3, 6}}));
  Tensor none = zeros({0, 2});
  check_pieces(split(none, 3), {{0, 2}}, none);
  check_close(split(x, 7)[0], x);
}

OP_TEST("split", "gradient") {
  check_gradient([](const TensorList& x) { return split(x[0], 2, 1); }, {rand_leaf({2, 5})});
  check_gradient([](const TensorList& x) { return split(x[0].t(), std::vector<int64_t>{2, 1}, 0); },
                 {rand_leaf({2, 3})});
  check_gradient([](const TensorList& x) { return TensorList{split(x[0], 1)[1]}; }, {rand_leaf({3, 1})});
}

OP_TEST("split", "errors") {
  check_error([] { split(zeros({2, 5}), std::vector<int64_t>{2, 2}, 1); }, {"split", "[2, 2]", "size 5", "[2, 5]"});
  check_error([] { split(zeros({2, 5}), 0, 1); }, {"split", "positive", "size 5"});
  check_error([] { split(zeros({}), 1); }, {"split", "0-dim"});
}

OP_TEST("chunk", "values") {
  Tensor x = arange(5);
  auto three = chunk(x, 3);
  check_pieces(three, {{2}, {2}, {1}}, x);
  check_close(three[1], tensor({2, 3}));
  Tensor six = arange(6);
  check_pieces(chunk(six, 4), {{2}, {2}, {2}}, six);  // fewer pieces than asked
  auto rows = chunk(x23, 2, -2);
  check_close(rows[1], tensor({{4, 5, 6}}));
  check_close(chunk(x23.t(), 2, 1)[0], tensor({{1}, {2}, {3}}));
  auto empties = chunk(zeros({0, 2}), 3);
  REQUIRE(empties.size() == 3);
  for (const Tensor& e : empties) CHECK(e.sizes() == Shape{0, 2});
}

OP_TEST("chunk", "gradient") {
  check_gradient([](const TensorList& x) { return chunk(x[0], 3, 0); }, {rand_leaf({5, 2})});
  check_gradient([](const TensorList& x) { return chunk(x[0].t(), 2, -1); }, {rand_leaf({3, 2})});
}

OP_TEST("chunk", "errors") {
  check_error([] { chunk(zeros({2}), 0); }, {"chunk", "positive", "0"});
}

// ---- repeat, repeat_interleave ----

OP_TEST("repeat", "values") {
  Tensor v = tensor({1, 2, 3});
  check_close(repeat(v, {2}), tensor({1, 2, 3, 1, 2, 3}));
  check_close(repeat(v, {2, 1}), tensor({{1, 2, 3}, {1, 2, 3}}));
  Tensor m = tensor({{1, 2}, {3, 4}});
  check_close(repeat(m, {1, 2}), tensor({{1, 2, 1, 2}, {3, 4, 3, 4}}));
  check_close(repeat(m, {2, 1}), tensor({{1, 2}, {3, 4}, {1, 2}, {3, 4}}));
  check_close(repeat(m.t(), {1, 2}), tensor({{1, 3, 1, 3}, {2, 4, 2, 4}}));
  check_close(repeat(m, {0, 1}), zeros({0, 2}));
  check_close(repeat(tensor(5.0), {3}), tensor({5, 5, 5}));
  check_close(repeat(arange(2), {2}), tensor({0, 1, 0, 1}));
  check_close(repeat(tensor({1, 0}, DType::b8), {1, 2}), tensor({{1, 0, 1, 0}}));
  Tensor same = repeat(m, {1, 1});  // a fresh tensor, never a view of x
  check_close(same, m);
  CHECK_FALSE(same.shares_storage(m));
}

OP_TEST("repeat", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{repeat(x[0], {2, 3})}; }, {rand_leaf({2, 2})});
  check_gradient([](const TensorList& x) { return TensorList{repeat(x[0].t(), {2, 1, 2})}; }, {rand_leaf({2, 3})});
  check_gradient([](const TensorList& x) { return TensorList{repeat(x[0], {1, 1})}; }, {rand_leaf({1, 3})});
  check_gradient([](const TensorList& x) { return TensorList{repeat(x[0], {0, 2})}; }, {rand_leaf({2, 2})});
}

OP_TEST("repeat", "errors") {
  check_error([] { repeat(zeros({2, 3}), {2}); }, {"repeat", "[2, 3]"});
  check_error([] { repeat(zeros({2}), {-1}); }, {"repeat", "-1"});
}

OP_TEST("repeat_interleave", "values") {
  check_close(repeat_interleave(tensor({1, 2, 3}), 2), tensor({1, 1, 2, 2, 3, 3}));
  Tensor m = tensor({{1, 2}, {3, 4}});
  check_close(repeat_interleave(m, 2, 0), tensor({{1, 2}, {1, 2}, {3, 4}, {3, 4}}));
  check_close(repeat_interleave(m, 2, -1), tensor({{1, 1, 2, 2}, {3, 3, 4, 4}}));
  check_close(repeat_interleave(m, 2), tensor({1, 1, 2, 2, 3, 3, 4, 4}));
  check_close(repeat_interleave(m.t(), 2, 1), tensor({{1, 1, 3, 3}, {2, 2, 4, 4}}));
  check_close(repeat_interleave(m, 0, 1), zeros({2, 0}));
  check_close(repeat_interleave(arange(2), 3), tensor({0, 0, 0, 1, 1, 1}));
  check_close(repeat_interleave(tensor({0, 1}, DType::b8), 2), tensor({0, 0, 1, 1}));
  Tensor same = repeat_interleave(m, 1, 0);
  check_close(same, m);
  CHECK_FALSE(same.shares_storage(m));
}

OP_TEST("repeat_interleave", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{repeat_interleave(x[0], 3, 1)}; }, {rand_leaf({2, 2})});
  check_gradient([](const TensorList& x) { return TensorList{repeat_interleave(x[0].t(), 2)}; }, {rand_leaf({2, 3})});
  check_gradient([](const TensorList& x) { return TensorList{repeat_interleave(x[0], 2, 0)}; }, {rand_leaf({0, 3})});
}

OP_TEST("repeat_interleave", "errors") {
  check_error([] { repeat_interleave(zeros({2}), -2); }, {"repeat_interleave", "-2"});
  check_error([] { repeat_interleave(zeros({2}), 2, 1); }, {"repeat_interleave", "dim 1"});
}

// ---- flip, roll ----

OP_TEST("flip", "values") {
  check_close(flip(x23, {0}), tensor({{4, 5, 6}, {1, 2, 3}}));
  check_close(flip(x23, {-1}), tensor({{3, 2, 1}, {6, 5, 4}}));
  check_close(flip(x23, {1, 0}), tensor({{6, 5, 4}, {3, 2, 1}}));
  check_close(flip(x23, {}), x23);
  check_close(flip(x23.t(), {0}), tensor({{3, 6}, {2, 5}, {1, 4}}));
  check_close(flip(zeros({0, 2}), {0}), zeros({0, 2}));
  check_close(flip(tensor({{7}}), {0, 1}), tensor({{7}}));
  check_close(flip(arange(3), {0}), tensor({2, 1, 0}));
  check_close(flip(tensor({1, 0, 0}, DType::b8), {0}), tensor({0, 0, 1}));
  check_close(flip(tensor({0.5, 0.25}, DType::f64), {0}), tensor({0.25, 0.5}));
}

OP_TEST("flip", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{flip(x[0], {0})}; }, {rand_leaf({3, 2})});
  check_gradient([](const TensorList& x) { return TensorList{flip(x[0].t(), {0, -1})}; }, {rand_leaf({2, 3})});
  check_gradient([](const TensorList& x) { return TensorList{flip(x[0], {1})}; }, {rand_leaf({1, 1, 4})});
  check_double_backward([](const Tensor& x) { return flip(x, {0}); }, {3});
}

OP_TEST("flip", "errors") {
  check_error([] { flip(zeros({2, 3}), {0, -2}); }, {"flip", "twice"});
  check_error([] { flip(zeros({2, 3}), {2}); }, {"flip", "dim 2"});
}

OP_TEST("roll", "values") {
  // the examples of the PyTorch documentation
  check_close(roll(x42, {1}), tensor({{8, 1}, {2, 3}, {4, 5}, {6, 7}}));
  check_close(roll(x42, {1}, {0}), tensor({{7, 8}, {1, 2}, {3, 4}, {5, 6}}));
  check_close(roll(x42, {-1}, {0}), tensor({{3, 4}, {5, 6}, {7, 8}, {1, 2}}));
  check_close(roll(x42, {2, 1}, {0, 1}), tensor({{6, 5}, {8, 7}, {2, 1}, {4, 3}}));
  check_close(roll(x42, {9}, {-2}), roll(x42, {1}, {0}));  // shifts wrap
  check_close(roll(x42.t(), {1}, {1}), tensor({{7, 1, 3, 5}, {8, 2, 4, 6}}));
  check_close(roll(zeros({0, 2}), {1}, {0}), zeros({0, 2}));
  check_close(roll(arange(3), {1}), tensor({2, 0, 1}));
  check_close(roll(tensor({1, 0, 0}, DType::b8), {-1}), tensor({0, 0, 1}));
  Tensor same = roll(x42, {4}, {0});
  check_close(same, x42);
  CHECK_FALSE(same.shares_storage(x42));
}

OP_TEST("roll", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{roll(x[0], {2})}; }, {rand_leaf({2, 3})});
  check_gradient([](const TensorList& x) { return TensorList{roll(x[0].t(), {1, -1}, {0, 1})}; }, {rand_leaf({3, 4})});
  check_gradient([](const TensorList& x) { return TensorList{roll(x[0], {3}, {1})}; }, {rand_leaf({2, 1})});
  check_double_backward([](const Tensor& x) { return roll(x, {1, 2}, {0, 1}); }, {2, 3});
}

OP_TEST("roll", "errors") {
  check_error([] { roll(zeros({2, 3}), {1, 2}); }, {"roll", "2 shifts"});
  check_error([] { roll(zeros({2, 3}), {1}, {0, 1}); }, {"roll", "1 shifts for 2 dims"});
  check_error([] { roll(zeros({2, 3}), {1}, {2}); }, {"roll", "dim 2"});
}

// ---- tril, triu ----

OP_TEST("tril", "values") {
  Tensor m = tensor({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}});
  check_close(tril(m), tensor({{1, 0, 0}, {4, 5, 0}, {7, 8, 9}}));
  check_close(tril(m, 1), tensor({{1, 2, 0}, {4, 5, 6}, {7, 8, 9}}));
  check_close(tril(m, -1), tensor({{0, 0, 0}, {4, 0, 0}, {7, 8, 0}}));
  check_close(tril(x23), tensor({{1, 0, 0}, {4, 5, 0}}));
  check_close(tril(x23.t()), tensor({{1, 0}, {2, 5}, {3, 6}}));
  check_close(tril(stack({m, m}).narrow(1, 1, 2), -1), tensor({{{0, 0, 0}, {7, 0, 0}}, {{0, 0, 0}, {7, 0, 0}}}));
  check_close(tril(zeros({2, 0, 3})), zeros({2, 0, 3}));
  check_close(tril(arange(4).view({2, 2})), tensor({{0, 0}, {2, 3}}));
  check_close(tril(ones({2, 2}, DType::b8)), tensor({{1, 0}, {1, 1}}));
}

OP_TEST("tril", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{tril(x[0])}; }, {rand_leaf({3, 3})});
  check_gradient([](const TensorList& x) { return TensorList{tril(x[0].t(), 1)}; }, {rand_leaf({2, 4})});
  check_gradient([](const TensorList& x) { return TensorList{tril(x[0], -1)}; }, {rand_leaf({2, 1, 3})});
  check_double_backward([](const Tensor& x) { return tril(x); }, {2, 2});
}

OP_TEST("tril", "errors") {
  check_error([] { tril(zeros({3})); }, {"tril", "2 dims", "[3]"});
}

OP_TEST("triu", "values") {
  Tensor m = tensor({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}});
  check_close(triu(m), tensor({{1, 2, 3}, {0, 5, 6}, {0, 0, 9}}));
  check_close(triu(m, 1), tensor({{0, 2, 3}, {0, 0, 6}, {0, 0, 0}}));
  check_close(triu(m, -1), tensor({{1, 2, 3}, {4, 5, 6}, {0, 8, 9}}));
  check_close(triu(x23.t()), tensor({{1, 4}, {0, 5}, {0, 0}}));
  check_close(triu(zeros({0, 0})), zeros({0, 0}));
  check_close(triu(arange(4).view({2, 2})), tensor({{0, 1}, {0, 3}}));
  check_close(triu(ones({2, 2}, DType::b8), 1), tensor({{0, 1}, {0, 0}}));
}

OP_TEST("triu", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{triu(x[0])}; }, {rand_leaf({3, 3})});
  check_gradient([](const TensorList& x) { return TensorList{triu(x[0].t(), -1)}; }, {rand_leaf({4, 2})});
  check_gradient([](const TensorList& x) { return TensorList{triu(x[0], 2)}; }, {rand_leaf({2, 2, 3})});
}

OP_TEST("triu", "errors") {
  check_error([] { triu(zeros({})); }, {"triu", "2 dims", "[]"});
}
