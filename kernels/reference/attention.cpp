// Reference kernel for attention masking. "attention_mask_fill": in x (floating) and keep (bool),
// both broadcast to the output's shape (any strides); out = keep ? x : value, with value in
// ScalarParams::a.
#include "kernels/params.h"
#include "kernels/reference/loops.h"
#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

namespace {

template <class T>
void attention_mask_fill_kernel(const KernelArgs& a) {
  const Tensor& x = a.in[0];
  const Tensor& keep = a.in[1];
  const Tensor& y = a.out[0];
  const T value = T(a.p<ScalarParams>().a);
  const T* xp = base<T>(x);
  const bool* kp = base<bool>(keep);
  T* yp = base<T>(y);
  for_each_offset<3>(y.sizes(), {&y.strides(), &x.strides(), &keep.strides()},
                     {y.offset(), x.offset(), keep.offset()},
                     [&](int64_t oy, int64_t ox, int64_t ok) { yp[oy] = kp[ok] ? xp[ox] : value; });
}

}  // namespace

void register_attention() {
  TUTOR_REGISTER_FLOATING("attention_mask_fill", attention_mask_fill_kernel);
}

}  // namespace tutor::kernels::reference
