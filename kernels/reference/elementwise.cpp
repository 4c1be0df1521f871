// Reference element-wise kernels. Inputs arrive broadcast to the output's shape (any strides);
// the output is contiguous.
#include <cmath>

#include "kernels/params.h"
#include "kernels/reference/loops.h"
#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

namespace {

template <class T> void add_kernel(const KernelArgs& a) { map2<T>(a, [](T x, T y) { return x + y; }); }
template <class T> void sub_kernel(const KernelArgs& a) { map2<T>(a, [](T x, T y) { return x - y; }); }
template <class T> void mul_kernel(const KernelArgs& a) { map2<T>(a, [](T x, T y) { return x * y; }); }
template <class T> void div_kernel(const KernelArgs& a) {
  map2<T>(a, [](T x, T y) {
    if constexpr (std::is_integral_v<T>) {
      TUTOR_CHECK(y != 0, "div: integer division by zero");
    }
    return x / y;
  });
}
template <class T> void neg_kernel(const KernelArgs& a) { map1<T>(a, [](T x) { return -x; }); }
template <class T> void exp_kernel(const KernelArgs& a) { map1<T>(a, [](T x) { return std::exp(x); }); }

}  // namespace

#define TUTOR_REGISTER_NUMERIC(name, fn)                                \
  do {                                                                  \
    TUTOR_REGISTER_FLOATING(name, fn);                                  \
    register_kernel(name, Backend::reference, DType::i64, &fn<int64_t>); \
  } while (0)

void register_elementwise() {
  TUTOR_REGISTER_NUMERIC("add", add_kernel);
  TUTOR_REGISTER_NUMERIC("sub", sub_kernel);
  TUTOR_REGISTER_NUMERIC("mul", mul_kernel);
  TUTOR_REGISTER_NUMERIC("div", div_kernel);
  TUTOR_REGISTER_NUMERIC("neg", neg_kernel);
  TUTOR_REGISTER_FLOATING("exp", exp_kernel);
}

}  // namespace tutor::kernels::reference
