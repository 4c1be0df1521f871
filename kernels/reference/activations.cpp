// Reference softmax family along one dim. Inputs may have any strides (they are packed first);
// outputs are contiguous. Row sums and maxima are taken in double.
#include <cmath>
#include <limits>

#include "kernels/activations_params.h"
#include "kernels/reference/loops.h"
#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

namespace {

// Calls f(start, step, n) for every 1-D slice along `dim` of a contiguous tensor of `sizes`:
// the slice's elements sit at start + i * step, i < n.
template <class F>
void for_each_row(const Shape& sizes, int64_t dim, F f) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= sizes[size_t(d)];
  for (size_t d = size_t(dim) + 1; d < sizes.size(); ++d) inner *= sizes[d];
  const int64_t n = sizes[size_t(dim)];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) f(o * n * inner + i, inner, n);
}

// y = exp(x - max) / sum exp(x - max), or log y = x - max - log sum exp(x - max).
template <class T, bool Log>
void softmax_kernel(const KernelArgs& a) {
  const auto& p = a.p<SoftmaxParams>();
  Tensor x = a.in[0].contiguous_raw();
  const T* xp = x.data<T>();
  T* yp = a.out[0].data<T>();
  for_each_row(x.sizes(), p.dim, [&](int64_t start, int64_t step, int64_t n) {
    double mx = -std::numeric_limits<double>::infinity();
    for (int64_t i = 0; i < n; ++i) mx = std::max(mx, double(xp[start + i * step]));
    if (p.zero_fully_masked && std::isinf(mx) && mx < 0) {
      for (int64_t i = 0; i < n; ++i) yp[start + i * step] = T(0);
      return;
    }
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += std::exp(double(xp[start + i * step]) - mx);
    for (int64_t i = 0; i < n; ++i) {
      double shifted = double(xp[start + i * step]) - mx;
      yp[start + i * step] = T(Log ? shifted - std::log(s) : std::exp(shifted) / s);
    }
  });
}

// in: g (gradient of y), y (the forward output); out: gx.
//   softmax:      gx = y * (g - sum(g * y))
//   log_softmax:  gx = g - exp(y) * sum(g)
template <class T, bool Log>
void softmax_backward_kernel(const KernelArgs& a) {
  const auto& p = a.p<SoftmaxParams>();
  Tensor g = a.in[0].contiguous_raw(), y = a.in[1].contiguous_raw();
  const T* gp = g.data<T>();
  const T* yp = y.data<T>();
  T* gxp = a.out[0].data<T>();
  for_each_row(y.sizes(), p.dim, [&](int64_t start, int64_t step, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i) {
      int64_t o = start + i * step;
      s += Log ? double(gp[o]) : double(gp[o]) * double(yp[o]);
    }
    for (int64_t i = 0; i < n; ++i) {
      int64_t o = start + i * step;
      double gv = gp[o], yv = yp[o];
      gxp[o] = T(Log ? gv - std::exp(yv) * s : yv * (gv - s));
    }
  });
}

template <class T>
void softmax_forward(const KernelArgs& a) {
  softmax_kernel<T, false>(a);
}
template <class T>
void log_softmax_forward(const KernelArgs& a) {
  softmax_kernel<T, true>(a);
}
template <class T>
void softmax_backward(const KernelArgs& a) {
  softmax_backward_kernel<T, false>(a);
}
template <class T>
void log_softmax_backward(const KernelArgs& a) {
  softmax_backward_kernel<T, true>(a);
}

}  // namespace

void register_activations() {
  TUTOR_REGISTER_FLOATING("softmax", softmax_forward);
  TUTOR_REGISTER_FLOATING("log_softmax", log_softmax_forward);
  TUTOR_REGISTER_FLOATING("softmax_backward", softmax_backward);
  TUTOR_REGISTER_FLOATING("log_softmax_backward", log_softmax_backward);
}

}  // namespace tutor::kernels::reference
