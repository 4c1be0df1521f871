// A second-order gradient check for ops whose backward is built from differentiable ops.
#pragma once

#include <functional>

#include "support/op_test.h"

namespace tutor::testing {

// The gradient of `op` at a fixed x, as a function of the incoming gradient v, is itself checked
// by finite differences. gradcheck evaluates it without grad mode, which the inner backward
// needs, hence the guard.
inline void check_double_backward(const std::function<Tensor(const Tensor&)>& op,
                                  const Shape& x_shape) {
  Tensor x = rand_leaf(x_shape, 3);
  Shape y_shape = op(x).sizes();
  check_gradient(
      [&](const TensorList& v) {
        EnableGradGuard grad_mode;
        return autograd::grad({op(x)}, {x}, {v[0]}, /*retain_graph=*/false, /*create_graph=*/true);
      },
      {rand_leaf(y_shape, 4)});
}

}  // namespace tutor::testing
