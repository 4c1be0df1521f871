#include "engine/ops/activations.h"

#include "engine/autograd/node.h"
#include "engine/ops/catalog.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reductions.h"
#include "kernels/activations_params.h"

namespace tutor {

using autograd::FunctionNode;
using autograd::needs_grad;
using autograd::record;
using ops::Kernel;

namespace {

// Runs a softmax-family kernel on inputs of at least one dim, all of the shape of in[0].
Tensor run_along(const Kernel& k, std::initializer_list<Tensor> in, int64_t dim,
                 bool zero_fully_masked = false) {
  const Tensor& first = *in.begin();
  kernels::SoftmaxParams p{dim, zero_fully_masked};
  Tensor out = empty(first.sizes(), first.options());
  ops::dispatch(k, first.dtype(), in, {out}, &p);
  return out;
}

// The backward rules below run dedicated kernels ("softmax_backward", "log_softmax_backward")
// and are themselves recorded with derivatives written in differentiable ops, so double backward
// works.

// gx = y * (g - sum(g * y)). As a function of (g, y), with h the gradient of gx:
//   d/dg = y * (h - sum(h * y))               (softmax_backward(h, y) again)
//   d/dy = h * (g - sum(g * y)) - g * sum(h * y)
Tensor softmax_backward(const Tensor& g, const Tensor& y, int64_t dim) {
  static const Kernel k("softmax_backward");
  Tensor gx = run_along(k, {g, y}, dim);
  if (needs_grad({g, y}))
    record("softmax_backward", {g, y}, {gx},
           [sg = autograd::save(g), sy = autograd::save(y), dim](const FunctionNode& n,
                                                                 const TensorList& h) {
             Tensor g_ = n.unpack(sg), y_ = n.unpack(sy);
             auto row_sum = [dim](const Tensor& t) { return sum(t, {dim}, /*keepdim=*/true); };
             return TensorList{n.needs_input_grad(0) ? softmax_backward(h[0], y_, dim) : Tensor(),
                               n.needs_input_grad(1) ? sub(mul(h[0], sub(g_, row_sum(mul(g_, y_)))),
                                                           mul(g_, row_sum(mul(h[0], y_))))
                                                     : Tensor()};
           });
  return gx;
}

// gx = g - exp(y) * sum(g), y = log_softmax(x). With h the gradient of gx:
//   d/dg = h - sum(h * exp(y))
//   d/dy = -h * exp(y) * sum(g)
Tensor log_softmax_backward(const Tensor& g, const Tensor& y, int64_t dim) {
  static const Kernel k("log_softmax_backward");
  Tensor gx = run_along(k, {g, y}, dim);
  if (needs_grad({g, y}))
    record("log_softmax_backward", {g, y}, {gx},
           [sg = autograd::save(g), sy = autograd::save(y), dim](const FunctionNode& n,
                                                                 const TensorList& h) {
             Tensor g_ = n.unpack(sg), ey = exp(n.unpack(sy));
             return TensorList{
                 n.needs_input_grad(0) ? sub(h[0], sum(mul(h[0], ey), {dim}, true)) : Tensor(),
                 n.needs_input_grad(1) ? neg(mul(mul(h[0], ey), sum(g_, {dim}, true))) : Tensor()};
           });
  return gx;
}

// Shared by the forward ops: checks, wraps dim, treats a 0-dim input as [1], runs `forward` and
// records `backward(g, y, dim)`.
Tensor softmax_like(const char* op, const Kernel& forward,
                    Tensor (*backward)(const Tensor&, const Tensor&, int64_t), const Tensor& x,
                    int64_t dim, bool zero_fully_masked = false) {
  ops::check_floating(op, x);
  const int64_t rank = std::max<int64_t>(x.dim(), 1);
  TUTOR_CHECK(dim >= -rank && dim < rank, "{}: dim {} is out of range for an input of shape {}", op,
              dim, shape_str(x.sizes()));
  if (x.dim() == 0)
    return softmax_like(op, forward, backward, x.reshape({1}), 0, zero_fully_masked).reshape({});
  const int64_t d = dim < 0 ? dim + rank : dim;
  Tensor y = run_along(forward, {x}, d, zero_fully_masked);
  if (needs_grad({x}))
    record(
        op, {x}, {y},
        [sy = autograd::save_output(y), d, backward](const FunctionNode& n, const TensorList& g) {
          return TensorList{backward(g[0], n.unpack(sy), d)};
        });
  return y;
}

}  // namespace

// softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m), m = max_j x_j (the shift cancels; it keeps
// exp from overflowing). d/dx: gx = y * (g - sum(g * y)) (PyTorch, derivatives.yaml:
// _softmax_backward_data).
Tensor softmax(const Tensor& x, int64_t dim) {
  static const Kernel k("softmax");
  return softmax_like("softmax", k, softmax_backward, x, dim);
}

// log_softmax(x)_i = x_i - m - log sum_j exp(x_j - m). d/dx: gx = g - exp(y) * sum(g)
// (PyTorch, derivatives.yaml: _log_softmax_backward_data).
Tensor log_softmax(const Tensor& x, int64_t dim) {
  static const Kernel k("log_softmax");
  return softmax_like("log_softmax", k, log_softmax_backward, x, dim);
}

// softmax with rows of all -inf mapped to 0 (PyTorch, aten/src/ATen/native/transformers/
// attention.cpp: _safe_softmax). Such rows have y = 0, so the softmax derivative gives them 0.
Tensor safe_softmax(const Tensor& x, int64_t dim) {
  static const Kernel k("softmax");
  return softmax_like("safe_softmax", k, softmax_backward, x, dim, /*zero_fully_masked=*/true);
}

void ops::add_activation_ops(std::vector<OpInfo>& ops) {
  ops.push_back({"softmax", true, {"softmax", "softmax_backward"}});
  ops.push_back({"log_softmax", true, {"log_softmax", "log_softmax_backward"}});
  ops.push_back({"safe_softmax", true, {"softmax", "softmax_backward"}});
}

}  // namespace tutor
