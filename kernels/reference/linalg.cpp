// Reference matrix products. "matmul": a [B, M, K] times b [B, K, N] into a contiguous
// out [B, M, N]; the inputs may have any strides (transposed views, stride-0 broadcast batches).
// Sums run in double (int64 for i64) so the oracle is more accurate than the kernels it checks.
// "cholesky": A [P, n, n] -> lower L with L L^T = A (Cholesky-Banachiewicz, reading A's lower
// triangle). "cholesky_inverse": lower L [P, n, n] -> (L L^T)^-1 through L^-1 by forward
// substitution. Both take contiguous inputs and work in double.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "engine/core/error.h"
#include "kernels/reference/loops.h"
#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

namespace {

template <class T>
void matmul_kernel(const KernelArgs& args) {
  using Acc = std::conditional_t<std::is_integral_v<T>, int64_t, double>;
  const Tensor& a = args.in[0];
  const Tensor& b = args.in[1];
  const Tensor& out = args.out[0];
  const int64_t batch = out.size(0), m = out.size(1), n = out.size(2), k = a.size(2);
  const T* ap = base<T>(a) + a.offset();
  const T* bp = base<T>(b) + b.offset();
  T* op = out.data<T>();
  const Shape& as = a.strides();
  const Shape& bs = b.strides();
  for (int64_t p = 0; p < batch; ++p)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        Acc acc = 0;
        for (int64_t r = 0; r < k; ++r)
          acc += Acc(ap[p * as[0] + i * as[1] + r * as[2]]) *
                 Acc(bp[p * bs[0] + r * bs[1] + j * bs[2]]);
        op[(p * m + i) * n + j] = T(acc);
      }
}

template <class T>
void cholesky_kernel(const KernelArgs& args) {
  const Tensor& a = args.in[0];
  const int64_t batch = a.size(0), n = a.size(1);
  const T* ap = a.data<T>();
  T* lp = args.out[0].data<T>();
  std::vector<double> L(size_t(n * n));
  for (int64_t p = 0; p < batch; ++p) {
    const T* A = ap + p * n * n;
    std::fill(L.begin(), L.end(), 0.0);
    for (int64_t j = 0; j < n; ++j) {
      double d = double(A[j * n + j]);
      for (int64_t k = 0; k < j; ++k) d -= L[size_t(j * n + k)] * L[size_t(j * n + k)];
      TUTOR_CHECK(d > 0,
                  "cholesky: the input is not positive-definite (the leading minor of order {} "
                  "of matrix {} of the batch is not positive)",
                  j + 1, p);
      const double ljj = std::sqrt(d);
      L[size_t(j * n + j)] = ljj;
      for (int64_t i = j + 1; i < n; ++i) {
        double s = double(A[i * n + j]);
        for (int64_t k = 0; k < j; ++k) s -= L[size_t(i * n + k)] * L[size_t(j * n + k)];
        L[size_t(i * n + j)] = s / ljj;
      }
    }
    for (int64_t e = 0; e < n * n; ++e) lp[p * n * n + e] = T(L[size_t(e)]);
  }
}

template <class T>
void cholesky_inverse_kernel(const KernelArgs& args) {
  const Tensor& l = args.in[0];
  const int64_t batch = l.size(0), n = l.size(1);
  const T* lp = l.data<T>();
  T* yp = args.out[0].data<T>();
  std::vector<double> inv(size_t(n * n));  // L^-1, lower triangular
  for (int64_t p = 0; p < batch; ++p) {
    const T* L = lp + p * n * n;
    std::fill(inv.begin(), inv.end(), 0.0);
    for (int64_t i = 0; i < n; ++i)
      TUTOR_CHECK(double(L[i * n + i]) != 0,
                  "cholesky_inverse: the factor has a zero at diagonal entry {} of matrix {} of "
                  "the batch",
                  i, p);
    for (int64_t j = 0; j < n; ++j) {
      inv[size_t(j * n + j)] = 1 / double(L[j * n + j]);
      for (int64_t i = j + 1; i < n; ++i) {
        double s = 0;
        for (int64_t k = j; k < i; ++k) s += double(L[i * n + k]) * inv[size_t(k * n + j)];
        inv[size_t(i * n + j)] = -s / double(L[i * n + i]);
      }
    }
    // Y = L^-T L^-1: Y_ij = sum_{k >= max(i, j)} inv_ki inv_kj.
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t k = std::max(i, j); k < n; ++k)
          s += inv[size_t(k * n + i)] * inv[size_t(k * n + j)];
        yp[(p * n + i) * n + j] = T(s);
      }
  }
}

}  // namespace

void register_linalg() {
  TUTOR_REGISTER_FLOATING("cholesky", cholesky_kernel);
  TUTOR_REGISTER_FLOATING("cholesky_inverse", cholesky_inverse_kernel);
  TUTOR_REGISTER_FLOATING("matmul", matmul_kernel);
  register_kernel("matmul", Backend::reference, DType::i64, &matmul_kernel<int64_t>);
}

}  // namespace tutor::kernels::reference
