// Reference matrix products. "matmul": a [B, M, K] times b [B, K, N] into a contiguous
// out [B, M, N]; the inputs may have any strides (transposed views, stride-0 broadcast batches).
// Sums run in double (int64 for i64) so the oracle is more accurate than the kernels it checks.
#include <type_traits>

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

}  // namespace

void register_linalg() {
  TUTOR_REGISTER_FLOATING("matmul", matmul_kernel);
  register_kernel("matmul", Backend::reference, DType::i64, &matmul_kernel<int64_t>);
}

}  // namespace tutor::kernels::reference
