// Helpers for op tests: a registry of which ops have which kinds of test (the coverage test reads
// it), a gradient-check assertion, and value comparison.
#pragma once

#include <filesystem>

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <utility>

#include "engine/autograd/gradcheck.h"
#include "engine/ops/ops.h"

namespace tutor::testing {

// Every (op, aspect) pair that has a test case; aspects: "gradient", "values", "errors".
std::set<std::pair<std::string, std::string>>& tested_ops();
bool register_op_test(const char* op, const char* aspect);

// Gradient check of fn over f64 leaves; fails the current test case with gradcheck's message.
void check_gradient(const autograd::GradcheckFn& fn, const TensorList& inputs,
                    const autograd::GradcheckOptions& options = {});

// The f32 backward kernels against the f64 ones (gradcheck runs in f64 only): the input gradients
// of sum(fn(x)[0] * r) for a fixed random r, computed in both dtypes from the same f64 leaves.
void check_f32_backward(const autograd::GradcheckFn& fn, const TensorList& leaves64,
                        double atol = 1e-5, double rtol = 1e-4);
void check_f32_backward(const std::function<Tensor(const TensorList&)>& fn,
                        const TensorList& leaves64, double atol = 1e-5, double rtol = 1e-4);

// tests/fixtures/<subdir>, wherever the build runs (TUTOR_TESTS_DIR is set by tests/CMakeLists.txt).
std::filesystem::path fixture_path(const std::string& subdir);

// A random f64 leaf requiring grad, from a fixed per-call seed.
Tensor rand_leaf(const Shape& shape, uint64_t seed = 7, double lo = -1, double hi = 1);

// Elementwise |a - b| <= atol + rtol * |b| after converting both to f64; shapes must match.
void check_close(const Tensor& actual, const Tensor& expected, double atol = 1e-6,
                 double rtol = 1e-5);

// The op must throw tutor::Error whose message contains every one of `needles`.
template <class F>
void check_error(F&& f, std::initializer_list<const char*> needles) {
  try {
    f();
    FAIL("expected a tutor::Error");
  } catch (const Error& e) {
    std::string msg = e.what();
    for (const char* n : needles) {
      INFO("message: ", msg);
      CHECK_MESSAGE(msg.find(n) != std::string::npos, "missing '", n, "'");
    }
  }
}

}  // namespace tutor::testing

#define TUTOR_OP_CAT2(a, b) a##b
#define TUTOR_OP_CAT(a, b) TUTOR_OP_CAT2(a, b)
// OP_TEST("conv2d", "gradient") { ... } : a doctest case named "conv2d: gradient", recorded for
// the coverage test.
#define OP_TEST(op, aspect)                                                       \
  static const bool TUTOR_OP_CAT(tutor_op_test_, __LINE__) =                      \
      ::tutor::testing::register_op_test(op, aspect);                             \
  TEST_CASE(op ": " aspect)
