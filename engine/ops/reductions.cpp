#include "engine/ops/reductions.h"

#include "engine/autograd/node.h"
#include "engine/ops/catalog.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/views.h"
#include "kernels/params.h"

namespace tutor {

using autograd::FunctionNode;
using autograd::needs_grad;
using autograd::record;
using ops::Kernel;

namespace {

// The input's shape with the reduced dims set to 1.
Shape kept_shape(const Shape& in, const std::vector<int64_t>& dims) {
  Shape s = in;
  for (int64_t d : dims) s[size_t(d)] = 1;
  return s;
}

Shape dropped_shape(const Shape& in, const std::vector<int64_t>& dims) {
  Shape s;
  for (size_t i = 0; i < in.size(); ++i)
    if (std::find(dims.begin(), dims.end(), int64_t(i)) == dims.end()) s.push_back(in[i]);
  return s;
}

}  // namespace

// d sum(x) = g broadcast back over the reduced dims
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  static const Kernel k("sum");
  kernels::ReduceParams p{wrap_dims(dims, x.dim(), "sum")};
  Shape kept = kept_shape(x.sizes(), p.dims);
  Tensor y = empty(kept, x.options());
  ops::dispatch(k, x.dtype(), {x}, {y}, &p);
  if (!keepdim) y = y.view(dropped_shape(x.sizes(), p.dims));
  if (needs_grad({x}))
    record("sum", {x}, {y}, [in = x.sizes(), kept](const FunctionNode&, const TensorList& g) {
      return TensorList{g[0].reshape(kept).expand(in).contiguous()};
    });
  return y;
}

void ops::add_reduction_ops(std::vector<OpInfo>& ops) {
  ops.push_back({"sum", true, {"sum"}, {DType::f32, DType::f64, DType::i64}});
}

}  // namespace tutor
