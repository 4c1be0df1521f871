#include "support/op_test.h"

namespace tutor::testing {

std::set<std::pair<std::string, std::string>>& tested_ops() {
  static std::set<std::pair<std::string, std::string>> ops;
  return ops;
}

bool register_op_test(const char* op, const char* aspect) {
  tested_ops().emplace(op, aspect);
  return true;
}

void check_gradient(const autograd::GradcheckFn& fn, const TensorList& inputs,
                    const autograd::GradcheckOptions& options) {
  autograd::GradcheckResult r = autograd::gradcheck(fn, inputs, options);
  INFO(r.message);
  CHECK(r.ok);
}

void check_f32_backward(const autograd::GradcheckFn& fn, const TensorList& leaves64, double atol,
                        double rtol) {
  auto grads = [&](DType dtype) {
    TensorList leaves;
    for (const Tensor& t : leaves64) leaves.push_back(t.detach().to(dtype).requires_grad_());
    Tensor y = fn(leaves)[0];
    Generator gen(3);
    Tensor r = rand(y.sizes(), DType::f64, &gen).to(dtype);
    return autograd::grad({sum(mul(y, r))}, leaves);
  };
  TensorList g32 = grads(DType::f32), g64 = grads(DType::f64);
  for (size_t i = 0; i < g64.size(); ++i) check_close(g32[i], g64[i], atol, rtol);
}

void check_f32_backward(const std::function<Tensor(const TensorList&)>& fn,
                        const TensorList& leaves64, double atol, double rtol) {
  check_f32_backward([&](const TensorList& x) { return TensorList{fn(x)}; }, leaves64, atol, rtol);
}

Tensor rand_leaf(const Shape& shape, uint64_t seed, double lo, double hi) {
  Generator gen(seed);
  Tensor t = rand(shape, DType::f64, &gen);
  {
    NoGradGuard g;
    t = add(mul(t, hi - lo), lo);
  }
  return t.requires_grad_(true);
}

void check_close(const Tensor& actual, const Tensor& expected, double atol, double rtol) {
  REQUIRE_MESSAGE(actual.sizes() == expected.sizes(), "shape ", shape_str(actual.sizes()),
                  " vs expected ", shape_str(expected.sizes()));
  std::vector<double> a = actual.to_vector<double>(), e = expected.to_vector<double>();
  for (size_t i = 0; i < a.size(); ++i) {
    bool same_nan = std::isnan(a[i]) && std::isnan(e[i]);
    bool same_inf = std::isinf(a[i]) && a[i] == e[i];
    if (same_nan || same_inf) continue;
    if (!(std::fabs(a[i] - e[i]) <= atol + rtol * std::fabs(e[i]))) {
      FAIL_CHECK("element ", i, ": ", a[i], " vs expected ", e[i]);
      return;
    }
  }
}

std::filesystem::path fixture_path(const std::string& subdir) {
  return std::filesystem::path(TUTOR_TESTS_DIR) / "fixtures" / subdir;
}

}  // namespace tutor::testing
