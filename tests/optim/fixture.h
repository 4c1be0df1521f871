// Reads the golden files of tools/golden/make_optim_fixtures.py: lines "name [d0,d1,...] v0 v1 ...".
#pragma once

#include <map>
#include <string>

#include "engine/core/tensor.h"

namespace tutor::testing {

class OptimFixture {
 public:
  // `file` is a name under tests/fixtures/optim, e.g. "optimizers.txt".
  explicit OptimFixture(const std::string& file);
  // The f64 tensor `name`; fails the test when the file has none.
  Tensor get(const std::string& name) const;
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  const std::map<std::string, Tensor>& all() const { return tensors_; }

 private:
  std::map<std::string, Tensor> tensors_;
};

// |actual - expected| <= 1e-13 + 1e-12 |expected|, elementwise, in f64: the bound for f64 results
// that follow PyTorch's formulas operation by operation.
void check_golden(const Tensor& actual, const Tensor& expected, const std::string& what);

}  // namespace tutor::testing
