// The CPU loop kernels for scatter, scatter_add and index_add (kernels/cpu/loops_indexing_body.h)
// against the reference backend, forward and backward (their backward runs gather and
// index_select; gather's, index_select's and sort's backward runs them), by
// tests/support/backend_compare.h: any dim, indices with many repeats, an index smaller than the
// input outside dim, batch 1, a single column, empty indices, transposed, sliced and broadcast
// inputs, and sizes large enough to split over the threads. Repeated targets must take their
// writes in the reference's order: scatter's last write wins, and the sums do not depend on the
// thread count.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/ops/dispatch.h"
#include "engine/ops/ops.h"
#include "kernels/cpu/threads.h"
#include "support/backend_compare.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

// Indices in [0, high): with high small against the count, most targets repeat.
Tensor indices(int64_t high, const Shape& s, uint64_t seed) {
  Generator gen(seed);
  return randint(0, high, s, DType::i64, &gen);
}

struct ScatterShape {
  Shape x, index;
  int64_t dim;
  int64_t high;  // indices in [0, high), high <= x's size along dim
};

// Along every dim, an index smaller than x outside dim, batch 1, one column (1-D), an empty
// index, and [300, 500] with 400 positions per row: 120000 writes, split over the threads.
const ScatterShape kScatterShapes[] = {{{64, 1000}, {64, 1}, 1, 1000},
                                       {{64, 1000}, {64, 300}, 1, 7},
                                       {{64, 1000}, {200, 1000}, 0, 64},
                                       {{1, 1000}, {1, 50}, 1, 10},
                                       {{5, 7, 9}, {4, 11, 6}, 1, 7},
                                       {{5, 7, 9}, {5, 7, 20}, 2, 3},
                                       {{5, 7, 9}, {9, 2, 9}, 0, 5},
                                       {{10}, {1000}, 0, 10},
                                       {{1}, {3}, 0, 1},
                                       {{6, 5}, {6, 0}, 1, 5},
                                       {{300, 500}, {300, 400}, 1, 500}};

using ScatterOp = Tensor (*)(const Tensor&, int64_t, const Tensor&, const Tensor&);

void add_scatter_cases(std::vector<Case>& cases, const std::string& name, ScatterOp op,
                       uint64_t& seed) {
  for (const ScatterShape& s : kScatterShapes) {
    Tensor index = indices(s.high, s.index, seed++);
    Shape src_shape = s.index;
    src_shape[size_t(s.dim)] += 1;  // src larger than index: only its leading part is read
    cases.push_back({name + " " + shape_str(s.x) + " index " + shape_str(s.index) + " dim " +
                         std::to_string(s.dim),
                     {randn_f32(s.x, seed++), randn_f32(src_shape, seed++)},
                     [op, index, s](const TensorList& t) { return op(t[0], s.dim, index, t[1]); }});
  }
  cases.push_back({name + " into a transposed input with a transposed index and src",
                   {randn_f32({30, 50}, seed++), randn_f32({20, 30}, seed++)},
                   [op, i = indices(50, {20, 30}, seed++)](const TensorList& t) {
                     return op(t[0].t(), 0, i.t(), t[1].t());
                   }});
  cases.push_back({name + " of a sliced src with a strided index",
                   {randn_f32({40, 33}, seed++), randn_f32({40, 300}, seed++)},
                   [op, i = indices(40, {80, 33}, seed++)](const TensorList& t) {
                     return op(t[0], 0, i.narrow(0, 1, 79).slice(0, 0, 79, 2),
                               t[1].narrow(1, 7, 33));
                   }});
  cases.push_back({name + " of a broadcast src into a broadcast input",
                   {randn_f32({1, 64}, seed++), randn_f32({64}, seed++)},
                   [op, i = indices(16, {16, 64}, seed++)](const TensorList& t) {
                     return op(t[0].expand({16, 64}), 0, i, t[1].expand({16, 64}));
                   }});
  cases.push_back(
      {name + " of NaN and inf",
       {randn_f32({3, 6}, seed++), special_values_f32().view({3, 6})},
       [op, i = indices(6, {3, 6}, seed++)](const TensorList& t) { return op(t[0], 1, i, t[1]); },
       false});
}

Tensor scatter_op(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter(x, dim, index, src);
}
Tensor scatter_add_op(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_add(x, dim, index, src);
}

}  // namespace

TEST_CASE("cpu loops: scatter, scatter_add and index_add registered as the cpu backend for f32") {
  for (const char* name : {"scatter", "scatter_add", "index_add", "cat"}) {
    INFO(name);
    const ops::Kernel k(name);
    CHECK(ops::backend_for(k, kCPU, DType::f32) == kernels::Backend::cpu);
    CHECK(ops::backend_for(k, kCPU, DType::f64) == kernels::Backend::reference);
  }
}

TEST_CASE("cpu loops: scatter and scatter_add with repeated indices along any dim") {
  std::vector<Case> cases;
  uint64_t seed = 3000;
  add_scatter_cases(cases, "scatter", scatter_op, seed);
  add_scatter_cases(cases, "scatter_add", scatter_add_op, seed);
  check_cases(cases);
}

TEST_CASE("cpu loops: scatter keeps the last of repeated writes, as the reference") {
  Tensor x = zeros({2, 4});
  Tensor index = from_vector<int64_t>({1, 1, 1, 3, 0, 0}, {2, 3}, DType::i64);
  Tensor src = from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(scatter(x, 1, index, src).to_vector<float>() == std::vector<float>{0, 3, 0, 0, 6, 0, 0, 4});
  CHECK(scatter_add(x, 1, index, src).to_vector<float>() ==
        std::vector<float>{0, 6, 0, 0, 11, 0, 0, 4});
}

TEST_CASE("cpu loops: index_add with repeated indices, alpha, any dim") {
  struct AddCase {
    Shape x;
    int64_t dim, count, high;
    double alpha;
  };
  const AddCase adds[] = {{{1000, 64}, 0, 4096, 1000, 1},  // embedding's backward
                          {{64, 1000}, 1, 300, 5, -0.5},  {{1, 9}, 1, 40, 3, 1},
                          {{5, 7, 9}, 1, 11, 2, 2},       {{5, 7, 9}, 2, 4, 9, 1},
                          {{17}, 0, 1000, 17, 1},         {{6, 5}, 0, 0, 6, 1},
                          {{300, 400}, 0, 600, 300, 1}};
  std::vector<Case> cases;
  uint64_t seed = 3100;
  for (const AddCase& c : adds) {
    Tensor index = indices(c.high, {c.count}, seed++);
    Shape src_shape = c.x;
    src_shape[size_t(c.dim)] = c.count;
    cases.push_back(
        {"index_add " + shape_str(c.x) + " dim " + std::to_string(c.dim) + " " +
             std::to_string(c.count) + " indices alpha " + std::to_string(c.alpha),
         {randn_f32(c.x, seed++), randn_f32(src_shape, seed++)},
         [index, c](const TensorList& t) { return index_add(t[0], c.dim, index, t[1], c.alpha); }});
  }
  cases.push_back({"index_add with a 0-d index",
                   {randn_f32({9, 13}, seed++), randn_f32({9, 1}, seed++)},
                   [](const TensorList& t) {
                     return index_add(t[0], 1, from_vector<int64_t>({4}, {1}, DType::i64).view({}),
                                      t[1]);
                   }});
  cases.push_back(
      {"index_add of a transposed src into a sliced input, strided index",
       {randn_f32({40, 300}, seed++), randn_f32({30, 40}, seed++)},
       [i = indices(201, {60}, seed++)](const TensorList& t) {
         return index_add(t[0].narrow(1, 7, 201), 1, i.view({30, 2}).select(1, 1), t[1].t());
       }});
  cases.push_back({"index_add of a broadcast src",
                   {randn_f32({50, 16}, seed++), randn_f32({16}, seed++)},
                   [i = indices(50, {70}, seed++)](const TensorList& t) {
                     return index_add(t[0], 0, i, t[1].expand({70, 16}));
                   }});
  cases.push_back(
      {"index_select's and embedding's backward",
       {randn_f32({100, 32}, seed++)},
       [i = indices(100, {500}, seed++)](const TensorList& t) {
         return add(index_select(t[0], 0, i), embedding(t[0], i.view({25, 20})).view({500, 32}));
       }});
  cases.push_back({"sort's and topk's backward (scatter into zeros)",
                   {randn_f32({33, 70}, seed++)},
                   [](const TensorList& t) {
                     return add(sort(t[0], 1).values.narrow(1, 0, 5), topk(t[0], 5, 1).values);
                   }});
  check_cases(cases);
}

TEST_CASE("cpu loops: scatter_add and index_add give the same bits on one thread and on two") {
  const Tensor x = randn_f32({300, 500}, 3200), src = randn_f32({300, 400}, 3201);
  const Tensor index = indices(20, {300, 400}, 3202), rows = indices(30, {400}, 3203);
  auto run_all = [&] {
    return std::vector<std::vector<float>>{
        scatter_add(x, 1, index, src).to_vector<float>(),
        scatter_add(x.t(), 0, index.t(), src.t()).to_vector<float>(),
        index_add(x.narrow(1, 0, 400).t(), 0, rows, src.t().contiguous()).to_vector<float>()};
  };
  const int before = kernels::cpu::num_threads();
  kernels::cpu::set_num_threads(1);
  const auto one = run_all();
  kernels::cpu::set_num_threads(2);
  const auto two = run_all();
  kernels::cpu::set_num_threads(before);
  CHECK(one == two);
}
