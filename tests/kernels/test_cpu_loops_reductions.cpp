// The CPU loop kernels for var, std, logsumexp and norm (kernels/cpu/loops_reductions_body.h) and
// for gather, index_select, cat (packed parts by memcpy, strided ones by a strided copy), flip and
// pad (loops_indexing_body.h) against the reference backend, forward and backward, by
// tests/support/backend_compare.h: any dims, odd sizes, size 1, empty, transposed and sliced
// inputs, NaN / inf inputs.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "engine/ops/dispatch.h"
#include "engine/ops/ops.h"
#include "support/backend_compare.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

struct ReduceCase {
  Shape shape;
  std::vector<int64_t> dims;
  bool transpose = false;
};

// The sum test's layouts: trailing, leading, middle and all dims, size 1, empty, transposed.
const ReduceCase kReduceCases[] = {{{1}, {}},
                                   {{7}, {}},
                                   {{4097}, {0}},
                                   {{100001}, {}},
                                   {{64, 1000}, {1}},
                                   {{64, 1000}, {0}},
                                   {{1, 1000}, {1}},
                                   {{5, 7, 9}, {1}},
                                   {{5, 7, 9}, {0, 2}},
                                   {{5, 7, 9}, {1, 2}},
                                   {{4, 1, 6}, {0, 1}},
                                   {{0, 5}, {1}},
                                   {{33, 65}, {0}, true},
                                   {{33, 65}, {1}, true},
                                   {{3001, 70}, {0}}};

using Reduce = std::function<Tensor(const Tensor&, const std::vector<int64_t>&)>;

}  // namespace

TEST_CASE("cpu loops: reduction and indexing kernels registered as the cpu backend for f32") {
  for (const char* name : {"var", "std", "logsumexp", "norm", "gather", "index_select"}) {
    INFO(name);
    const ops::Kernel k(name);
    CHECK(ops::backend_for(k, kCPU, DType::f32) == kernels::Backend::cpu);
    CHECK(ops::backend_for(k, kCPU, DType::f64) == kernels::Backend::reference);
  }
}

TEST_CASE("cpu loops: var, std, logsumexp and norm over any dims") {
  const std::pair<const char*, Reduce> ops_list[] = {
      {"var", [](const Tensor& x, const std::vector<int64_t>& d) { return var(x, d); }},
      {"var biased keepdim",
       [](const Tensor& x, const std::vector<int64_t>& d) { return var(x, d, false, true); }},
      {"std", [](const Tensor& x, const std::vector<int64_t>& d) { return tutor::std(x, d); }},
      {"logsumexp", [](const Tensor& x, const std::vector<int64_t>& d) { return logsumexp(x, d); }},
      {"norm 1", [](const Tensor& x, const std::vector<int64_t>& d) { return norm(x, 1, d); }},
      {"norm 2", [](const Tensor& x, const std::vector<int64_t>& d) { return norm(x, 2, d); }},
      {"norm inf",
       [](const Tensor& x, const std::vector<int64_t>& d) { return norm(x, INFINITY, d); }}};
  std::vector<Case> cases;
  uint64_t seed = 2000;
  for (const auto& [name, op] : ops_list)
    for (const ReduceCase& r : kReduceCases) {
      const bool empty = shape_numel(r.shape) == 0;
      if (empty && std::string(name) == "norm inf") continue;  // the op rejects empty slices
      // var and std of an empty or one-element slice are NaN or inf, with NaN gradients
      const bool degenerate = std::string(name).starts_with("var") || std::string(name) == "std";
      cases.push_back(
          {std::string(name) + " " + shape_str(r.shape) + " dims " + shape_str(r.dims) +
               (r.transpose ? " transposed" : ""),
           {randn_f32(r.shape, seed++, 3)},
           [op, r](const TensorList& t) { return op(r.transpose ? t[0].t() : t[0], r.dims); },
           !(degenerate && (empty || r.shape == Shape{1}))});
    }
  // offset data: the two-pass variance keeps its digits
  cases.push_back({"var of values near 1000",
                   {add(randn_f32({257, 129}, seed++), 1000.0).detach()},
                   [](const TensorList& t) { return var(t[0], {1}); }});
  cases.push_back({"logsumexp of a strided slice",
                   {randn_f32({40, 300}, seed++, 10)},
                   [](const TensorList& t) { return logsumexp(t[0].narrow(1, 7, 201), {1}); }});
  // NaN, +-inf: rows of special values reduced along either dim, forward only
  Tensor special = special_values_f32().view({3, 6});
  for (const auto& [name, op] : ops_list)
    for (int64_t d : {0, 1})
      cases.push_back({std::string(name) + " NaN and inf along dim " + std::to_string(d),
                       {special},
                       [op, d](const TensorList& t) { return op(t[0], {d}); },
                       false});
  cases.push_back({"logsumexp of all -inf and of +inf rows",
                   {from_vector<float>({-INFINITY, -INFINITY, -INFINITY, 1, INFINITY, 2}, {2, 3})},
                   [](const TensorList& t) { return logsumexp(t[0], {1}); },
                   false});
  check_cases(cases);
}

TEST_CASE("cpu loops: gather and index_select along any dim") {
  std::vector<Case> cases;
  uint64_t seed = 2100;
  auto indices = [&](int64_t high, const Shape& s) {
    Generator gen(seed++);
    return randint(0, high, s, DType::i64, &gen);
  };
  struct GatherCase {
    Shape x, index;
    int64_t dim;
  };
  const GatherCase gathers[] = {
      {{64, 1000}, {64, 5}, 1}, {{64, 1000}, {64, 1}, -1}, {{1}, {1}, 0},
      {{7, 9}, {3, 9}, 0},      {{5, 7, 9}, {5, 2, 9}, 1}, {{5, 7, 9}, {4, 7, 13}, 2},
      {{0, 4}, {0, 2}, 1},      {{3, 4}, {3, 0}, 1}};
  for (const GatherCase& g : gathers) {
    const int64_t d = g.dim < 0 ? g.dim + int64_t(g.x.size()) : g.dim;
    Tensor index = indices(g.x[size_t(d)] == 0 ? 1 : g.x[size_t(d)], g.index);
    cases.push_back({"gather " + shape_str(g.x) + " index " + shape_str(g.index) + " dim " +
                         std::to_string(g.dim),
                     {randn_f32(g.x, seed++)},
                     [index, g](const TensorList& t) { return gather(t[0], g.dim, index); }});
  }
  cases.push_back(
      {"gather from a transposed input with a transposed index",
       {randn_f32({50, 30}, seed++)},
       [i = indices(50, {20, 30})](const TensorList& t) { return gather(t[0].t(), 1, i.t()); }});
  struct SelectCase {
    Shape x;
    int64_t dim, count;
  };
  const SelectCase selects[] = {{{64, 1000}, 1, 300}, {{64, 1000}, 0, 100}, {{1}, 0, 1},
                                {{5, 7, 9}, 1, 11},   {{5, 7, 9}, 2, 4},    {{6, 0}, 0, 3},
                                {{6, 5}, 1, 0}};
  for (const SelectCase& s : selects) {
    Tensor index = indices(s.x[size_t(s.dim)], {s.count});  // with repeats
    cases.push_back({"index_select " + shape_str(s.x) + " dim " + std::to_string(s.dim) + " " +
                         std::to_string(s.count) + " indices",
                     {randn_f32(s.x, seed++)},
                     [index, s](const TensorList& t) { return index_select(t[0], s.dim, index); }});
  }
  cases.push_back(
      {"index_select with a 0-d index", {randn_f32({9, 13}, seed++)}, [](const TensorList& t) {
         return index_select(t[0], 1, from_vector<int64_t>({4}, {1}, DType::i64).view({}));
       }});
  cases.push_back({"index_select from a sliced input with a strided index",
                   {randn_f32({40, 300}, seed++)},
                   [i = indices(201, {30})](const TensorList& t) {
                     return index_select(t[0].narrow(1, 7, 201), 1, i.view({15, 2}).select(1, 0));
                   }});
  cases.push_back({"gather of NaN and inf",
                   {special_values_f32().view({3, 6})},
                   [i = indices(6, {3, 8})](const TensorList& t) { return gather(t[0], 1, i); },
                   false});
  check_cases(cases);
}

TEST_CASE("cpu loops: cat, flip and constant pad") {
  for (const char* name : {"cat", "flip", "pad"}) {
    INFO(name);
    CHECK(ops::backend_for(ops::Kernel(name), kCPU, DType::f32) == kernels::Backend::cpu);
  }
  std::vector<Case> cases;
  uint64_t seed = 2200;
  cases.push_back(
      {"cat along the last dim",
       {randn_f32({64, 10}, seed++), randn_f32({64, 1}, seed++), randn_f32({64, 1000}, seed++)},
       [](const TensorList& t) {
         return cat({t[0], t[1], t[2]}, 1);
       }});
  cases.push_back(
      {"cat along dim 0 with an empty part",
       {randn_f32({3, 7}, seed++), randn_f32({0, 7}, seed++), randn_f32({1, 7}, seed++)},
       [](const TensorList& t) {
         return cat({t[0], t[1], t[2]}, 0);
       }});
  cases.push_back({"cat of transposed and sliced parts along dim 1",
                   {randn_f32({9, 33}, seed++), randn_f32({33, 40}, seed++)},
                   [](const TensorList& t) {
                     return cat({t[0].t(), t[1].narrow(1, 3, 20)}, 1);
                   }});
  cases.push_back({"cat of packed and permuted parts along dim 1, split over the threads",
                   {randn_f32({16, 32, 9, 9}, seed++), randn_f32({16, 9, 9, 5}, seed++),
                    randn_f32({16, 1, 9, 9}, seed++)},
                   [](const TensorList& t) {
                     return cat({t[0], t[1].permute({0, 3, 1, 2}), t[2]}, 1);
                   }});
  cases.push_back({"cat of a batch-1 class token and patches along dim 1",
                   {randn_f32({1, 1, 48}, seed++), randn_f32({1, 49, 48}, seed++)},
                   [](const TensorList& t) {
                     return cat({t[0], t[1]}, 1);
                   }});
  cases.push_back({"cat of NaN and inf",
                   {special_values_f32(), randn_f32({5}, seed++)},
                   [](const TensorList& t) {
                     return cat({t[0], t[1]}, 0);
                   },
                   false});
  for (const std::vector<int64_t>& dims :
       std::vector<std::vector<int64_t>>{{3}, {2, 3}, {0}, {1}, {0, 1, 2, 3}})
    cases.push_back({"flip dims " + shape_str(dims) + " of [4, 3, 9, 33]",
                     {randn_f32({4, 3, 9, 33}, seed++)},
                     [dims](const TensorList& t) { return flip(t[0], dims); }});
  cases.push_back({"flip a transposed input, batch 1",
                   {randn_f32({1, 40, 23}, seed++)},
                   [](const TensorList& t) { return flip(t[0].transpose(1, 2), {1}); }});
  cases.push_back({"flip of an empty input", {randn_f32({0, 5}, seed++)}, [](const TensorList& t) {
                     return flip(t[0], {0, 1});
                   }});
  cases.push_back({"flip, large enough for the threads",
                   {randn_f32({64, 3, 32, 32}, seed++)},
                   [](const TensorList& t) { return flip(t[0], {3}).transpose(2, 3); }});
  cases.push_back(
      {"pad the last two dims", {randn_f32({2, 3, 7, 9}, seed++)}, [](const TensorList& t) {
         return pad(t[0], {1, 2, 3, 0}, "constant", 0.5);
       }});
  cases.push_back(
      {"pad with a crop (negative pads)", {randn_f32({5, 11}, seed++)}, [](const TensorList& t) {
         return pad(t[0], {-2, 3, 1, -1});
       }});
  cases.push_back(
      {"pad a transposed input to size 1", {randn_f32({1, 1}, seed++)}, [](const TensorList& t) {
         return pad(t[0].t(), {0, 0});
       }});
  cases.push_back({"pad an empty input", {randn_f32({0, 4}, seed++)}, [](const TensorList& t) {
                     return pad(t[0], {1, 1, 2, 0}, "constant", -1);
                   }});
  cases.push_back({"pad with -inf",
                   {special_values_f32().view({3, 6})},
                   [](const TensorList& t) {
                     return pad(t[0], {2, 2}, "constant", -INFINITY);
                   },
                   false});
  check_cases(cases);
}
