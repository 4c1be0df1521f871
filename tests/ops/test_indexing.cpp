#include <cmath>

#include "double_backward.h"
#include "support/op_test.h"

using namespace tutor;
using testing::check_close;
using testing::check_double_backward;
using testing::check_error;
using testing::check_gradient;
using testing::rand_leaf;

namespace {

Tensor idx(const NestedList& values) { return tensor(values, DType::i64); }
Tensor no_indices() { return empty({0}, DType::i64); }

const Tensor x23 = tensor({{1, 2, 3}, {4, 5, 6}});

}  // namespace

// ---- index_select ----

OP_TEST("index_select", "values") {
  check_close(index_select(x23, 1, idx({2, 0, 2})), tensor({{3, 1, 3}, {6, 4, 6}}));
  check_close(index_select(x23, -2, idx({1})), tensor({{4, 5, 6}}));
  check_close(index_select(x23, 1, idx(2)), tensor({{3}, {6}}));  // 0-d index
  check_close(index_select(x23, 0, no_indices()), zeros({0, 3}));
  check_close(index_select(zeros({0, 3}), 1, idx({1})), zeros({0, 1}));
  check_close(index_select(x23.t(), 0, idx({1, 1})), tensor({{2, 5}, {2, 5}}));
  check_close(index_select(x23.to(DType::f64), 1, idx({1})), tensor({{2}, {5}}));
  Tensor ints = index_select(arange(6).view({2, 3}), 1, idx({1, 0}));
  CHECK(ints.dtype() == DType::i64);
  check_close(ints, tensor({{1, 0}, {4, 3}}));
  Tensor bools = index_select(tensor({1, 0, 1}, DType::b8), 0, idx({1, 2}));
  CHECK(bools.dtype() == DType::b8);
  check_close(bools, tensor({0, 1}));
  // a strided index (every other element)
  check_close(index_select(x23, 1, idx({2, 9, 0, 9}).slice(0, 0, 4, 2)), tensor({{3, 1}, {6, 4}}));
}

OP_TEST("index_select", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{index_select(x[0], 1, idx({2, 0, 2}))}; },
                 {rand_leaf({2, 3})});
  check_gradient([](const TensorList& x) { return TensorList{index_select(x[0].t(), -1, idx({1, 1, 0}))}; },
                 {rand_leaf({2, 4})});
  check_gradient([](const TensorList& x) { return TensorList{index_select(x[0], 0, no_indices())}; },
                 {rand_leaf({3, 1})});
  check_gradient([](const TensorList& x) { return TensorList{index_select(x[0], 0, idx(2))}; },
                 {rand_leaf({4})});
  check_double_backward([](const Tensor& x) { return index_select(x, 0, idx({1, 1, 0})); }, {3, 2});
}

OP_TEST("index_select", "errors") {
  check_error([] { index_select(zeros({2, 3}), 1, idx({0, 3})); },
              {"index_select", "index 3", "dim 1", "size 3"});
  check_error([] { index_select(zeros({2, 3}), 0, idx({-1})); }, {"index_select", "index -1", "size 2"});
  check_error([] { index_select(zeros({2, 3}), 0, tensor({0})); }, {"index_select", "i64", "f32"});
  check_error([] { index_select(zeros({2, 3}), 0, idx({{0}})); }, {"index_select", "[1, 1]"});
  check_error([] { index_select(zeros({2, 3}), 2, idx({0})); }, {"index_select", "dim 2"});
}

// ---- gather ----

OP_TEST("gather", "values") {
  Tensor x = tensor({{1, 2}, {3, 4}});
  check_close(gather(x, 1, idx({{0, 0}, {1, 0}})), tensor({{1, 1}, {4, 3}}));
  check_close(gather(x, -1, idx({{1}, {0}})), tensor({{2}, {3}}));
  check_close(gather(x, 0, idx({{1, 0}})), tensor({{3, 2}}));  // index smaller than x
  check_close(gather(x, 1, empty({2, 0}, DType::i64)), zeros({2, 0}));
  check_close(gather(x.t(), 0, idx({{1, 1}})), tensor({{2, 4}}));  // x^T = [[1, 3], [2, 4]]
  check_close(gather(x.to(DType::f64), 0, idx({{1, 1}, {0, 1}})), tensor({{3, 4}, {1, 4}}));
  check_close(gather(arange(4).view({2, 2}), 1, idx({{1, 1, 0}, {0, 0, 0}})),
              tensor({{1, 1, 0}, {2, 2, 2}}));
  check_close(gather(tensor({{1, 0}}, DType::b8), 1, idx({{1, 0, 0}})), tensor({{0, 1, 1}}));
  // a transposed index
  check_close(gather(x, 1, idx({{1, 0}, {1, 1}}).t()), tensor({{2, 2}, {3, 4}}));
}

OP_TEST("gather", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{gather(x[0], 1, idx({{0, 0, 2}, {1, 2, 1}}))}; },
                 {rand_leaf({2, 3})});
  check_gradient([](const TensorList& x) { return TensorList{gather(x[0].t(), 0, idx({{1, 0}, {1, 1}}))}; },
                 {rand_leaf({2, 3})});
  check_gradient([](const TensorList& x) { return TensorList{gather(x[0], -1, idx({{0}, {0}, {0}}))}; },
                 {rand_leaf({3, 1})});
  check_gradient([](const TensorList& x) { return TensorList{gather(x[0], 0, empty({0, 2}, DType::i64))}; },
                 {rand_leaf({2, 2})});
  check_double_backward([](const Tensor& x) { return gather(x, 1, idx({{0, 0}, {2, 1}})); }, {2, 3});
}

OP_TEST("gather", "errors") {
  check_error([] { gather(zeros({2, 3}), 1, idx({{0, 5}})); }, {"gather", "index 5", "size 3"});
  check_error([] { gather(zeros({2, 3}), 1, idx({0, 1})); }, {"gather", "[2]", "[2, 3]", "rank"});
  check_error([] { gather(zeros({2, 3}), 1, idx({{0}, {0}, {0}})); }, {"gather", "[3, 1]", "[2, 3]"});
  check_error([] { gather(zeros({2, 3}), 1, tensor({{0.0}})); }, {"gather", "i64", "f32"});
}

// ---- scatter ----

OP_TEST("scatter", "values") {
  // the examples of the PyTorch documentation: only the part of src that index covers is read
  Tensor src = arange(1, 11, 1, DType::f32).view({2, 5});
  check_close(scatter(zeros({3, 5}), 0, idx({{0, 1, 2, 0}}), src),
              tensor({{1, 0, 0, 4, 0}, {0, 2, 0, 0, 0}, {0, 0, 3, 0, 0}}));
  check_close(scatter(zeros({3, 5}), 1, idx({{0, 1, 2}, {0, 1, 4}}), src),
              tensor({{1, 2, 3, 0, 0}, {6, 7, 0, 0, 8}, {0, 0, 0, 0, 0}}));
  // untouched elements keep x; negative dim; transposed x
  check_close(scatter(x23, -1, idx({{2}}), tensor({{9}})), tensor({{1, 2, 9}, {4, 5, 6}}));
  check_close(scatter(x23.t(), 0, idx({{0, 2}}), tensor({{7, 8}})), tensor({{7, 4}, {2, 5}, {3, 8}}));
  check_close(scatter(x23, 0, empty({0, 3}, DType::i64), zeros({0, 3})), x23);
  check_close(scatter(arange(3), 0, idx({1}), idx({7})), tensor({0, 7, 2}));
  check_close(scatter(zeros({3}, DType::b8), 0, idx({2}), tensor({1}, DType::b8)), tensor({0, 0, 1}));
  check_close(scatter(x23.to(DType::f64), 1, idx({{0}, {1}}), tensor({{0}, {0}}, DType::f64)),
              tensor({{0, 2, 3}, {4, 0, 6}}));
}

OP_TEST("scatter", "gradient") {
  // distinct targets: a position written twice has no single source to differentiate
  check_gradient([](const TensorList& x) { return TensorList{scatter(x[0], 0, idx({{0, 1, 2, 0}}), x[1])}; },
                 {rand_leaf({3, 5}, 1), rand_leaf({2, 5}, 2)});
  check_gradient([](const TensorList& x) { return TensorList{scatter(x[0].t(), 1, idx({{1}, {0}, {1}}), x[1])}; },
                 {rand_leaf({2, 3}, 1), rand_leaf({3, 1}, 2)});
  check_gradient([](const TensorList& x) { return TensorList{scatter(x[0], -1, idx({{3, 0}}), x[1].t())}; },
                 {rand_leaf({1, 4}, 1), rand_leaf({3, 1}, 2)});
  check_double_backward([](const Tensor& x) { return scatter(zeros({3}, DType::f64), 0, idx({2, 0}), x); }, {2});
}

OP_TEST("scatter", "errors") {
  check_error([] { scatter(zeros({2, 3}), 1, idx({{3}}), zeros({1, 1})); }, {"scatter", "index 3", "size 3"});
  check_error([] { scatter(zeros({2, 3}), 1, idx({{0, 1}}), zeros({1, 1})); }, {"scatter", "[1, 2]", "src", "[1, 1]"});
  check_error([] { scatter(zeros({2, 3}), 1, idx({{0}, {0}, {0}}), zeros({3, 1})); }, {"scatter", "[3, 1]", "[2, 3]"});
  check_error([] { scatter(zeros({2, 3}), 1, tensor({{0}}), zeros({1, 1})); }, {"scatter", "i64", "f32"});
  check_error([] { scatter(zeros({2, 3}), 1, idx({{0}}), zeros({1, 1}, DType::f64)); }, {"scatter", "f32", "f64"});
}

// ---- scatter_add ----

OP_TEST("scatter_add", "values") {
  // repeated targets accumulate
  check_close(scatter_add(ones({1, 3}), 1, idx({{0, 0, 2, 0}}), tensor({{1, 2, 3, 4}})),
              tensor({{8, 1, 4}}));
  check_close(scatter_add(zeros({2, 2}), 0, idx({{1, 1}, {1, 0}}), tensor({{1, 2}, {3, 4}})),
              tensor({{0, 4}, {4, 2}}));
  check_close(scatter_add(zeros({2, 2}).t(), -2, idx({{1, 1}}), tensor({{1, 2}, {3, 4}})),
              tensor({{0, 0}, {1, 2}}));
  check_close(scatter_add(arange(3), 0, idx({2, 2}), idx({5, 6})), tensor({0, 1, 13}));
  check_close(scatter_add(x23, 1, empty({2, 0}, DType::i64), zeros({2, 0})), x23);
  check_close(scatter_add(zeros({3}, DType::f64), 0, idx({1, 1, 1}), tensor({0.5, 0.25, 0.125}, DType::f64)),
              tensor({0, 0.875, 0}));
}

OP_TEST("scatter_add", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{scatter_add(x[0], 1, idx({{0, 0, 2, 0}}), x[1])}; },
                 {rand_leaf({2, 3}, 1), rand_leaf({1, 5}, 2)});
  check_gradient([](const TensorList& x) { return TensorList{scatter_add(x[0].t(), 0, idx({{1, 1}, {0, 1}}), x[1])}; },
                 {rand_leaf({2, 3}, 1), rand_leaf({2, 2}, 2)});
  check_gradient([](const TensorList& x) { return TensorList{scatter_add(x[0], 0, idx({{1}}), x[1])}; },
                 {rand_leaf({2, 1}, 1), rand_leaf({1, 1}, 2)});
  check_double_backward([](const Tensor& x) { return scatter_add(zeros({2}, DType::f64), 0, idx({1, 1, 0}), x); }, {3});
}

OP_TEST("scatter_add", "errors") {
  check_error([] { scatter_add(zeros({2, 3}), 0, idx({{2}}), zeros({1, 1})); }, {"scatter_add", "index 2", "size 2"});
  check_error([] { scatter_add(zeros({2, 3}), 0, idx({{0}}), zeros({1})); }, {"scatter_add", "[1, 1]", "[1]", "rank"});
  check_error([] { scatter_add(zeros({2, 3}), 0, tensor({{0}}, DType::b8), zeros({1, 1})); }, {"scatter_add", "i64", "bool"});
}

// ---- index_add ----

OP_TEST("index_add", "values") {
  // the example of the PyTorch documentation
  check_close(index_add(ones({5, 3}), 0, idx({0, 4, 2}), tensor({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}})),
              tensor({{2, 3, 4}, {1, 1, 1}, {8, 9, 10}, {1, 1, 1}, {5, 6, 7}}));
  // repeated targets accumulate; alpha scales src
  check_close(index_add(zeros({2, 3}), 1, idx({2, 2, 0}), tensor({{1, 2, 3}, {4, 5, 6}})),
              tensor({{3, 0, 3}, {6, 0, 9}}));
  check_close(index_add(zeros({2}), -1, idx({1, 1}), tensor({1, 2}), 2.0), tensor({0, 6}));
  check_close(index_add(zeros({3, 2}).t(), 0, idx({1}), tensor({{1, 2, 3}})), tensor({{0, 0, 0}, {1, 2, 3}}));
  check_close(index_add(x23, 0, no_indices(), zeros({0, 3})), x23);
  check_close(index_add(arange(3), 0, idx({0, 0}), idx({5, 5})), tensor({10, 1, 2}));
  check_close(index_add(zeros({2}, DType::f64), 0, idx(1), tensor({3}, DType::f64)), tensor({0, 3}));
}

OP_TEST("index_add", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{index_add(x[0], 0, idx({0, 2, 0}), x[1])}; },
                 {rand_leaf({3, 2}, 1), rand_leaf({3, 2}, 2)});
  check_gradient([](const TensorList& x) { return TensorList{index_add(x[0].t(), 1, idx({1, 1}), x[1], -0.5)}; },
                 {rand_leaf({2, 3}, 1), rand_leaf({3, 2}, 2)});
  check_gradient([](const TensorList& x) { return TensorList{index_add(x[0], 0, no_indices(), x[1])}; },
                 {rand_leaf({2, 2}, 1), rand_leaf({0, 2}, 2)});
  check_double_backward([](const Tensor& x) { return index_add(zeros({2}, DType::f64), 0, idx({1, 1, 0}), x, 3.0); }, {3});
}

OP_TEST("index_add", "errors") {
  check_error([] { index_add(zeros({2, 3}), 0, idx({2}), zeros({1, 3})); }, {"index_add", "index 2", "size 2"});
  check_error([] { index_add(zeros({2, 3}), 0, idx({0}), zeros({1, 2})); }, {"index_add", "[1, 2]", "[2, 3]"});
  check_error([] { index_add(zeros({2, 3}), 0, tensor({0}), zeros({1, 3})); }, {"index_add", "i64", "f32"});
}

// ---- masked_select ----

OP_TEST("masked_select", "values") {
  Tensor x = tensor({{1, 2}, {3, 4}});
  check_close(masked_select(x, tensor({{1, 0}, {0, 1}}, DType::b8)), tensor({1, 4}));
  check_close(masked_select(x, tensor({1, 0}, DType::b8)), tensor({1, 3}));  // mask broadcasts
  check_close(masked_select(tensor({1, 2}), tensor({{1, 0}, {1, 1}}, DType::b8)), tensor({1, 1, 2}));
  check_close(masked_select(x.t(), tensor({{0, 1}, {0, 1}}, DType::b8)), tensor({3, 4}));
  check_close(masked_select(x, zeros({2, 2}, DType::b8)), zeros({0}));
  check_close(masked_select(zeros({0, 2}), ones({2}, DType::b8)), zeros({0}));
  check_close(masked_select(arange(4), tensor({0, 1, 1, 0}, DType::b8)), tensor({1, 2}));
}

OP_TEST("masked_select", "gradient") {
  Tensor mask = tensor({{1, 0, 1}, {0, 0, 1}}, DType::b8);
  check_gradient([&](const TensorList& x) { return TensorList{masked_select(x[0], mask)}; }, {rand_leaf({2, 3})});
  check_gradient([&](const TensorList& x) { return TensorList{masked_select(x[0], mask)}; }, {rand_leaf({3})});
  check_gradient([&](const TensorList& x) { return TensorList{masked_select(x[0].t(), mask)}; }, {rand_leaf({3, 2})});
  check_gradient([](const TensorList& x) { return TensorList{masked_select(x[0], zeros({2}, DType::b8))}; },
                 {rand_leaf({2})});
}

OP_TEST("masked_select", "errors") {
  check_error([] { masked_select(zeros({2, 3}), zeros({2, 3})); }, {"masked_select", "bool", "f32"});
  check_error([] { masked_select(zeros({2, 3}), zeros({4}, DType::b8)); }, {"masked_select", "[2, 3]", "[4]"});
}

// ---- sort, argsort, topk ----

OP_TEST("sort", "values") {
  auto [v, i] = sort(tensor({3, 1, 2}));
  check_close(v, tensor({1, 2, 3}));
  check_close(i, idx({1, 2, 0}));
  CHECK(i.dtype() == DType::i64);
  // ties keep their input order, ascending and descending
  SortResult up = sort(tensor({2, 1, 2, 1}), 0, false, true);
  check_close(up.values, tensor({1, 1, 2, 2}));
  check_close(up.indices, idx({1, 3, 0, 2}));
  SortResult down = sort(tensor({2, 1, 2, 1}), -1, true, true);
  check_close(down.values, tensor({2, 2, 1, 1}));
  check_close(down.indices, idx({0, 2, 1, 3}));
  // NaN sorts last ascending, first descending
  check_close(sort(tensor({NAN, 1, 0})).indices, idx({2, 1, 0}));
  check_close(sort(tensor({1, NAN, 0}), 0, true).indices, idx({1, 0, 2}));
  // along dim 0 of a transposed matrix: x^T = [[1, 4], [2, 5], [3, 6]] reversed
  SortResult cols = sort(x23.t(), 0, true);
  check_close(cols.values, tensor({{3, 6}, {2, 5}, {1, 4}}));
  check_close(cols.indices, idx({{2, 2}, {1, 1}, {0, 0}}));
  check_close(sort(tensor({{5, 4}, {3, 6}}, DType::f64), 1).values, tensor({{4, 5}, {3, 6}}));
  check_close(sort(idx({4, -1, 7})).values, idx({-1, 4, 7}));
  check_close(sort(zeros({2, 0})).values, zeros({2, 0}));
  SortResult scalar = sort(tensor(5.0));
  CHECK(scalar.values.dim() == 0);
  CHECK(scalar.indices.item<int64_t>() == 0);
}

OP_TEST("sort", "gradient") {
  // random inputs: no ties
  check_gradient([](const TensorList& x) { return TensorList{sort(x[0]).values}; }, {rand_leaf({5})});
  check_gradient([](const TensorList& x) { return TensorList{sort(x[0], 0, true).values}; }, {rand_leaf({3, 4})});
  check_gradient([](const TensorList& x) { return TensorList{sort(x[0].t(), -1).values}; }, {rand_leaf({4, 3})});
  check_gradient([](const TensorList& x) { return TensorList{sort(x[0], 1).values}; }, {rand_leaf({2, 1})});
  check_double_backward([](const Tensor& x) { return sort(x, 0).values; }, {4});
}

OP_TEST("sort", "errors") {
  check_error([] { sort(zeros({2, 3}), 2); }, {"sort", "dim 2"});
}

OP_TEST("argsort", "values") {
  check_close(argsort(tensor({3, 1, 2})), idx({1, 2, 0}));
  check_close(argsort(tensor({{3, 1}, {0, 5}}), 0, true), idx({{0, 1}, {1, 0}}));
  check_close(argsort(idx({2, 2, 1}), 0, false, true), idx({2, 0, 1}));
  CHECK_FALSE(argsort(rand_leaf({3})).requires_grad());
}

OP_TEST("topk", "values") {
  auto [v, i] = topk(tensor({1, 5, 3, 4}), 2);
  check_close(v, tensor({5, 4}));
  check_close(i, idx({1, 3}));
  SortResult low = topk(tensor({1, 5, 3, 4}), 2, 0, false);
  check_close(low.values, tensor({1, 3}));
  check_close(low.indices, idx({0, 2}));
  SortResult cols = topk(tensor({{1, 6}, {4, 2}, {3, 5}}), 1, -2);
  check_close(cols.values, tensor({{4, 6}}));
  check_close(cols.indices, idx({{1, 0}}));
  SortResult t = topk(x23.t(), 1, 1);  // rows of x^T: [1, 4], [2, 5], [3, 6]
  check_close(t.values, tensor({{4}, {5}, {6}}));
  check_close(t.indices, idx({{1}, {1}, {1}}));
  check_close(topk(tensor({1, 2}), 0).values, zeros({0}));
  check_close(topk(idx({4, 9, 1}), 2).values, idx({9, 4}));
  check_close(topk(tensor({0.5, 0.25}, DType::f64), 1).values, tensor({0.5}));
}

OP_TEST("topk", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{topk(x[0], 2).values}; }, {rand_leaf({5})});
  check_gradient([](const TensorList& x) { return TensorList{topk(x[0], 2, 0, false).values}; }, {rand_leaf({3, 4})});
  check_gradient([](const TensorList& x) { return TensorList{topk(x[0].t(), 1).values}; }, {rand_leaf({3, 2})});
  check_gradient([](const TensorList& x) { return TensorList{topk(x[0], 0).values}; }, {rand_leaf({2, 3})});
}

OP_TEST("topk", "errors") {
  check_error([] { topk(zeros({2, 4}), 5); }, {"topk", "k = 5", "size 4", "[2, 4]"});
  check_error([] { topk(zeros({2, 4}), -1); }, {"topk", "-1"});
}

// ---- one_hot, embedding ----

OP_TEST("one_hot", "values") {
  Tensor y = one_hot(idx({0, 2, 1}));
  CHECK(y.dtype() == DType::i64);
  check_close(y, idx({{1, 0, 0}, {0, 0, 1}, {0, 1, 0}}));
  check_close(one_hot(idx({1}), 4), idx({{0, 1, 0, 0}}));
  check_close(one_hot(idx({{0, 1}, {1, 1}})), idx({{{1, 0}, {0, 1}}, {{0, 1}, {0, 1}}}));
  check_close(one_hot(idx({1, 0, 2}).slice(0, 0, 3, 2), 3), idx({{0, 1, 0}, {0, 0, 1}}));
  check_close(one_hot(no_indices(), 3), empty({0, 3}, DType::i64));
  check_close(one_hot(idx(2), 3), idx({0, 0, 1}));
}

OP_TEST("one_hot", "errors") {
  check_error([] { one_hot(idx({0, 5}), 3); }, {"one_hot", "index 5", "size 3"});
  check_error([] { one_hot(idx({-1, 0})); }, {"one_hot", "index -1"});
  check_error([] { one_hot(tensor({0, 1})); }, {"one_hot", "i64", "f32"});
  check_error([] { one_hot(no_indices()); }, {"one_hot", "empty", "[0]"});
}

OP_TEST("embedding", "values") {
  Tensor w = tensor({{0, 1}, {2, 3}, {4, 5}});
  check_close(embedding(w, idx({{2, 0}, {1, 1}})), tensor({{{4, 5}, {0, 1}}, {{2, 3}, {2, 3}}}));
  check_close(embedding(w, idx(1)), tensor({2, 3}));
  check_close(embedding(w, no_indices()), zeros({0, 2}));
  check_close(embedding(w.t().contiguous().t(), idx({0, 2})), tensor({{0, 1}, {4, 5}}));
  check_close(embedding(w.to(DType::f64), idx({{2, 0, 2}}).t()), tensor({{{4, 5}}, {{0, 1}}, {{4, 5}}}));
  // the padding row is looked up like any other
  check_close(embedding(w, idx({1}), 1), tensor({{2, 3}}));
}

OP_TEST("embedding", "gradient") {
  check_gradient([](const TensorList& x) { return TensorList{embedding(x[0], idx({{2, 0}, {2, 2}}))}; },
                 {rand_leaf({3, 2})});
  check_gradient([](const TensorList& x) { return TensorList{embedding(x[0].t(), idx({1, 0, 1}))}; },
                 {rand_leaf({2, 4})});
  check_gradient([](const TensorList& x) { return TensorList{embedding(x[0], idx(0))}; }, {rand_leaf({1, 3})});
  check_double_backward([](const Tensor& x) { return embedding(x, idx({0, 0, 1}), 1); }, {2, 2});
  // padding_idx: its row gets no gradient, the others count their lookups
  for (int64_t pad : {1, -2}) {
    Tensor w = rand_leaf({3, 2});
    sum(embedding(w, idx({{1, 0}, {1, 0}, {2, 1}}), pad)).backward();
    check_close(w.grad(), tensor({{2, 2}, {0, 0}, {1, 1}}));
  }
}

OP_TEST("embedding", "errors") {
  check_error([] { embedding(zeros({3, 2}), idx({0, 3})); }, {"embedding", "index 3", "size 3"});
  check_error([] { embedding(zeros({3, 2}), tensor({0, 1})); }, {"embedding", "i64", "f32"});
  check_error([] { embedding(zeros({3}), idx({0})); }, {"embedding", "2-D", "[3]"});
  check_error([] { embedding(zeros({3, 2}), idx({0}), 3); }, {"embedding", "padding_idx 3", "[3, 2]"});
}
