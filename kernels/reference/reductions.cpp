// Reference reductions. The output has the input's rank with reduced dims of size 1; summing
// runs in double (or int64) so the oracle is more accurate than the kernels it checks.
#include "kernels/params.h"
#include "kernels/reference/loops.h"
#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

namespace {

// Strides that map an input index to its output element: 0 along the reduced dims.
Shape reduced_strides(const Tensor& out, const std::vector<int64_t>& dims) {
  Shape st = contiguous_strides(out.sizes());
  for (int64_t d : dims) st[size_t(d)] = 0;
  return st;
}

template <class T>
void sum_kernel(const KernelArgs& a) {
  using Acc = std::conditional_t<std::is_integral_v<T>, int64_t, double>;
  const Tensor& x = a.in[0];
  const Tensor& y = a.out[0];
  const auto& p = a.p<ReduceParams>();
  std::vector<Acc> acc(size_t(y.numel()), Acc(0));
  Shape ost = reduced_strides(y, p.dims);
  const T* xp = base<T>(x);
  for_each_offset<2>(x.sizes(), {&x.strides(), &ost}, {x.offset(), 0},
                     [&](int64_t ox, int64_t oy) { acc[size_t(oy)] += Acc(xp[ox]); });
  T* yp = y.data<T>();
  for (size_t i = 0; i < acc.size(); ++i) yp[i] = T(acc[i]);
}

}  // namespace

void register_reductions() {
  TUTOR_REGISTER_FLOATING("sum", sum_kernel);
  register_kernel("sum", Backend::reference, DType::i64, &sum_kernel<int64_t>);
}

}  // namespace tutor::kernels::reference
