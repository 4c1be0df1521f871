// Loop helpers shared by the reference kernels: typed base pointers and element-wise maps over
// strided tensors (the output is written at its own strides, so views work as outputs too).
#pragma once

#include "engine/core/strided.h"
#include "engine/core/tensor.h"
#include "kernels/registry.h"

namespace tutor::kernels::reference {

// The storage's first element; offsets from for_each_offset already include the tensor's offset.
template <class T>
T* base(const Tensor& t) {
  return static_cast<T*>(t.storage()->data());
}

// out[i] = f(in0[i])
template <class T, class R = T, class F>
void map1(const KernelArgs& a, F f) {
  const Tensor& x = a.in[0];
  const Tensor& y = a.out[0];
  const T* xp = base<T>(x);
  R* yp = base<R>(y);
  for_each_offset<2>(y.sizes(), {&y.strides(), &x.strides()}, {y.offset(), x.offset()},
                     [&](int64_t oy, int64_t ox) { yp[oy] = f(xp[ox]); });
}

// out[i] = f(in0[i], in1[i]); the inputs share the output's shape (broadcast by the op).
template <class T, class R = T, class F>
void map2(const KernelArgs& a, F f) {
  const Tensor& x = a.in[0];
  const Tensor& z = a.in[1];
  const Tensor& y = a.out[0];
  const T* xp = base<T>(x);
  const T* zp = base<T>(z);
  R* yp = base<R>(y);
  for_each_offset<3>(y.sizes(), {&y.strides(), &x.strides(), &z.strides()},
                     {y.offset(), x.offset(), z.offset()},
                     [&](int64_t oy, int64_t ox, int64_t oz) { yp[oy] = f(xp[ox], zp[oz]); });
}

}  // namespace tutor::kernels::reference
