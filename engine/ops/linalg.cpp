#include "engine/ops/linalg.h"

#include "engine/autograd/node.h"
#include "engine/ops/catalog.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/shaping.h"
#include "engine/ops/views.h"

namespace tutor {

using autograd::FunctionNode;
using autograd::needs_grad;
using autograd::record;
using ops::Kernel;

namespace {

// `t` viewed at `shape` (t's dims aligned to the right, size-1 and missing dims at stride 0),
// without autograd: the data-side counterpart of expand, for handing inputs to a kernel.
Tensor expand_raw(const Tensor& t, const Shape& shape) {
  size_t lead = shape.size() - t.sizes().size();
  Shape st(shape.size(), 0);
  for (size_t i = lead; i < shape.size(); ++i)
    if (t.sizes()[i - lead] == shape[i]) st[i] = t.strides()[i - lead];
  return t.as_strided_raw(shape, st, t.offset());
}

// `t` [..., R, C] broadcast to `batch` and seen as [prod(batch), R, C]: a view when the batch dims
// merge (always for 3-D inputs and stride-0 broadcasts of a matrix), a packed copy otherwise.
Tensor as_batch3(const Tensor& t, const Shape& batch) {
  const int64_t r = t.sizes()[t.sizes().size() - 2], c = t.sizes().back();
  Shape full = batch;
  full.push_back(r);
  full.push_back(c);
  Tensor e = expand_raw(t, full);
  Shape three = {shape_numel(batch), r, c};
  if (auto st = view_strides(e.sizes(), e.strides(), three))
    return e.as_strided_raw(three, *st, e.offset());
  Tensor packed = e.contiguous_raw();
  return packed.as_strided_raw(three, contiguous_strides(three), packed.offset());
}

Shape leading(const Tensor& t, size_t trailing) {
  return Shape(t.sizes().begin(), t.sizes().end() - int64_t(trailing));
}

// The broadcast of the batch dims of a [..., M, K] and b [..., K, N]; throws naming `op` and both
// full shapes when they do not broadcast.
Shape broadcast_batch(const char* op, const Tensor& a, const Tensor& b, const Shape& sa,
                      const Shape& sb) {
  Shape x = leading(a, 2), y = leading(b, 2);
  size_t n = std::max(x.size(), y.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t dx = i + x.size() >= n ? x[i + x.size() - n] : 1;
    int64_t dy = i + y.size() >= n ? y[i + y.size() - n] : 1;
    TUTOR_CHECK(dx == dy || dx == 1 || dy == 1,
                "{}: the batch dims of shapes {} and {} do not broadcast ({} vs {})", op,
                shape_str(sa), shape_str(sb), shape_str(x), shape_str(y));
    out[i] = dx == 1 ? dy : dx;
  }
  return out;
}

// [..., M, K] x [..., K, N] for inputs of at least 2 dims whose shapes were checked by the caller.
// With Y = A B:  dA = dY B^T,  dB = A^T dY, each summed over the batch dims its input broadcast
// along (PyTorch, derivatives.yaml: mm / matmul). Written with this product itself, so the
// backward is differentiable again.
Tensor batched_matmul(const Tensor& a, const Tensor& b) {
  static const Kernel k("matmul");
  Shape batch = broadcast_batch(k.name, a, b, a.sizes(), b.sizes());
  const int64_t m = a.sizes()[a.sizes().size() - 2], n = b.sizes().back();
  Tensor out = empty({shape_numel(batch), m, n}, a.options());
  ops::dispatch(k, a.dtype(), {as_batch3(a.detach(), batch), as_batch3(b.detach(), batch)}, {out});
  Shape shape = batch;
  shape.push_back(m);
  shape.push_back(n);
  Tensor y = out.as_strided_raw(shape, contiguous_strides(shape), 0);
  if (needs_grad({a, b}))
    record("matmul", {a, b}, {y},
           [sa = autograd::save(a), sb = autograd::save(b)](const FunctionNode& node,
                                                            const TensorList& g) {
             Tensor a_ = node.unpack(sa), b_ = node.unpack(sb);
             return TensorList{node.needs_input_grad(0)
                                   ? sum_to(batched_matmul(g[0], b_.transpose(-2, -1)), a_.sizes())
                                   : Tensor(),
                               node.needs_input_grad(1)
                                   ? sum_to(batched_matmul(a_.transpose(-2, -1), g[0]), b_.sizes())
                                   : Tensor()};
           });
  return y;
}

void check_operands(const char* op, const Tensor& a, const Tensor& b) {
  ops::check_same_dtype(op, {a, b});
  ops::check_same_device(op, {a, b});
}

// The checks shared by cholesky and cholesky_inverse: a floating [..., n, n] input.
void check_square(const char* op, const Tensor& x) {
  ops::check_floating(op, x);
  TUTOR_CHECK(x.dim() >= 2 && x.size(-1) == x.size(-2),
              "{}: expected a square matrix or a batch of them [..., n, n], got shape {}", op,
              shape_str(x.sizes()));
}

// Runs a [P, n, n] -> [P, n, n] kernel on x [..., n, n], returning the result at x's shape.
Tensor run_square_kernel(const Kernel& k, const Tensor& x) {
  const int64_t n = x.size(-1);
  Tensor in = x.detach().contiguous().reshape({shape_numel(leading(x, 2)), n, n});
  Tensor out = empty(in.sizes(), x.options());
  ops::dispatch(k, x.dtype(), {in}, {out});
  return out.view(x.sizes());
}

// The diagonal of the last two dims kept in place, everything else zeroed.
Tensor diagonal_part(const Tensor& x) { return mul(x, eye(x.size(-1), {}, x.options())); }

}  // namespace

// torch.matmul (PyTorch docs): 1-D operands are promoted to [1, K] (left) or [K, 1] (right), the
// product is taken over broadcast batch dims, and the promoted dims are removed again. The
// derivative is that of the batched product (see batched_matmul); promotion and removal are views.
Tensor matmul(const Tensor& a, const Tensor& b) {
  check_operands("matmul", a, b);
  TUTOR_CHECK(a.dim() >= 1 && b.dim() >= 1,
              "matmul: both arguments need at least 1 dim, got shapes {} and {}",
              shape_str(a.sizes()), shape_str(b.sizes()));
  const int64_t ka = a.sizes().back(), kb = b.dim() == 1 ? b.size(0) : b.size(-2);
  TUTOR_CHECK(ka == kb,
              "matmul: shapes {} and {} cannot be multiplied ({} vs {} in the contracted dim)",
              shape_str(a.sizes()), shape_str(b.sizes()), ka, kb);
  Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a;
  Tensor b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
  broadcast_batch("matmul", a2, b2, a.sizes(), b.sizes());
  Tensor y;
  if (a2.dim() > 2 && b2.dim() == 2) {
    // A batch of matrices times one matrix is a single product of [prod(batch) * M, K] by [K, N]
    // (as PyTorch folds it): one kernel call, and no broadcast copies of b in the backward.
    Shape shape = leading(a2, 1);
    Tensor rows = a2.reshape({shape_numel(shape), ka});
    shape.push_back(b2.size(1));
    y = batched_matmul(rows, b2).view(shape);
  } else {
    y = batched_matmul(a2, b2);
  }
  if (a.dim() == 1) y = y.squeeze(-2);
  if (b.dim() == 1) y = y.squeeze(-1);
  return y;
}

// torch.bmm: out[p] = a[p] b[p]; derivatives as for matmul.
Tensor bmm(const Tensor& a, const Tensor& b) {
  check_operands("bmm", a, b);
  TUTOR_CHECK(a.dim() == 3 && b.dim() == 3, "bmm: expects two 3-D tensors, got shapes {} and {}",
              shape_str(a.sizes()), shape_str(b.sizes()));
  TUTOR_CHECK(a.size(0) == b.size(0) && a.size(2) == b.size(1),
              "bmm: shapes {} and {} cannot be multiplied (expected [B, M, K] and [B, K, N])",
              shape_str(a.sizes()), shape_str(b.sizes()));
  return batched_matmul(a, b);
}

// torch.nn.functional.linear: y = x W^T + b; dx = dy W, dW = dy^T x (summed over leading dims),
// db = dy summed over leading dims; all follow from matmul and add.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  ops::check_same_dtype("linear", {x, weight, bias});
  ops::check_same_device("linear", {x, weight, bias});
  TUTOR_CHECK(weight.dim() == 2, "linear: weight must be 2-D [out, in], got shape {}",
              shape_str(weight.sizes()));
  TUTOR_CHECK(
      x.dim() >= 1 && x.sizes().back() == weight.size(1),
      "linear: input of shape {} does not end in {} features, as weight of shape {} expects",
      shape_str(x.sizes()), weight.size(1), shape_str(weight.sizes()));
  if (bias.defined())
    TUTOR_CHECK(bias.sizes() == Shape{weight.size(0)},
                "linear: bias of shape {} does not match weight of shape {} (expected [{}])",
                shape_str(bias.sizes()), shape_str(weight.sizes()), weight.size(0));
  Tensor y = matmul(x, weight.t());
  return bias.defined() ? add(y, bias) : y;
}

// torch.outer: out[i, j] = a[i] b[j]; da = out-grad times b, db = out-grad^T times a (via mul).
Tensor outer(const Tensor& a, const Tensor& b) {
  check_operands("outer", a, b);
  TUTOR_CHECK(a.dim() == 1 && b.dim() == 1, "outer: expects two 1-D tensors, got shapes {} and {}",
              shape_str(a.sizes()), shape_str(b.sizes()));
  return mul(a.unsqueeze(1), b.unsqueeze(0));
}

// A = L L^T. With X = L^-1 dL (lower triangular), L^-1 dA L^-T = X + X^T, so
// dL = L Phi(L^-1 dA L^-T), Phi = lower triangle with the diagonal halved (self-adjoint). Hence
// for a symmetric perturbation dA, <gL, dL> = <G, dA> with G = L^-T Phi(L^T gL) L^-1 (PyTorch,
// FunctionsManual.cpp cholesky_backward). The forward reads only the lower triangle of A, so the
// gradient of each stored entry is gA = tril(G + G^T) - diag(G) (a strictly lower entry stands
// for both A_ij and A_ji) and zero above the diagonal. L^-1 = L^T (L L^T)^-1 = L^T Y with
// Y = cholesky_inverse(L); the rule is written with differentiable ops.
Tensor cholesky(const Tensor& a) {
  static const Kernel k("cholesky");
  check_square("cholesky", a);
  Tensor l = run_square_kernel(k, a);
  if (needs_grad({a}))
    record("cholesky", {a}, {l},
           [sl = autograd::save(l)](const FunctionNode& node, const TensorList& g) {
             Tensor L = node.unpack(sl), Lt = L.transpose(-2, -1);
             Tensor Y = cholesky_inverse(L);
             Tensor linv = matmul(Lt, Y);
             Tensor phi = tril(matmul(Lt, g[0]));
             phi = sub(phi, mul(diagonal_part(phi), 0.5));
             Tensor G = matmul(matmul(linv.transpose(-2, -1), phi), linv);
             return TensorList{sub(tril(add(G, G.transpose(-2, -1))), diagonal_part(G))};
           });
  return l;
}

// Y = (L L^T)^-1: dY = -Y dA Y with dA = dL L^T + L dL^T, so
// gL = -Y (gY + gY^T) Y L (PyTorch, cholesky_inverse_backward, lower case). The forward reads
// only the lower triangle of L, so L stands for tril(L) here and the gradient is kept on it.
Tensor cholesky_inverse(const Tensor& l) {
  static const Kernel k("cholesky_inverse");
  check_square("cholesky_inverse", l);
  Tensor y = run_square_kernel(k, l);
  if (needs_grad({l}))
    record("cholesky_inverse", {l}, {y},
           [sl = autograd::save(l), sy = autograd::save(y)](const FunctionNode& node,
                                                            const TensorList& g) {
             Tensor L = tril(node.unpack(sl)), Y = node.unpack(sy);
             Tensor sym = add(g[0], g[0].transpose(-2, -1));
             return TensorList{neg(tril(matmul(matmul(matmul(Y, sym), Y), L)))};
           });
  return y;
}

void ops::add_linalg_ops(std::vector<OpInfo>& ops) {
  const std::vector<DType> numeric = {DType::f32, DType::f64, DType::i64};
  ops.push_back({"matmul", true, {"matmul"}, numeric});
  ops.push_back({"bmm", true, {"matmul"}, numeric});
  ops.push_back({"linear", true, {}});
  ops.push_back({"outer", true, {}});
  ops.push_back({"cholesky", true, {"cholesky"}});
  ops.push_back({"cholesky_inverse", true, {"cholesky_inverse"}});
}

}  // namespace tutor
