// Matrix products with PyTorch's semantics (torch.matmul, bmm, nn.functional.linear, outer).
// Formulas and derivatives are in linalg.cpp, next to each definition.
#pragma once

#include "engine/core/tensor.h"

namespace tutor {

// torch.matmul: 1-D x 1-D is a dot product (0-dim result); a 1-D first argument is treated as a
// row [1, K] and a 1-D second argument as a column [K, 1], and the added dim is removed from the
// result; 2-D x 2-D is the matrix product; otherwise the leading (batch) dims broadcast:
// [..., M, K] x [..., K, N] -> [broadcast(...), M, N].
Tensor matmul(const Tensor& a, const Tensor& b);

// torch.bmm: [B, M, K] x [B, K, N] -> [B, M, N], no broadcasting.
Tensor bmm(const Tensor& a, const Tensor& b);

// torch.nn.functional.linear: x [..., in], weight [out, in], bias [out] (optional)
// -> x weight^T + bias, of shape [..., out].
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// torch.outer: a [M], b [N] -> [M, N] with out[i, j] = a[i] * b[j].
Tensor outer(const Tensor& a, const Tensor& b);

// torch.linalg.cholesky: the lower-triangular L with L L^T = A for symmetric positive-definite
// A [..., n, n] (batch dims allowed). Only the lower triangle of A is read, as LAPACK does; an
// input that is not positive-definite is an Error naming the failing leading minor.
Tensor cholesky(const Tensor& a);

// torch.cholesky_inverse (lower): (L L^T)^-1 from a Cholesky factor L [..., n, n]. Only the lower
// triangle of L is read; a zero on its diagonal is an Error.
Tensor cholesky_inverse(const Tensor& l);

}  // namespace tutor
