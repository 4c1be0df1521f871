#include "engine/ops/losses.h"

#include <algorithm>
#include <cmath>
#include <span>

#include "engine/autograd/node.h"
#include "engine/ops/catalog.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reductions.h"
#include "engine/ops/views.h"
#include "kernels/losses_params.h"

namespace tutor {

using autograd::FunctionNode;
using autograd::needs_grad;
using autograd::record;
using ops::Kernel;

Reduction reduction_from_string(std::string_view name, const char* op) {
  for (Reduction r : {Reduction::none, Reduction::mean, Reduction::sum, Reduction::batchmean})
    if (name == reduction_name(r)) return r;
  fail("{}: unknown reduction '{}' (expected 'none', 'mean', 'sum' or 'batchmean')", op, name);
}

std::string_view reduction_name(Reduction r) {
  switch (r) {
    case Reduction::none:
      return "none";
    case Reduction::mean:
      return "mean";
    case Reduction::sum:
      return "sum";
    case Reduction::batchmean:
      return "batchmean";
  }
  return "unknown";
}

namespace {

void check_reduction(const char* op, Reduction r, bool allow_batchmean = false) {
  switch (r) {
    case Reduction::none:
    case Reduction::mean:
    case Reduction::sum:
      return;
    case Reduction::batchmean:
      TUTOR_CHECK(allow_batchmean, "{}: reduction 'batchmean' is only valid for kl_div", op);
      return;
  }
  fail("{}: unknown reduction (enum value {})", op, int(r));
}

// PyTorch's reductions of a per-element loss. 'mean' divides by the number of elements, or by
// `mean_divisor` (a 0-dim tensor: the summed target weights of nll_loss / cross_entropy);
// 'batchmean' divides by the size of dim 0.
Tensor reduce(const Tensor& loss, Reduction r, const Tensor& mean_divisor = {}) {
  switch (r) {
    case Reduction::none:
      return loss;
    case Reduction::sum:
      return sum(loss);
    case Reduction::mean:
      return mean_divisor.defined() ? div(sum(loss), mean_divisor)
                                    : div(sum(loss), double(loss.numel()));
    case Reduction::batchmean:
      return loss.dim() == 0 ? sum(loss) : div(sum(loss), double(loss.size(0)));
  }
  fail("unknown reduction (enum value {})", int(r));
}

// NumPy broadcasting: trailing dims equal or 1.
bool shapes_broadcast(const Shape& a, const Shape& b) {
  for (size_t i = 1; i <= std::min(a.size(), b.size()); ++i) {
    const int64_t x = a[a.size() - i], y = b[b.size() - i];
    if (x != y && x != 1 && y != 1) return false;
  }
  return true;
}

void check_broadcasts_to(const char* op, const char* what, const Tensor& t, const Tensor& input) {
  TUTOR_CHECK(shapes_broadcast(t.sizes(), input.sizes()) &&
                  broadcast_shapes(t.sizes(), input.sizes(), op) == input.sizes(),
              "{}: {} of shape {} does not broadcast to the input's shape {}", op, what,
              shape_str(t.sizes()), shape_str(input.sizes()));
}

// The backward kernels are not differentiable. When a backward pass with create_graph runs
// `kernel`, its results hang off a node (named after the kernel) whose own backward throws, so
// differentiating the gradient again fails loudly instead of silently giving zero.
void mark_first_order(const char* kernel, const TensorList& from, const TensorList& grads) {
  if (!needs_grad(from)) return;
  TensorList outs;
  for (const Tensor& t : grads)
    if (t.defined()) outs.push_back(t);
  record(kernel, from, outs,
         [name = std::string(kernel)](const FunctionNode&, const TensorList&) -> TensorList {
           fail(
               "{}: double backward is not supported (a loss's gradient cannot be "
               "differentiated again; do not pass create_graph through it)",
               name);
         });
}

TensorList run_kernel(const Kernel& k, const TensorList& in, const std::vector<Shape>& shapes,
                      const void* params) {
  TensorList out;
  for (const Shape& s : shapes) out.push_back(empty(s, in[0].options()));
  ops::dispatch(k, in[0].dtype(), std::span<const Tensor>(in), std::span<Tensor>(out), params);
  return out;
}

// Runs backward kernel `k` on `in` (the output gradient first), giving one gradient per shape;
// the result is first-order only.
TensorList run_backward(const Kernel& k, const TensorList& in, const std::vector<Shape>& shapes,
                        const void* params) {
  TensorList out = run_kernel(k, in, shapes, params);
  mark_first_order(k.name, in, out);
  return out;
}

// As run_backward, for the losses whose gradient is the output gradient g times a factor, one g
// per per-sample (class losses: per row, the class dim 1 absent from g) or per-element loss:
//   grad_k = g * J_k(x, t),  J_k = the kernel at g = 1.
// That is linear in g, so its derivative in g is known without the kernel's own derivative: with
// h_k the gradient of grad_k, g gets sum_k h_k J_k (summed over the class dim). This is what a
// hypergradient through a loss weighted by a learned per-sample factor needs (distill/bilevel.h).
// A derivative in x or t is still refused, by the node J's own computation records.
template <class Params>
TensorList run_scaled_backward(const Kernel& k, const TensorList& in,
                               const std::vector<Shape>& shapes, const Params& params) {
  TensorList out = run_kernel(k, in, shapes, &params);
  if (!needs_grad(in)) return out;
  std::vector<autograd::SavedTensor> saved;
  for (const Tensor& t : in) saved.push_back(autograd::save(t));
  record(k.name, in, out,
         [&k, params, shapes, saved](const FunctionNode& n, const TensorList& h) -> TensorList {
           TensorList result(saved.size());
           for (size_t i = 1; i < saved.size(); ++i)
             if (n.needs_input_grad(i))
               fail(
                   "{}: double backward is supported in the incoming gradient only (a loss's "
                   "gradient cannot be differentiated again in its input or target; do not pass "
                   "create_graph through it)",
                   k.name);
           if (!n.needs_input_grad(0)) return result;
           TensorList args;
           for (const auto& s : saved) args.push_back(n.unpack(s));
           const Tensor g = args[0];
           args[0] = ones(g.sizes(), g.options());
           TensorList J = run_scaled_backward(k, args, shapes, params);
           Tensor g_grad;
           for (size_t j = 0; j < J.size(); ++j) {
             Tensor term = mul(h[j], J[j]);
             if (term.dim() == g.dim() + 1) term = sum(term, {1});
             g_grad = g_grad.defined() ? add(g_grad, term) : term;
           }
           result[0] = g_grad;
           return result;
         });
  return out;
}

Tensor grad_if(const FunctionNode& n, size_t i, const Tensor& g) {
  return n.needs_input_grad(i) ? g : Tensor();
}

// A loss computed element by element from input x and target t of one shape, and optionally a
// third tensor e broadcast to that shape (pos_weight). Returns the per-element loss,
// differentiable in x, t and e.
Tensor pointwise_loss(const Kernel& fwd, const Kernel& bwd, const Tensor& x, const Tensor& t,
                      const Tensor& e = {}, double param = 0) {
  const char* op = fwd.name;
  ops::check_floating(op, x);
  ops::check_same_dtype(op, {x, t, e});
  ops::check_same_device(op, {x, t, e});
  TUTOR_CHECK(t.sizes() == x.sizes(), "{}: target of shape {} must have the input's shape {}", op,
              shape_str(t.sizes()), shape_str(x.sizes()));
  if (e.defined()) check_broadcasts_to(op, "pos_weight", e, x);
  Tensor ex = e.defined() ? e.expand(x.sizes()) : Tensor();
  kernels::PointwiseLossParams p{param};
  TensorList in{x, t};
  if (ex.defined()) in.push_back(ex);
  TensorList out{empty(x.sizes(), x.options())};
  ops::dispatch(fwd, x.dtype(), std::span<const Tensor>(in), std::span<Tensor>(out), &p);
  if (needs_grad(in))
    record(op, in, out,
           [&bwd, p, saved = std::vector{autograd::save(x), autograd::save(t), autograd::save(ex)}](
               const FunctionNode& n, const TensorList& g) {
             TensorList args{g[0]};
             std::vector<Shape> shapes;
             for (const auto& s : saved) {
               Tensor a = n.unpack(s);
               if (!a.defined()) continue;
               args.push_back(a);
               shapes.push_back(a.sizes());
             }
             TensorList grads = run_scaled_backward(bwd, args, shapes, p);
             TensorList result;
             for (size_t i = 0; i < grads.size(); ++i) result.push_back(grad_if(n, i, grads[i]));
             return result;
           });
  return out[0];
}

// ---- class losses ----

// The arguments of nll_loss / cross_entropy, checked, with an unbatched input [C] seen as [1, C].
struct ClassArgs {
  Tensor input, target;
  bool unbatched = false;
  bool prob_target = false;
};

ClassArgs class_args(const char* op, const Tensor& input, const Tensor& target,
                     const Tensor& weight, bool allow_prob_target) {
  ops::check_floating(op, input);
  ops::check_same_device(op, {input, target, weight});
  TUTOR_CHECK(input.dim() >= 1, "{}: input must have a class dim, got shape {}", op,
              shape_str(input.sizes()));
  ClassArgs a{input, target, input.dim() == 1, false};
  const int64_t classes = input.size(a.unbatched ? 0 : 1);
  Shape index_shape = input.sizes();
  index_shape.erase(index_shape.begin() + (a.unbatched ? 0 : 1));
  if (target.is_floating_point() && allow_prob_target) {
    a.prob_target = true;
    ops::check_same_dtype(op, {input, target});
    TUTOR_CHECK(target.sizes() == input.sizes(),
                "{}: target probabilities of shape {} must have the input's shape {}", op,
                shape_str(target.sizes()), shape_str(input.sizes()));
  } else {
    TUTOR_CHECK(target.dtype() == DType::i64,
                "{}: target must be i64 class indices{}, got {} of shape {}", op,
                allow_prob_target ? " or floating probabilities" : "", target.dtype(),
                shape_str(target.sizes()));
    TUTOR_CHECK(target.sizes() == index_shape,
                "{}: target of shape {} does not match input of shape {} (expected class "
                "indices of shape {})",
                op, shape_str(target.sizes()), shape_str(input.sizes()), shape_str(index_shape));
  }
  if (weight.defined()) {
    ops::check_same_dtype(op, {input, weight});
    TUTOR_CHECK(weight.dim() == 1 && weight.size(0) == classes,
                "{}: weight of shape {} must be [{}], one per class of input of shape {}", op,
                shape_str(weight.sizes()), classes, shape_str(input.sizes()));
    TUTOR_CHECK(!needs_grad({weight}),
                "{}: the class weight does not take a gradient (as in PyTorch); pass it "
                "detached",
                op);
  }
  if (a.unbatched) a.input = input.unsqueeze(0), a.target = target.unsqueeze(0);
  return a;
}

// Runs a class loss's forward kernel and records its backward; returns the reduced loss.
Tensor class_loss(const Kernel& fwd, const Kernel& bwd, const ClassArgs& a, const Tensor& weight,
                  Reduction reduction, const kernels::ClassLossParams& p) {
  Shape loss_shape = a.input.sizes();
  loss_shape.erase(loss_shape.begin() + 1);
  TensorList out{empty(loss_shape, a.input.options()), empty({}, a.input.options())};
  TensorList in{a.input, a.target, weight};
  ops::dispatch(fwd, a.input.dtype(), std::span<const Tensor>(in), std::span<Tensor>(out), &p);
  Tensor loss = out[0];
  if (needs_grad({a.input, a.target}))
    record(fwd.name, {a.input, a.target}, {loss},
           [&bwd, p, sx = autograd::save(a.input), st = autograd::save(a.target),
            sw = autograd::save(weight)](const FunctionNode& n, const TensorList& g) {
             Tensor x = n.unpack(sx), t = n.unpack(st);
             std::vector<Shape> shapes{x.sizes()};
             if (p.prob_target && n.needs_input_grad(1)) shapes.push_back(t.sizes());
             TensorList grads = run_scaled_backward(bwd, {g[0], x, t, n.unpack(sw)}, shapes, p);
             return TensorList{grad_if(n, 0, grads[0]), grads.size() > 1 ? grads[1] : Tensor()};
           });
  if (a.unbatched) loss = loss.squeeze(0);
  return reduce(loss, reduction, out[1]);
}

}  // namespace

// Cross entropy of logits x over the class dim 1 with log p = log_softmax(x, 1) (PyTorch's
// torch.nn.functional.cross_entropy, incl. label smoothing eps):
//   class indices y:   l = (1 - eps) w_y (-log p_y) + (eps / C) sum_c w_c (-log p_c), 0 if y is
//                      ignore_index; 'mean' divides by sum of w_y over non-ignored targets.
//   probabilities t:   l = -sum_c w_c ((1 - eps) t_c + eps / C) log p_c; 'mean' divides by N d...
// With a_c the coefficient of -log p_c:  dl/dx_c = p_c sum_j a_j - a_c;
//                                         dl/dt_c = -(1 - eps) w_c log p_c.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                     int64_t ignore_index, Reduction reduction, double label_smoothing) {
  static const Kernel fwd("cross_entropy"), bwd("cross_entropy_backward");
  check_reduction("cross_entropy", reduction);
  TUTOR_CHECK(label_smoothing >= 0 && label_smoothing <= 1,
              "cross_entropy: label_smoothing must lie in [0, 1], got {}", label_smoothing);
  ClassArgs a = class_args("cross_entropy", input, target, weight, /*allow_prob_target=*/true);
  kernels::ClassLossParams p{"cross_entropy", ignore_index, label_smoothing, a.prob_target};
  return class_loss(fwd, bwd, a, weight, reduction, p);
}

// Negative log-likelihood of log-probabilities x (torch.nn.functional.nll_loss):
//   l = -w_y x_y, 0 if y is ignore_index; 'mean' divides by sum of w_y over non-ignored targets.
//   dl/dx_c = -w_y [c == y]
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight,
                int64_t ignore_index, Reduction reduction) {
  static const Kernel fwd("nll_loss"), bwd("nll_loss_backward");
  check_reduction("nll_loss", reduction);
  ClassArgs a = class_args("nll_loss", input, target, weight, /*allow_prob_target=*/false);
  kernels::ClassLossParams p{"nll_loss", ignore_index, 0.0, false};
  return class_loss(fwd, bwd, a, weight, reduction, p);
}

// Kullback-Leibler divergence with input x = log q (torch.nn.functional.kl_div):
//   l = xlogy(t, t) - t x            (0 where t == 0)     dl/dx = -t, dl/dt = log t + 1 - x
//   l = exp(t) (t - x)  (log_target)                      dl/dx = -exp(t), dl/dt = exp(t)(t - x +
//   1)
// 'batchmean' = sum / x.size(0), the true KL divergence per sample. At t == 0 the target
// gradient is taken as -x (PyTorch returns NaN there).
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction, bool log_target) {
  static const Kernel fwd("kl_div"), bwd("kl_div_backward");
  check_reduction("kl_div", reduction, /*allow_batchmean=*/true);
  return reduce(pointwise_loss(fwd, bwd, input, target, {}, log_target ? 1.0 : 0.0), reduction);
}

// l = (x - t)^2;  dl/dx = 2 (x - t) = -dl/dt
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  static const Kernel fwd("mse_loss"), bwd("mse_loss_backward");
  check_reduction("mse_loss", reduction);
  return reduce(pointwise_loss(fwd, bwd, input, target), reduction);
}

// l = |x - t|;  dl/dx = sign(x - t) = -dl/dt (0 at x == t, as PyTorch)
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  static const Kernel fwd("l1_loss"), bwd("l1_loss_backward");
  check_reduction("l1_loss", reduction);
  return reduce(pointwise_loss(fwd, bwd, input, target), reduction);
}

// d = x - t:  l = 0.5 d^2 / beta if |d| < beta, else |d| - 0.5 beta (beta = 0 gives l1_loss);
// dl/dx = d / beta or sign(d) = -dl/dt
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  static const Kernel fwd("smooth_l1_loss"), bwd("smooth_l1_loss_backward");
  check_reduction("smooth_l1_loss", reduction);
  TUTOR_CHECK(beta >= 0, "smooth_l1_loss: beta must be >= 0, got {}", beta);
  return reduce(pointwise_loss(fwd, bwd, input, target, {}, beta), reduction);
}

// d = x - t:  l = 0.5 d^2 if |d| < delta, else delta (|d| - 0.5 delta);
// dl/dx = d or delta sign(d) = -dl/dt
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  static const Kernel fwd("huber_loss"), bwd("huber_loss_backward");
  check_reduction("huber_loss", reduction);
  TUTOR_CHECK(delta > 0, "huber_loss: delta must be > 0, got {}", delta);
  return reduce(pointwise_loss(fwd, bwd, input, target, {}, delta), reduction);
}

// l = -w (t log x + (1 - t) log(1 - x)), logs clamped at -100 (PyTorch);
// dl/dx = w (x - t) / max(x (1 - x), 1e-12);  dl/dt = w (log(1 - x) - log x);  dl/dw = l / w
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                            Reduction reduction) {
  static const Kernel fwd("binary_cross_entropy"), bwd("binary_cross_entropy_backward");
  check_reduction("binary_cross_entropy", reduction);
  if (weight.defined()) check_broadcasts_to("binary_cross_entropy", "weight", weight, input);
  Tensor loss = pointwise_loss(fwd, bwd, input, target);
  return reduce(weight.defined() ? mul(loss, weight) : loss, reduction);
}

// PyTorch's stable form, with pos_weight e and lw = 1 + (e - 1) t:
//   l = w ((1 - t) x - lw log sigmoid(x))
//   dl/dx = w ((1 - t) - lw sigmoid(-x));  dl/dt = w (-x - (e - 1) log sigmoid(x));
//   dl/de = -w t log sigmoid(x)
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight, Reduction reduction,
                                        const Tensor& pos_weight) {
  static const Kernel fwd("binary_cross_entropy_with_logits"),
      bwd("binary_cross_entropy_with_logits_backward");
  check_reduction(fwd.name, reduction);
  if (weight.defined()) check_broadcasts_to(fwd.name, "weight", weight, input);
  Tensor loss = pointwise_loss(fwd, bwd, input, target, pos_weight);
  return reduce(weight.defined() ? mul(loss, weight) : loss, reduction);
}

// cos = x1.x2 / (max(||x1||, eps) max(||x2||, eps)) along dim: what PyTorch's
// torch.nn.functional.cosine_similarity computes (checked against Debian's 1.13.1; 2.x is the
// same), clamping each norm separately. Its 1.13 docs write max(||x1|| ||x2||, eps), which
// differs only when a norm is below eps. With m_i = max(||x_i||, eps):
//   dcos/dx1 = x2 / (m1 m2) - [||x1|| > eps] cos x1 / ||x1||^2, symmetrically for x2.
// Below eps this is the derivative of the clamped formula; PyTorch clamps outside autograd, so
// its gradient there keeps the norm's term.
Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim, double eps) {
  static const Kernel fwd("cosine_similarity"), bwd("cosine_similarity_backward");
  ops::check_floating("cosine_similarity", x1);
  ops::check_same_dtype("cosine_similarity", {x1, x2});
  ops::check_same_device("cosine_similarity", {x1, x2});
  auto [a, b] = broadcast_pair(x1, x2, "cosine_similarity");
  TUTOR_CHECK(a.dim() >= 1, "cosine_similarity: inputs must have at least one dim, got {} and {}",
              shape_str(x1.sizes()), shape_str(x2.sizes()));
  kernels::DimNormParams p{wrap_dim(dim, a.dim(), "cosine_similarity"), 2.0, eps};
  Shape out_shape = a.sizes();
  out_shape.erase(out_shape.begin() + p.dim);
  Tensor y = empty(out_shape, a.options());
  ops::dispatch(fwd, a.dtype(), {a, b}, {y}, &p);
  if (needs_grad({a, b}))
    record("cosine_similarity", {a, b}, {y},
           [p, sa = autograd::save(a), sb = autograd::save(b)](const FunctionNode& n,
                                                               const TensorList& g) {
             Tensor u = n.unpack(sa), v = n.unpack(sb);
             TensorList grads = run_backward(bwd, {g[0], u, v}, {u.sizes(), v.sizes()}, &p);
             return TensorList{grad_if(n, 0, grads[0]), grad_if(n, 1, grads[1])};
           });
  return y;
}

// y = x / max(||x||_p, eps) along dim (torch.nn.functional.normalize). With n = ||x||_p and
// m = max(n, eps):  dy_i/dx_j = [i == j] / m - [n > eps] x_i / m^2 * sign(x_j) |x_j|^(p-1) /
// n^(p-1)
Tensor normalize(const Tensor& x, double p, int64_t dim, double eps) {
  static const Kernel fwd("normalize"), bwd("normalize_backward");
  ops::check_floating("normalize", x);
  TUTOR_CHECK(p > 0 && std::isfinite(p), "normalize: p must be finite and > 0, got {}", p);
  TUTOR_CHECK(x.dim() >= 1, "normalize: input must have at least one dim, got shape {}",
              shape_str(x.sizes()));
  kernels::DimNormParams prm{wrap_dim(dim, x.dim(), "normalize"), p, eps};
  Tensor y = empty(x.sizes(), x.options());
  ops::dispatch(fwd, x.dtype(), {x}, {y}, &prm);
  if (needs_grad({x}))
    record("normalize", {x}, {y},
           [prm, sx = autograd::save(x)](const FunctionNode& n, const TensorList& g) {
             Tensor u = n.unpack(sx);
             return run_backward(bwd, {g[0], u}, {u.sizes()}, &prm);
           });
  return y;
}

// d[..., i, r] = ||x1[..., i, :] - x2[..., r, :]||_p (torch.cdist), p = 1 or 2, batch dims
// broadcast; dd/dx1 = sign(x1 - x2) (p = 1) or (x1 - x2) / d (p = 2, taken as 0 at d = 0)
// = -dd/dx2
Tensor cdist(const Tensor& x1, const Tensor& x2, double p) {
  static const Kernel fwd("cdist"), bwd("cdist_backward");
  ops::check_floating("cdist", x1);
  ops::check_same_dtype("cdist", {x1, x2});
  ops::check_same_device("cdist", {x1, x2});
  TUTOR_CHECK(p == 1 || p == 2, "cdist: only p = 1 and p = 2 are supported, got p = {}", p);
  TUTOR_CHECK(x1.dim() >= 2 && x2.dim() >= 2 && x1.size(-1) == x2.size(-1),
              "cdist: expected x1 [..., P, M] and x2 [..., R, M], got {} and {}",
              shape_str(x1.sizes()), shape_str(x2.sizes()));
  const Shape b1(x1.sizes().begin(), x1.sizes().end() - 2);
  const Shape b2(x2.sizes().begin(), x2.sizes().end() - 2);
  TUTOR_CHECK(shapes_broadcast(b1, b2), "cdist: the batch dims of {} and {} do not broadcast",
              shape_str(x1.sizes()), shape_str(x2.sizes()));
  const Shape batch = broadcast_shapes(b1, b2, "cdist");
  const int64_t B = shape_numel(batch), P = x1.size(-2), R = x2.size(-2), M = x1.size(-1);
  auto with = [&](Shape s, std::initializer_list<int64_t> last) {
    s.insert(s.end(), last);
    return s;
  };
  Tensor a = x1.expand(with(batch, {P, M})).reshape({B, P, M});
  Tensor b = x2.expand(with(batch, {R, M})).reshape({B, R, M});
  kernels::DimNormParams prm{0, p, 0.0};
  Tensor y = empty({B, P, R}, a.options());
  ops::dispatch(fwd, a.dtype(), {a, b}, {y}, &prm);
  if (needs_grad({a, b}))
    record("cdist", {a, b}, {y},
           [prm, sa = autograd::save(a), sb = autograd::save(b)](const FunctionNode& n,
                                                                 const TensorList& g) {
             Tensor u = n.unpack(sa), v = n.unpack(sb);
             TensorList grads = run_backward(bwd, {g[0], u, v}, {u.sizes(), v.sizes()}, &prm);
             return TensorList{grad_if(n, 0, grads[0]), grad_if(n, 1, grads[1])};
           });
  return y.view(with(batch, {P, R}));
}

void ops::add_loss_ops(std::vector<OpInfo>& ops) {
  for (const char* name :
       {"cross_entropy", "nll_loss", "kl_div", "mse_loss", "l1_loss", "smooth_l1_loss",
        "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
        "cosine_similarity", "normalize", "cdist"})
    ops.push_back({name, true, {name, std::string(name) + "_backward"}});
}

}  // namespace tutor
