// Finite-difference gradient checking: the test every backward rule must pass.
//
// For a function f of f64 leaf tensors, gradcheck draws a fixed random weight r_k for every
// floating output and compares, for every input element x_j,
//   analytic  d/dx_j sum_k <r_k, f_k(x)>   (one backward pass)
//   numeric   (L(x + eps e_j) - L(x - eps e_j)) / (2 eps)
// and requires |analytic - numeric| <= atol + rtol * |numeric| everywhere.
#pragma once

#include <functional>
#include <string>

#include "engine/autograd/node.h"

namespace tutor::autograd {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  uint64_t seed = 1234;  // for the output weights
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;
  int64_t elements_checked = 0;
  std::string message;  // which input, element, analytic and numeric value, when !ok
  explicit operator bool() const { return ok; }
};

using GradcheckFn = std::function<TensorList(const TensorList& inputs)>;

// `inputs` must be f64 leaves; those with requires_grad are checked.
GradcheckResult gradcheck(const GradcheckFn& fn, const TensorList& inputs,
                          const GradcheckOptions& options = {});

}  // namespace tutor::autograd
