#include <doctest/doctest.h>

#include "engine/ops/ops.h"

using namespace tutor;

TEST_CASE("autograd: product rule by hand") {
  Tensor x = tensor({2.0}, DType::f64).requires_grad_();
  Tensor y = mul(x, x) + x;  // dy/dx = 2x + 1 = 5
  y.backward();
  CHECK(x.grad().item() == doctest::Approx(5.0));
}
