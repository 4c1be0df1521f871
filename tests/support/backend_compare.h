// Backend comparison for the CPU kernel tests, table-driven as ggml's test-backend-ops: each case
// runs the public op forward and backward once under ops::ReferenceOnlyGuard and once normally,
// and compares the output and every input gradient by normalized MSE  sum (a - b)^2 / sum b^2
// <= 1e-7 (DESIGN.md's bound for fast kernels), with NaN and infinities where the reference has
// them.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/random.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/ops.h"

namespace tutor::testing {

constexpr double kBound = 1e-7;

struct Case {
  std::string name;
  TensorList inputs;  // f32 inputs take gradients; i64 ones (class targets) do not
  std::function<Tensor(const TensorList&)> fn;
  bool backward = true;
  // The layout of the output gradient the backward pass starts from (4-D outputs only).
  MemoryFormat grad_format = MemoryFormat::Contiguous;
};

struct Result {
  Tensor y;
  TensorList grads;
};

inline Tensor randn_f32(const Shape& shape, uint64_t seed, double scale = 1) {
  Generator gen(seed);
  return mul(randn(shape, DType::f32, &gen), scale).detach();
}

// NaN, both infinities, signed zeros, tiny, huge and ordinary values: for checking that a fast
// kernel propagates non-finite values as the reference does.
inline Tensor special_values_f32() {
  const float inf = INFINITY;
  return from_vector<float>({NAN, inf, -inf, 0.f, -0.f, 1e-30f, -1e-30f, 1e30f, -1e30f, 0.5f, -0.5f,
                             1.f, -1.f, 2.5f, -3.75f, 80.f, -80.f, 100.f},
                            {18});
}

// The op's output and the gradients of sum(y * r) for a fixed random r, on one backend choice.
inline Result run(const Case& c, bool reference_only) {
  std::optional<ops::ReferenceOnlyGuard> guard;
  if (reference_only) guard.emplace();
  TensorList leaves;
  for (const Tensor& t : c.inputs) {
    Tensor l = t.clone();
    if (c.backward && l.dtype() == DType::f32) l.requires_grad_();
    leaves.push_back(l);
  }
  Result res{c.fn(leaves), {}};
  if (c.backward && res.y.requires_grad()) {
    Tensor r = randn_f32(res.y.sizes(), 99);
    if (c.grad_format == MemoryFormat::ChannelsLast && r.dim() == 4)
      r = r.contiguous(MemoryFormat::ChannelsLast);
    sum(mul(res.y, r)).backward();
    for (const Tensor& l : leaves)
      if (l.requires_grad()) res.grads.push_back(l.grad());
  }
  res.y = res.y.detach();
  return res;
}

// Normalized MSE over the finite elements; NaN and +-inf must sit at the same positions in both
// (a fast kernel handles them as the reference does), else 1.
inline double nmse(const Tensor& a, const Tensor& b) {
  std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double num = 0, den = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
      const bool same = std::isnan(x[i]) ? std::isnan(y[i]) : x[i] == y[i];
      if (!same) return 1;
      continue;
    }
    num += (x[i] - y[i]) * (x[i] - y[i]), den += y[i] * y[i];
  }
  return den == 0 ? (num == 0 ? 0 : 1) : num / den;
}

inline void compare(const Tensor& fast, const Tensor& ref, const std::string& what) {
  INFO(what);
  REQUIRE(fast.defined() == ref.defined());
  if (!ref.defined()) return;
  REQUIRE(shape_str(fast.sizes()) == shape_str(ref.sizes()));
  CHECK(nmse(fast, ref) <= kBound);
}

inline void check_cases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    Result fast = run(c, false), ref = run(c, true);
    compare(fast.y, ref.y, c.name + ": output");
    REQUIRE(fast.grads.size() == ref.grads.size());
    for (size_t i = 0; i < ref.grads.size(); ++i)
      compare(fast.grads[i], ref.grads[i], c.name + ": gradient of input " + std::to_string(i));
  }
}

}  // namespace tutor::testing
