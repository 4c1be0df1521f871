// Helpers for the layer tests: state-dict listings to compare with PyTorch's, moments of drawn
// values, and a gradient check of a module's forward over its input and parameters.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "engine/nn/nn.h"
#include "support/op_test.h"

namespace tutor::testing {

// "name [shape] dtype" per state-dict entry, in order: the form of the expected lists in the
// tests, written from PyTorch 1.13's `for n, t in m.state_dict().items(): n, list(t.shape),
// t.dtype`.
inline std::vector<std::string> state_listing(const nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& [name, t] : m.state_dict())
    out.push_back(fmt::format("{} {} {}", name, shape_str(t.sizes()), t.dtype()));
  return out;
}

struct Moments {
  double min, max, mean, var;
};
inline Moments moments(const Tensor& t) {
  std::vector<double> v = t.to_vector<double>();
  Moments m{v[0], v[0], 0, 0};
  for (double x : v) m.min = std::min(m.min, x), m.max = std::max(m.max, x), m.mean += x;
  m.mean /= double(v.size());
  for (double x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= double(v.size());
  return m;
}

// Converts `m` to f64 and gradient-checks forward(x) over x and every parameter.
template <class M>
void check_module_gradient(M& m, const Tensor& x64) {
  m.to(DType::f64);
  TensorList inputs{x64};
  for (const Tensor& p : m.parameters()) inputs.push_back(p);
  check_gradient([&](const TensorList& in) { return TensorList{m.forward(in[0])}; }, inputs);
}

}  // namespace tutor::testing
