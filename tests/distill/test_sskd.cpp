// SSKD: the rotation batch, the rank-based row selection worked by hand (ties included), the
// four terms against KD/CE, f64 finite differences, parity with torchdistill SSKDLoss
// (tools/golden/objectives/sskd.py), errors.
#include <doctest/doctest.h>

#include <cmath>

#include "distill/objective_check.h"
#include "distill/rotation.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

Tensor rows(const Tensor& x, std::vector<int64_t> r) {
  return index_select(x, 0, from_vector(r, {int64_t(r.size())}, TensorOptions(DType::i64)));
}

// A teacher row over C classes whose class y has rank `rank` (that many classes above it).
std::vector<double> ranked_row(int64_t C, int64_t y, int64_t rank) {
  std::vector<double> row(size_t(C), 0.0);
  row[size_t(y)] = 1.0;
  int64_t placed = 0;
  for (int64_t c = 0; c < C && placed < rank; ++c)
    if (c != y) row[size_t(c)] = 2.0 + double(placed++);
  return row;
}

}  // namespace

TEST_CASE("sskd: rotation batch interleaves the four counter-clockwise rotations") {
  // One 2x2 image [[1, 2], [3, 4]]: rot90 = [[2, 4], [1, 3]], rot180 = [[4, 3], [2, 1]],
  // rot270 = [[3, 1], [4, 2]] (np.rot90 of SSKD's cifar.py).
  Tensor x = tensor({1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0}).reshape({2, 1, 2, 2});
  Tensor r = distill::rotation_batch(x);
  REQUIRE(r.sizes() == Shape{8, 1, 2, 2});
  check_close(r.reshape({8, 4}),
              tensor({{1.0, 2.0, 3.0, 4.0},
                      {2.0, 4.0, 1.0, 3.0},
                      {4.0, 3.0, 2.0, 1.0},
                      {3.0, 1.0, 4.0, 2.0},
                      {5.0, 6.0, 7.0, 8.0},
                      {6.0, 8.0, 5.0, 7.0},
                      {8.0, 7.0, 6.0, 5.0},
                      {7.0, 5.0, 8.0, 6.0}}),
              0, 0);
  check_error(
      [] {
        distill::rotation_batch(randn({1, 1, 2, 3}));
      },
      {"rotation_batch", "[1, 1, 2, 3]"});
}

TEST_CASE("sskd: terms and the rank-based selection worked by hand") {
  // n = 2 images (B = 8), C = 4 classes, labels {1, 2}. Aug rows 0..5 = batch rows 1,2,3,5,6,7.
  const int64_t C = 4;
  std::vector<int64_t> label = {1, 2};
  // Ranks of the true class on the aug rows: [0, 1, 1, 2, 0, 1]. With tf_ratio = 0.5: 4 wrong
  // rows, int(0.5 * 4) = 2 kept, those of smallest rank, ties to the lower row: aug rows 1, 2.
  std::vector<int64_t> aug_rank = {0, 1, 1, 2, 0, 1};
  std::vector<double> zt_values;
  int64_t a = 0;
  for (int64_t r = 0; r < 8; ++r) {
    int64_t y = label[size_t(r / 4)];
    auto row = ranked_row(C, y, r % 4 == 0 ? 0 : aug_rank[size_t(a++)]);
    zt_values.insert(zt_values.end(), row.begin(), row.end());
  }
  Tensor zt = from_vector(zt_values, {8, C}, TensorOptions(DType::f64));
  Tensor zs = randn({8, C}, TensorOptions(DType::f64)) * 2;
  // ss features: teacher aug rows of image 0 point at normal 0, except aug row 2 (batch row 3)
  // which points at normal 1 (rank 1); image 1's rows point at normal 1. With ss_ratio = 0.75:
  // 1 wrong row, int(0.75) = 0 kept: ss distills aug rows 0, 1, 3, 4, 5.
  Tensor ft =
      from_vector(std::vector<double>{1, 0, 1, 0.1, 1, 0.2, 0.1, 1, 0, 1, 0.1, 1, 0.2, 1, 0.3, 1},
                  {8, 2}, TensorOptions(DType::f64));
  Tensor fs = randn({8, 2}, TensorOptions(DType::f64));
  Tensor y = tensor({1, 2}).to(DType::i64);
  distill::Inputs in({{"student.logits", zs},
                      {"teacher.logits", zt},
                      {"student.ss_feat", fs},
                      {"teacher.ss_feat", ft},
                      {"labels", y}});
  std::map<std::string, std::string> p = {{"tf_ratio", "0.5"}, {"ss_ratio", "0.75"},
                                          {"kl_temp", "4"},    {"tf_temp", "2"},
                                          {"ss_temp", "0.5"},  {"loss_weights", "1,0.9,10,2.7"}};
  auto objective = distill::make_objective("sskd", p, distill::shapes_of(in));
  distill::Evaluation ev = distill::evaluate(*objective, in);
  std::map<std::string, double> parts;
  for (const auto& [k, v] : ev.parts) parts[k] = v.item<double>();

  auto kd = [](const Tensor& s, const Tensor& t, double T) {
    return objective_loss("kd", {{"T", std::to_string(T)}},
                          distill::Inputs({{"student.logits", s}, {"teacher.logits", t}}));
  };
  double ce = cross_entropy(rows(zs, {0, 4}), y).item<double>();
  CHECK(parts["ce"] == doctest::Approx(ce).epsilon(1e-12));
  CHECK(parts["kd"] == doctest::Approx(kd(rows(zs, {0, 4}), rows(zt, {0, 4}), 4)).epsilon(1e-12));
  // tf rows: aug 0, 1, 2, 4 = batch rows 1, 2, 3, 6.
  CHECK(parts["tf"] ==
        doctest::Approx(kd(rows(zs, {1, 2, 3, 6}), rows(zt, {1, 2, 3, 6}), 2)).epsilon(1e-12));
  // ss: S[r, j] = cos(aug_r, normal_j); rows aug 0, 1, 3, 4, 5 = batch rows 1, 2, 5, 6, 7.
  auto sims = [&](const Tensor& f, std::vector<int64_t> aug_rows) {
    return cosine_similarity(rows(f, aug_rows).unsqueeze(1), rows(f, {0, 4}).unsqueeze(0), 2);
  };
  std::vector<int64_t> kept = {1, 2, 5, 6, 7};
  CHECK(parts["ss"] == doctest::Approx(kd(sims(fs, kept), sims(ft, kept), 0.5)).epsilon(1e-12));
  CHECK(ev.loss.item<double>() ==
        doctest::Approx(parts["ce"] + 0.9 * parts["kd"] + 10 * parts["ss"] + 2.7 * parts["tf"])
            .epsilon(1e-12));
  // tf_ratio = 1 (the default) keeps every row; labels given per row ([B]) read the normal rows'
  // labels.
  std::map<std::string, std::string> keep_all = p;
  keep_all.erase("tf_ratio");
  in.set("labels", tensor({1, 1, 1, 1, 2, 2, 2, 2}).to(DType::i64));
  auto all = distill::make_objective("sskd", keep_all, distill::shapes_of(in));
  for (const auto& [k, v] : distill::evaluate(*all, in).parts)
    if (k == "tf")
      CHECK(v.item<double>() ==
            doctest::Approx(kd(rows(zs, {1, 2, 3, 5, 6, 7}), rows(zt, {1, 2, 3, 5, 6, 7}), 2))
                .epsilon(1e-12));
}

TEST_CASE("sskd: finite differences") {
  Tensor y = tensor({0, 3, 2}).to(DType::i64);
  distill::Inputs in({{"student.logits", randn({12, 5}, TensorOptions(DType::f64)) * 2},
                      {"teacher.logits", randn({12, 5}, TensorOptions(DType::f64)) * 2},
                      {"student.ss_feat", randn({12, 4}, TensorOptions(DType::f64))},
                      {"teacher.ss_feat", randn({12, 4}, TensorOptions(DType::f64))},
                      {"labels", y}});
  check_objective_gradient("sskd", {}, in);
  check_objective_gradient("sskd", {{"ss_ratio", "0.3"}, {"tf_ratio", "0.5"}}, in);
}

TEST_CASE("sskd: matches torchdistill SSKDLoss") {
  for (std::string name : {"default", "T1", "T2", "T8", "small_T4"}) check_fixture("sskd_" + name);
}

TEST_CASE("sskd: errors name the objective and the shapes") {
  Tensor z = randn({8, 5}), f = randn({8, 3}), y = tensor({0, 1}).to(DType::i64);
  auto in = [&](Tensor zs, Tensor fs, Tensor labels) {
    return distill::Inputs({{"student.logits", zs},
                            {"teacher.logits", zs},
                            {"student.ss_feat", fs},
                            {"teacher.ss_feat", fs},
                            {"labels", labels}});
  };
  check_error(
      [&] {
        objective_loss("sskd", {}, in(randn({6, 5}), randn({6, 3}), y));
      },
      {"sskd", "multiple of 4", "[6, 5]"});
  check_error(
      [&] {
        objective_loss("sskd", {}, in(z, randn({7, 3}), y));
      },
      {"sskd", "ss_feat", "[7, 3]"});
  check_error(
      [&] {
        objective_loss("sskd", {}, in(z, f, tensor({0, 1, 2}).to(DType::i64)));
      },
      {"sskd", "labels", "[3]"});
  check_error(
      [&] {
        objective_loss("sskd", {}, in(z, f, tensor({0, 7}).to(DType::i64)));
      },
      {"sskd", "labels", "[0, 5)"});
  check_error(
      [&] {
        distill::make_objective("sskd", {{"loss_weights", "1,2"}});
      },
      {"sskd", "loss_weights", "4"});
  check_error(
      [&] {
        distill::make_objective("sskd", {{"ss_ratio", "1.5"}});
      },
      {"sskd", "ss_ratio"});
}

TEST_CASE("sskd_aux: CE of each rotated view over the normal views") {
  // n = 2: normal views (1, 0) and (0, 1); image 0's rotations (1, 0), (1, 1), (0, 1), image 1's
  // (0, 1), (0, 2), (-1, 0). Logits are the cosines to the two normal views.
  Tensor f = from_vector(std::vector<double>{1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 2, -1, 0},
                         {8, 2}, TensorOptions(DType::f64));
  double c = 1 / std::sqrt(2.0);
  auto ce = [](double right, double other) {
    return std::log(std::exp(right) + std::exp(other)) - right;
  };
  double expected = (ce(1, 0) + ce(c, c) + ce(0, 1) + ce(1, 0) + ce(1, 0) + ce(0, -1)) / 6;
  distill::Inputs in({{"student.ss_feat", f}});
  CHECK(objective_loss("sskd_aux", {}, in) == doctest::Approx(expected).epsilon(1e-12));
  Tensor S = distill::rotation_similarities(f);
  REQUIRE(S.sizes() == Shape{6, 2});
  CHECK(S.select(0, 1).select(0, 0).item<double>() == doctest::Approx(c).epsilon(1e-12));
  check_objective_gradient(
      "sskd_aux", {},
      distill::Inputs({{"student.ss_feat", randn({12, 5}, TensorOptions(DType::f64))}}));
  check_fixture("sskd_aux_n4");
  check_fixture("sskd_aux_n8");
  check_error(
      [] {
        objective_loss("sskd_aux", {}, distill::Inputs({{"student.ss_feat", randn({6, 3})}}));
      },
      {"sskd_aux", "[6, 3]"});
  check_error([] { objective_loss("sskd_aux", {}, distill::Inputs()); },
              {"sskd_aux", "student.ss_feat", "missing"});
}
