// Random tensor factories, drawing from `gen` (the default generator when null). Elements are
// drawn in row-major order; see rng.h for the exact algorithm.
#pragma once

#include "engine/core/rng.h"
#include "engine/core/tensor.h"

namespace tutor {

Tensor rand(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);
Tensor randn(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);
// Integers uniform in [low, high), i64 unless options say otherwise.
Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions options = DType::i64,
               Generator* gen = nullptr);
// 1 with probability p[i] (a floating tensor of probabilities in [0, 1]), else 0, in p's dtype.
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);
Tensor bernoulli(const Shape& shape, double p, TensorOptions options = {}, Generator* gen = nullptr);
// A random permutation of 0..n-1 (Fisher-Yates), i64.
Tensor randperm(int64_t n, TensorOptions options = DType::i64, Generator* gen = nullptr);

}  // namespace tutor
