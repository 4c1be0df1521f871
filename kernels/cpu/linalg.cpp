// "cholesky" and "cholesky_inverse" on Eigen, in double as the reference (kernels/reference/
// linalg.cpp), with its contract: in A [P, n, n] packed, reading only A's lower triangle, out the
// lower factor L (zeros above the diagonal); cholesky_inverse takes L and gives (L L^T)^-1 by two
// triangular solves against the identity. Eigen's blocked factorization and solves are cache-aware
// where the reference's loops walk columns of row-major arrays (SKD's 256 x 256 covariance: 30 ms
// in the reference). Where the input is not positive-definite (or a factor has a zero on its
// diagonal) the reference kernel is run instead: it throws the error naming the failing minor.
#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/loops_common.h"
#include "kernels/registry.h"

namespace tutor::kernels::cpu {

namespace {

using MatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMapF =
    Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
using MapF = Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

// The reference kernel of `name` for f32, which reports bad input with the reference's message.
void run_reference(const char* name, const KernelArgs& a) {
  find_kernel(kernel_id(name), Backend::reference, DType::f32)(a);
}

void cholesky_kernel(const KernelArgs& a) {
  const int64_t batch = a.in[0].size(0), n = a.in[0].size(1);
  const float* A = f32_ptr(a.in[0]);
  float* out = f32_ptr(a.out[0]);
  for (int64_t p = 0; p < batch; ++p) {
    const MatrixD m = ConstMapF(A + p * n * n, n, n).cast<double>();
    const Eigen::LLT<MatrixD, Eigen::Lower> llt(m);
    if (llt.info() != Eigen::Success) return run_reference("cholesky", a);
    MapF(out + p * n * n, n, n) = MatrixD(llt.matrixL()).cast<float>();
  }
}

void cholesky_inverse_kernel(const KernelArgs& a) {
  const int64_t batch = a.in[0].size(0), n = a.in[0].size(1);
  const float* L = f32_ptr(a.in[0]);
  float* out = f32_ptr(a.out[0]);
  for (int64_t p = 0; p < batch; ++p) {
    const MatrixD l = ConstMapF(L + p * n * n, n, n).cast<double>();
    if ((l.diagonal().array() == 0.0).any()) return run_reference("cholesky_inverse", a);
    // Y = L^-T L^-1: solve L Z = I, then L^T Y = Z.
    MatrixD y = MatrixD::Identity(n, n);
    l.triangularView<Eigen::Lower>().solveInPlace(y);
    l.triangularView<Eigen::Lower>().transpose().solveInPlace(y);
    MapF(out + p * n * n, n, n) = y.cast<float>();
  }
}

}  // namespace

void register_linalg() {
  register_kernel("cholesky", Backend::cpu, DType::f32, cholesky_kernel);
  register_kernel("cholesky_inverse", Backend::cpu, DType::f32, cholesky_inverse_kernel);
}

}  // namespace tutor::kernels::cpu
