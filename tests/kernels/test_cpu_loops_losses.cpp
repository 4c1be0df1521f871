// The CPU loop kernels for the element-wise losses and nll_loss (kernels/cpu/loops_losses_body.h)
// against the reference backend, forward and backward (input and target gradients), by
// tests/support/backend_compare.h: every reduction, odd sizes, size 1, empty, transposed inputs,
// broadcast pos_weight, NaN / inf inputs; and cdist.
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

using Loss = std::function<Tensor(const Tensor&, const Tensor&)>;

const Shape kShapes[] = {{1}, {7}, {33, 65}, {4097}, {0, 5}, {3, 5, 7}};

Tensor probabilities(const Shape& s, uint64_t seed) {
  return softmax(randn_f32(s, seed, 2), -1).detach();
}
Tensor uniform(const Shape& s, uint64_t seed) {
  Generator gen(seed);
  return rand(s, DType::f32, &gen);
}

}  // namespace

TEST_CASE("cpu loops: loss kernels registered as the cpu backend for f32") {
  for (const char* loss :
       {"kl_div", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
        "binary_cross_entropy_with_logits", "nll_loss", "cosine_similarity", "normalize"})
    for (const std::string& name : {std::string(loss), std::string(loss) + "_backward"}) {
      INFO(name);
      const ops::Kernel k(name.c_str());
      CHECK(ops::backend_for(k, kCPU, DType::f32) == kernels::Backend::cpu);
      CHECK(ops::backend_for(k, kCPU, DType::f64) == kernels::Backend::reference);
    }
}

TEST_CASE("cpu loops: element-wise losses forward and backward") {
  // name, loss, input maker, target maker
  using Maker = std::function<Tensor(const Shape&, uint64_t)>;
  const Maker normal = [](const Shape& s, uint64_t seed) { return randn_f32(s, seed, 2); };
  const Maker log_probs = [](const Shape& s, uint64_t seed) {
    return log_softmax(randn_f32(s, seed, 2), -1).detach();
  };
  const std::tuple<std::string, Loss, Maker, Maker> losses[] = {
      {"kl_div none",
       [](const Tensor& x, const Tensor& t) { return kl_div(x, t, Reduction::none); }, log_probs,
       probabilities},
      {"kl_div batchmean",
       [](const Tensor& x, const Tensor& t) { return kl_div(x, t, Reduction::batchmean); },
       log_probs, probabilities},
      {"kl_div log_target sum",
       [](const Tensor& x, const Tensor& t) { return kl_div(x, t, Reduction::sum, true); },
       log_probs, log_probs},
      {"mse_loss mean", [](const Tensor& x, const Tensor& t) { return mse_loss(x, t); }, normal,
       normal},
      {"l1_loss none",
       [](const Tensor& x, const Tensor& t) { return l1_loss(x, t, Reduction::none); }, normal,
       normal},
      {"smooth_l1_loss beta 1",
       [](const Tensor& x, const Tensor& t) { return smooth_l1_loss(x, t, Reduction::none, 1); },
       normal, normal},
      {"smooth_l1_loss beta 0",
       [](const Tensor& x, const Tensor& t) { return smooth_l1_loss(x, t, Reduction::sum, 0); },
       normal, normal},
      {"huber_loss delta 0.5",
       [](const Tensor& x, const Tensor& t) { return huber_loss(x, t, Reduction::none, 0.5); },
       normal, normal},
      {"binary_cross_entropy",
       [](const Tensor& x, const Tensor& t) {
         return binary_cross_entropy(x, t, {}, Reduction::none);
       },
       [](const Shape& s, uint64_t seed) { return sigmoid(randn_f32(s, seed, 2)).detach(); },
       uniform},
      {"binary_cross_entropy_with_logits mean",
       [](const Tensor& x, const Tensor& t) { return binary_cross_entropy_with_logits(x, t); },
       normal, uniform}};
  std::vector<Case> cases;
  uint64_t seed = 3000;
  for (const auto& [name, loss, input, target] : losses) {
    for (const Shape& s : kShapes)
      cases.push_back({name + " " + shape_str(s),
                       {input(s, seed++), target(s, seed++)},
                       [loss](const TensorList& t) { return loss(t[0], t[1]); }});
    cases.push_back({name + " transposed",
                     {input({31, 45}, seed++), target({45, 31}, seed++)},
                     [loss](const TensorList& t) { return loss(t[0].t(), t[1]); }});
  }
  // exact zeros in kl_div's target (xlogy gives 0 there), and ties x == t for l1's subgradient
  cases.push_back({"kl_div with zero target probabilities",
                   {log_probs({9, 11}, seed++), relu(sub(probabilities({9, 11}, seed++), 0.08))},
                   [](const TensorList& t) { return kl_div(t[0], t[1], Reduction::sum); }});
  cases.push_back({"l1_loss with ties",
                   {from_vector<float>({1, 2, 3, 4}, {4}), from_vector<float>({1, 0, 3, 5}, {4})},
                   [](const TensorList& t) { return l1_loss(t[0], t[1], Reduction::none); }});
  cases.push_back(
      {"binary_cross_entropy at 0 and 1 (logs clamped at -100)",
       {from_vector<float>({0, 1, 0.5f, 1e-30f, 1}, {5}),
        from_vector<float>({0.3f, 0.2f, 1, 0, 1}, {5})},
       [](const TensorList& t) { return binary_cross_entropy(t[0], t[1], {}, Reduction::none); }});
  cases.push_back({"binary_cross_entropy with a weight",
                   {sigmoid(randn_f32({16, 10}, seed++)).detach(), uniform({16, 10}, seed++)},
                   [w = uniform({10}, seed++)](const TensorList& t) {
                     return binary_cross_entropy(t[0], t[1], w, Reduction::mean);
                   }});
  cases.push_back({"binary_cross_entropy_with_logits with a broadcast pos_weight",
                   {randn_f32({16, 10}, seed++, 3), uniform({16, 10}, seed++),
                    add(uniform({10}, seed++), 0.5).detach()},
                   [](const TensorList& t) {
                     return binary_cross_entropy_with_logits(t[0], t[1], {}, Reduction::none, t[2]);
                   }});
  cases.push_back(
      {"binary_cross_entropy_with_logits with a scalar pos_weight, large logits",
       {randn_f32({4097}, seed++, 40), uniform({4097}, seed++), from_vector<float>({3}, {})},
       [](const TensorList& t) {
         return binary_cross_entropy_with_logits(t[0], t[1], {}, Reduction::sum, t[2]);
       }});
  // NaN and infinities in the input (forward): every loss except binary_cross_entropy, which
  // rejects inputs outside [0, 1]
  for (const auto& [name, loss, input, target] : losses) {
    if (name == "binary_cross_entropy") continue;
    cases.push_back({name + " NaN and inf",
                     {special_values_f32(), target({18}, seed++)},
                     [loss = loss](const TensorList& t) { return loss(t[0], t[1]); },
                     false});
  }
  check_cases(cases);
}

TEST_CASE("cpu loops: binary_cross_entropy rejects an input outside [0, 1] as the reference") {
  Tensor x = from_vector<float>({0.5f, 1.5f, 0.2f}, {3}), t = from_vector<float>({1, 0, 1}, {3});
  CHECK_THROWS_WITH_AS(binary_cross_entropy(x, t),
                       doctest::Contains("every input element must lie in [0, 1], got 1.5"), Error);
  Tensor nan = from_vector<float>({0.5f, NAN}, {2}), t2 = from_vector<float>({1, 0}, {2});
  CHECK_THROWS_WITH_AS(binary_cross_entropy(nan, t2), doctest::Contains("got nan"), Error);
}

TEST_CASE("cpu loops: nll_loss forward and backward") {
  struct NllCase {
    std::string name;
    Shape shape;  // [N, C, d...]
    bool weight = false;
    Reduction reduction = Reduction::none;
  };
  const NllCase nlls[] = {{"[128, 1000]", {128, 1000}},
                          {"[128, 1000] mean, weights", {128, 1000}, true, Reduction::mean},
                          {"batch 1", {1, 7}},
                          {"one class", {5, 1}, false, Reduction::sum},
                          {"spatial [4, 5, 3, 7] weights", {4, 5, 3, 7}, true, Reduction::mean},
                          {"empty batch", {0, 5}, false, Reduction::sum}};
  std::vector<Case> cases;
  uint64_t seed = 3100;
  for (const NllCase& c : nlls) {
    Generator gen(seed++);
    Shape index_shape = c.shape;
    index_shape.erase(index_shape.begin() + 1);
    Tensor target = randint(0, c.shape[1], index_shape, DType::i64, &gen);
    if (target.numel() > 3) target.view({-1}).narrow(0, 1, 2).fill_raw_(-100.0);
    Tensor w = c.weight ? add(rand({c.shape[1]}, DType::f32, &gen), 0.5).detach() : Tensor();
    cases.push_back(
        {"nll_loss " + c.name,
         {log_softmax(randn_f32(c.shape, seed++, 3), 1).detach(), target},
         [c, w](const TensorList& t) { return nll_loss(t[0], t[1], w, -100, c.reduction); }});
  }
  cases.push_back(
      {"nll_loss transposed input",
       {randn_f32({1000, 64}, seed++), randint(0, 1000, {64}, DType::i64)},
       [](const TensorList& t) { return nll_loss(t[0].t(), t[1], {}, -100, Reduction::none); }});
  cases.push_back({"nll_loss unbatched",
                   {randn_f32({9}, seed++), from_vector<int64_t>({4}, {1}, DType::i64).view({})},
                   [](const TensorList& t) { return nll_loss(t[0], t[1]); }});
  check_cases(cases);
}

TEST_CASE("cpu loops: nll_loss rejects a class index out of range") {
  Tensor x = randn_f32({4, 3}, 3200);
  Tensor y = from_vector<int64_t>({0, 1, 3, 2}, {4}, DType::i64);
  CHECK_THROWS_WITH_AS(nll_loss(x, y), doctest::Contains("out of range for 3 classes"), Error);
}

TEST_CASE("cpu loops: cosine_similarity and normalize along any dim") {
  struct DimCase {
    Shape shape;
    int64_t dim;
  };
  const DimCase dims[] = {{{1, 1}, 1},    {{7}, 0},          {{64, 1000}, 1}, {{64, 1000}, 0},
                          {{3, 5, 7}, 1}, {{2, 3, 4, 5}, 3}, {{0, 5}, 1},     {{4, 0}, 1}};
  std::vector<Case> cases;
  uint64_t seed = 3300;
  for (const DimCase& d : dims) {
    const std::string shape = shape_str(d.shape) + " dim " + std::to_string(d.dim);
    // Along a dim of size 1 the gradients are 0 analytically, and each backend returns rounding
    // noise (~1e-17, different with and without FMA) that a normalized MSE cannot compare: the
    // forward only there.
    const bool backward = d.shape[size_t(d.dim)] != 1;
    cases.push_back({"cosine_similarity " + shape,
                     {randn_f32(d.shape, seed++), randn_f32(d.shape, seed++)},
                     [d](const TensorList& t) { return cosine_similarity(t[0], t[1], d.dim); },
                     backward});
    for (double p : {2.0, 1.0, 3.0})
      cases.push_back({"normalize p " + std::to_string(int(p)) + " " + shape,
                       {randn_f32(d.shape, seed++)},
                       [d, p](const TensorList& t) { return normalize(t[0], p, d.dim); },
                       backward});
  }
  cases.push_back({"cosine_similarity along a dim of size 2",
                   {randn_f32({5, 2}, seed++), randn_f32({5, 2}, seed++)},
                   [](const TensorList& t) { return cosine_similarity(t[0], t[1], 1); }});
  cases.push_back({"cosine_similarity broadcast and transposed",
                   {randn_f32({1, 33}, seed++), randn_f32({33, 40}, seed++)},
                   [](const TensorList& t) { return cosine_similarity(t[0], t[1].t(), 1); }});
  // a zero row: its norm below eps, where the clamped formulas take over
  cases.push_back({"cosine_similarity and normalize of a zero row",
                   {mul(randn_f32({3, 8}, seed++), from_vector<float>({1, 0, 1}, {3, 1})).detach(),
                    randn_f32({3, 8}, seed++)},
                   [](const TensorList& t) {
                     return add(cosine_similarity(t[0], t[1], 1).unsqueeze(1),
                                normalize(t[0], 2.0, 1));
                   }});
  cases.push_back({"normalize sliced", {randn_f32({40, 300}, seed++)}, [](const TensorList& t) {
                     return normalize(t[0].narrow(1, 3, 257), 2.0, 1);
                   }});
  cases.push_back({"cosine_similarity and normalize of NaN and inf",
                   {special_values_f32().view({3, 6}), randn_f32({3, 6}, seed++)},
                   [](const TensorList& t) {
                     return add(cosine_similarity(t[0], t[1], 1).unsqueeze(1),
                                normalize(t[0], 2.0, 1));
                   },
                   false});
  check_cases(cases);
}

// cdist (kernels/cpu/loops_distance_body.h): p = 1 and 2, batched and broadcast batch dims,
// batch 1, one row, odd widths, a transposed operand, rows that coincide (d = 0, where p = 2's
// gradient is taken as 0, and p = 1's sign is 0), SinKD's softmax-probability rows.
TEST_CASE("cpu loops: cdist forward and backward") {
  for (const char* name : {"cdist", "cdist_backward"})
    CHECK(ops::backend_for(ops::Kernel(name), kCPU, DType::f32) == kernels::Backend::cpu);
  struct DistCase {
    Shape x1, x2;
  };
  const DistCase shapes[] = {{{64, 100}, {64, 100}},    {{7, 3}, {5, 3}},
                             {{1, 1}, {1, 1}},          {{1, 33}, {17, 33}},
                             {{3, 9, 17}, {3, 11, 17}}, {{2, 1, 6, 5}, {4, 7, 5}},
                             {{0, 4}, {3, 4}},          {{300, 10}, {257, 10}}};
  std::vector<Case> cases;
  uint64_t seed = 5100;
  for (double p : {1.0, 2.0}) {
    const std::string tag = p == 1 ? "p = 1 " : "p = 2 ";
    for (const DistCase& d : shapes)
      cases.push_back({"cdist " + tag + shape_str(d.x1) + " " + shape_str(d.x2),
                       {randn_f32(d.x1, seed++), randn_f32(d.x2, seed++)},
                       [p](const TensorList& t) { return cdist(t[0], t[1], p); }});
    cases.push_back({"cdist " + tag + "of a transposed x1",
                     {randn_f32({3, 12, 40}, seed++), randn_f32({3, 30, 12}, seed++)},
                     [p](const TensorList& t) { return cdist(t[0].transpose(1, 2), t[1], p); }});
    cases.push_back({"cdist " + tag + "of a set with itself (zero distances)",
                     {randn_f32({20, 7}, seed++)},
                     [p](const TensorList& t) { return cdist(t[0], t[0], p); }});
    cases.push_back(
        {"cdist " + tag + "of softmax rows (SinKD)",
         {randn_f32({64, 10}, seed++, 3), randn_f32({64, 10}, seed++, 3)},
         [p](const TensorList& t) { return cdist(softmax(t[0], 1), softmax(t[1], 1), p); }});
  }
  cases.push_back({"cdist of NaN and inf",
                   {special_values_f32().view({6, 3}), randn_f32({4, 3}, seed++)},
                   [](const TensorList& t) { return cdist(t[0], t[1], 1.0); },
                   false});
  check_cases(cases);
}
