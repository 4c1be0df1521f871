// Reference kernels of the optimizer updates (kernels/optim_params.h), element by element in the
// tensors' dtype, each operation rounded as PyTorch's unfused ops round it.
#include "kernels/optim_params.h"
#include "kernels/reference/loops.h"
#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

namespace {

template <class T>
void sgd_update_kernel(const KernelArgs& args) {
  const SgdParams& o = args.p<SgdParams>();
  const Tensor &g = args.in[0], &p = args.out[0];
  const Tensor buf = args.out.size() > 1 ? args.out[1] : Tensor();
  const T lr = T(o.lr), wd = T(o.weight_decay), momentum = T(o.momentum);
  const T keep = T(1 - o.dampening);
  const T* gp = base<T>(g);
  T* pp = base<T>(p);
  T* bp = buf.defined() ? base<T>(buf) : nullptr;
  const Tensor& b = buf.defined() ? buf : p;  // strides for the loop when there is no buffer
  for_each_offset<3>(p.sizes(), {&p.strides(), &g.strides(), &b.strides()},
                     {p.offset(), g.offset(), b.offset()}, [&](int64_t op, int64_t og, int64_t ob) {
                       T d = wd != T(0) ? T(gp[og] + T(wd * pp[op])) : gp[og];
                       if (bp) {
                         T& m = bp[ob];
                         m = o.first ? d : T(T(momentum * m) + T(keep * d));
                         d = o.nesterov ? T(d + T(momentum * m)) : m;
                       }
                       pp[op] = T(pp[op] - T(lr * d));
                     });
}

}  // namespace

void register_optim() { TUTOR_REGISTER_FLOATING("sgd_update", sgd_update_kernel); }

}  // namespace tutor::kernels::reference
