// The CPU kernels for cholesky and cholesky_inverse (kernels/cpu/linalg.cpp, Eigen) and for tril
// and triu (kernels/cpu/loops_indexing_body.h; cholesky's backward masks with tril) against the
// reference backend, forward and backward, by tests/support/backend_compare.h: batched, batch 1,
// 1 x 1, SKD's covariance size, strided inputs; and the reference's errors for a matrix that is
// not positive-definite and a factor with a zero on its diagonal.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/ops/dispatch.h"
#include "engine/ops/ops.h"
#include "support/backend_compare.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

// m m^T + n I over the last two dims: symmetric, positive-definite, well conditioned.
Tensor spd(const Shape& shape, uint64_t seed) {
  const int64_t n = shape.back();
  Tensor m = randn_f32(shape, seed);
  return add(matmul(m, m.transpose(-2, -1)), mul(eye(n, {}, m.options()), double(n))).detach();
}

}  // namespace

TEST_CASE("cpu linalg: cholesky, cholesky_inverse, tril, triu registered as the cpu backend") {
  for (const char* name : {"cholesky", "cholesky_inverse", "tril", "triu"}) {
    INFO(name);
    const ops::Kernel k(name);
    CHECK(ops::backend_for(k, kCPU, DType::f32) == kernels::Backend::cpu);
    CHECK(ops::backend_for(k, kCPU, DType::f64) == kernels::Backend::reference);
  }
}

TEST_CASE("cpu linalg: cholesky and cholesky_inverse against the reference") {
  std::vector<Case> cases;
  uint64_t seed = 6000;
  for (const Shape& s : std::vector<Shape>{{1, 1}, {5, 5}, {3, 7, 7}, {1, 64, 64}, {128, 128}}) {
    cases.push_back({"cholesky " + shape_str(s), {spd(s, seed++)}, [](const TensorList& t) {
                       return cholesky(t[0]);
                     }});
    cases.push_back({"cholesky_inverse of cholesky " + shape_str(s),
                     {spd(s, seed++)},
                     [](const TensorList& t) { return cholesky_inverse(cholesky(t[0])); }});
  }
  // Only the lower triangle is read: garbage above the diagonal changes nothing.
  cases.push_back({"cholesky of a lower triangle with noise above it",
                   {add(spd({9, 9}, seed), triu(randn_f32({9, 9}, seed + 1), 1)).detach()},
                   [](const TensorList& t) { return cholesky(t[0]); }});
  seed += 2;
  cases.push_back(
      {"cholesky of a strided view", {spd({2, 12, 12}, seed++)}, [](const TensorList& t) {
         return cholesky(t[0].transpose(1, 2).select(0, 1));
       }});
  cases.push_back({"cholesky_inverse of a lower factor",
                   {spd({10, 10}, seed++)},
                   [](const TensorList& t) { return cholesky_inverse(tril(t[0])); }});
  check_cases(cases);
}

TEST_CASE("cpu linalg: cholesky errors name the failing minor, as the reference") {
  const Tensor batch = stack({eye(3), from_vector<float>({1, 2, 0, 2, 1, 0, 0, 0, 1}, {3, 3})}, 0);
  CHECK_THROWS_WITH_AS(cholesky(batch),
                       doctest::Contains("cholesky: the input is not positive-definite (the "
                                         "leading minor of order 2 of matrix 1 of the batch"),
                       Error);
  const Tensor factor = from_vector<float>({1, 0, 0, 3, 0, 0, 1, 2, 5}, {3, 3});
  CHECK_THROWS_WITH_AS(
      cholesky_inverse(factor),
      doctest::Contains("cholesky_inverse: the factor has a zero at diagonal entry 1 of matrix 0"),
      Error);
}

TEST_CASE("cpu linalg: tril and triu against the reference") {
  std::vector<Case> cases;
  uint64_t seed = 6100;
  for (int64_t diagonal : {-10, -1, 0, 2, 10})
    for (const Shape& s : std::vector<Shape>{{5, 7}, {3, 6, 4}, {1, 1}, {2, 0, 3}, {300, 257}}) {
      const std::string tag = shape_str(s) + " diagonal " + std::to_string(diagonal);
      cases.push_back({"tril " + tag, {randn_f32(s, seed++)}, [diagonal](const TensorList& t) {
                         return tril(t[0], diagonal);
                       }});
      cases.push_back({"triu " + tag, {randn_f32(s, seed++)}, [diagonal](const TensorList& t) {
                         return triu(t[0], diagonal);
                       }});
    }
  cases.push_back({"tril of a transposed input",
                   {randn_f32({4, 9, 6}, seed++)},
                   [](const TensorList& t) { return tril(t[0].transpose(1, 2), 1); }});
  cases.push_back({"triu of NaN and inf",
                   {special_values_f32().view({3, 6})},
                   [](const TensorList& t) { return triu(t[0]); },
                   false});
  check_cases(cases);
}
