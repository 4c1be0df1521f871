#include "engine/ops/normalization.h"

#include "engine/autograd/grad_mode.h"
#include "engine/autograd/node.h"
#include "engine/core/random.h"
#include "engine/ops/catalog.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/elementwise.h"
#include "kernels/normalization_params.h"

namespace tutor {

using autograd::FunctionNode;
using kernels::NormParams;
using ops::Kernel;

namespace {

int64_t product(const Shape& s, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t i = from; i < to; ++i) n *= s[i];
  return n;
}

// Argument checks every norm shares: floating input, one dtype and device for all tensors.
void check_tensors(const char* op, std::initializer_list<Tensor> tensors) {
  const Tensor& input = *tensors.begin();
  ops::check_floating(op, input);
  ops::check_same_dtype(op, tensors);
  ops::check_same_device(op, tensors);
}

// An optional per-channel tensor must have exactly `expected` shape.
void check_param_shape(const char* op, const char* what, const Tensor& t, const Shape& expected,
                       const Tensor& input) {
  if (!t.defined()) return;
  TUTOR_CHECK(t.sizes() == expected,
              "{}: {} of shape {} should have shape {} for input of shape {}", op, what,
              shape_str(t.sizes()), shape_str(expected), shape_str(input.sizes()));
}

struct NormOutputs {
  Tensor y, mean, rstd;
};

// batch_norm's backward (dx, dweight, dbias) = B(g) through its kernel. B is linear in g, and
// per channel dx = w rstd P g with P = I - 1 1^T / M - xhat xhat^T / M (training; P = I in
// evaluation), a symmetric map, so B's adjoint is known without differentiating the kernel:
//   g gets  B_dx(h_dx) + h_dweight xhat + h_dbias.
// That makes batch_norm differentiable twice along the incoming gradient (the hypergradient of
// distill/bilevel.h needs exactly that); a second derivative in x or the weight is refused when
// it is asked for.
TensorList batch_norm_backward(const Kernel& backward, const NormParams& p, const Tensor& g,
                               const Tensor& x, const Tensor& w, const Tensor& mean,
                               const Tensor& rstd) {
  TensorList d{empty(x.sizes(), x.options(), ops::output_format(backward, x)),
               empty({p.channels}, x.options()), empty({p.channels}, x.options())};
  const TensorList in{g, x, w, mean, rstd};
  ops::dispatch(backward, x.dtype(), std::span<const Tensor>(in), std::span<Tensor>(d), &p);
  if (!autograd::needs_grad({g, x, w})) return d;
  autograd::record(
      "batch_norm_backward", {g, x, w}, d,
      [&backward, p, sx = autograd::save(x), sw = autograd::save(w), mean, rstd](
          const FunctionNode& n, const TensorList& h) -> TensorList {
        Tensor x_ = n.unpack(sx), w_ = n.unpack(sw);
        TUTOR_CHECK(!n.needs_input_grad(1) && !n.needs_input_grad(2),
                    "batch_norm: double backward in the input or weight (input shape {}) is not "
                    "implemented; only in the incoming gradient",
                    shape_str(x_.sizes()));
        if (!n.needs_input_grad(0)) return {Tensor(), Tensor(), Tensor()};
        Shape channel_shape(size_t(x_.dim()), 1);
        channel_shape[1] = p.channels;
        Tensor xhat = mul(sub(x_.detach(), mean.view(channel_shape)), rstd.view(channel_shape));
        Tensor dg = batch_norm_backward(backward, p, h[0], x_, w_, mean, rstd)[0];
        dg = add(add(dg, mul(h[1].view(channel_shape), xhat)), h[2].view(channel_shape));
        return {dg, Tensor(), Tensor()};
      });
  return d;
}

// Runs a norm's forward kernel, which writes y, mean and rstd (and any further `extra_out`), and
// records the backward through its dedicated kernel `backward`, which returns dx and the
// per-channel dweight, dbias (reshaped to the weight's shape). Only batch_norm's backward is
// itself differentiable, and only in the incoming gradient (batch_norm_backward).
NormOutputs run_norm(const char* op, const Kernel& forward, const Kernel& backward, const Tensor& x,
                     const Tensor& weight, const Tensor& bias, const NormParams& p,
                     std::vector<Tensor> extra_in = {}, std::vector<Tensor> extra_out = {}) {
  NormOutputs r{empty(x.sizes(), x.options(), ops::output_format(forward, x)),
                empty({p.num_stats()}, x.options()), empty({p.num_stats()}, x.options())};
  std::vector<Tensor> in = {x, weight, bias}, out = {r.y, r.mean, r.rstd};
  in.insert(in.end(), extra_in.begin(), extra_in.end());
  out.insert(out.end(), extra_out.begin(), extra_out.end());
  ops::dispatch(forward, x.dtype(), in, out, &p);
  if (!autograd::needs_grad({x, weight, bias})) return r;
  Shape affine_shape = weight.defined() ? weight.sizes() : bias.defined() ? bias.sizes() : Shape{};
  const bool is_batch_norm = std::string_view(op) == "batch_norm";
  autograd::record(
      op, {x, weight, bias}, {r.y},
      [op, &backward, p, affine_shape, is_batch_norm, sx = autograd::save(x),
       sw = autograd::save(weight), smean = autograd::save(r.mean),
       srstd = autograd::save(r.rstd)](const FunctionNode& n, const TensorList& g) {
        Tensor x_ = n.unpack(sx), w_ = n.unpack(sw);
        TensorList d;
        if (is_batch_norm) {
          d = batch_norm_backward(backward, p, g[0], x_, w_, n.unpack(smean), n.unpack(srstd));
        } else {
          TUTOR_CHECK(!autograd::needs_grad({g[0], x_, w_}),
                      "{}: double backward (create_graph through {} of input shape {}) is not "
                      "implemented",
                      op, op, shape_str(x_.sizes()));
          d = {empty(x_.sizes(), x_.options(), ops::output_format(backward, x_)),
               empty({p.channels}, x_.options()), empty({p.channels}, x_.options())};
          const TensorList args{g[0], x_, w_, n.unpack(smean), n.unpack(srstd)};
          ops::dispatch(backward, x_.dtype(), std::span<const Tensor>(args), std::span<Tensor>(d),
                        &p);
        }
        return TensorList{n.needs_input_grad(0) ? d[0] : Tensor(),
                          n.needs_input_grad(1) ? d[1].view(affine_shape) : Tensor(),
                          n.needs_input_grad(2) ? d[2].view(affine_shape) : Tensor()};
      });
  return r;
}

}  // namespace

namespace {

// The backward of y = relu(batch_norm(x)): batch_norm's backward of g masked by y > 0 (relu's
// derivative, PyTorch's threshold_backward at 0). One kernel without grad mode; under create_graph
// the composition, which is differentiable along g as batch_norm_backward is.
TensorList batch_norm_relu_backward(const NormParams& p, const Tensor& g, const Tensor& x,
                                    const Tensor& w, const Tensor& y, const Tensor& mean,
                                    const Tensor& rstd) {
  static const Kernel fused("batch_norm_relu_backward"), plain("batch_norm_backward");
  if (autograd::needs_grad({g, x, w}))
    return batch_norm_backward(plain, p, mul(g, gt(y.detach(), 0.0).to(g.dtype())), x, w, mean,
                               rstd);
  TensorList d{empty(x.sizes(), x.options(), ops::output_format(fused, x)),
               empty({p.channels}, x.options()), empty({p.channels}, x.options())};
  const TensorList in{g, x, w, mean, rstd, y};
  ops::dispatch(fused, x.dtype(), std::span<const Tensor>(in), std::span<Tensor>(d), &p);
  return d;
}

// batch_norm, and with `relu` batch_norm_relu: the same checks, statistics and running-statistic
// update; the fused op runs its own kernels and records batch_norm_relu_backward.
Tensor batch_norm_op(const char* op, bool relu, const Tensor& input, const Tensor& running_mean,
                     const Tensor& running_var, const Tensor& weight, const Tensor& bias,
                     bool training, double momentum, double eps) {
  static const Kernel forward("batch_norm"), backward("batch_norm_backward");
  static const Kernel relu_forward("batch_norm_relu");
  check_tensors(op, {input, running_mean, running_var, weight, bias});
  TUTOR_CHECK(input.dim() >= 2, "{}: expected input of shape [N, C, *], got shape {}", op,
              shape_str(input.sizes()));
  const int64_t channels = input.size(1);
  check_param_shape(op, "weight", weight, {channels}, input);
  check_param_shape(op, "bias", bias, {channels}, input);
  check_param_shape(op, "running_mean", running_mean, {channels}, input);
  check_param_shape(op, "running_var", running_var, {channels}, input);
  TUTOR_CHECK(running_mean.defined() == running_var.defined(),
              "{}: running_mean and running_var must be given together (input shape {})", op,
              shape_str(input.sizes()));
  TUTOR_CHECK(training || running_mean.defined(),
              "{}: evaluation (training=false) needs running_mean and running_var (input "
              "shape {})",
              op, shape_str(input.sizes()));
  NormParams p{.outer = input.size(0),
               .channels = channels,
               .inner = product(input.sizes(), 2, input.sizes().size()),
               .groups = channels,
               .shared_over_outer = true,
               .eps = eps,
               .use_input_stats = training,
               .momentum = momentum};
  TUTOR_CHECK(!training || p.outer * p.inner != 1,
              "{}: expected more than 1 value per channel when training, got input of "
              "shape {}",
              op, shape_str(input.sizes()));

  // The fused kernels serve f32 and f64 (a bf16 BN runs through f32 loops on the CPU) and non-empty
  // inputs; the rest, and calls under ops::UnfusedGuard, take the composition.
  if (relu && (input.dtype() == DType::bf16 || input.numel() == 0 || ops::UnfusedGuard::active()))
    return batch_norm_op("batch_norm", false, input, running_mean, running_var, weight, bias,
                         training, momentum, eps)
        .relu();

  const bool update = training && running_mean.defined() && input.numel() > 0;
  std::vector<Tensor> new_running;
  if (update)
    new_running = {empty({channels}, input.options()), empty({channels}, input.options())};
  Tensor y;
  if (!relu) {
    y = run_norm("batch_norm", forward, backward, input, weight, bias, p,
                 {running_mean, running_var}, new_running)
            .y;
  } else {
    NormOutputs r{empty(input.sizes(), input.options(), ops::output_format(relu_forward, input)),
                  empty({channels}, input.options()), empty({channels}, input.options())};
    std::vector<Tensor> in = {input, weight, bias, running_mean, running_var},
                        out = {r.y, r.mean, r.rstd};
    out.insert(out.end(), new_running.begin(), new_running.end());
    ops::dispatch(relu_forward, input.dtype(), in, out, &p);
    y = r.y;
    if (autograd::needs_grad({input, weight, bias})) {
      const Shape affine_shape = weight.defined() ? weight.sizes() : Shape{channels};
      autograd::record("batch_norm_relu", {input, weight, bias}, {y},
                       [p, affine_shape, sx = autograd::save(input), sw = autograd::save(weight),
                        sy = autograd::save_output(y), mean = r.mean,
                        rstd = r.rstd](const FunctionNode& n, const TensorList& g) {
                         const TensorList d = batch_norm_relu_backward(
                             p, g[0], n.unpack(sx), n.unpack(sw), n.unpack(sy), mean, rstd);
                         return TensorList{
                             n.needs_input_grad(0) ? d[0] : Tensor(),
                             n.needs_input_grad(1) ? d[1].view(affine_shape) : Tensor(),
                             n.needs_input_grad(2) ? d[2].view(affine_shape) : Tensor()};
                       });
    }
  }
  if (update) {
    NoGradGuard no_grad;
    running_mean.copy_(new_running[0]);
    running_var.copy_(new_running[1]);
  }
  return y;
}

}  // namespace

// y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias per channel (torch.nn.BatchNorm docs), with
// batch statistics over N and the spatial dims (biased variance) in training, and
//   running = (1 - momentum) * running + momentum * batch_stat (unbiased variance for running_var);
// the running statistics in evaluation. Gradients: kernels/reference/normalization.cpp.
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  return batch_norm_op("batch_norm", false, input, running_mean, running_var, weight, bias,
                       training, momentum, eps);
}

// relu(batch_norm(...)); its gradient is batch_norm's of the incoming gradient masked by y > 0.
Tensor batch_norm_relu(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                       const Tensor& weight, const Tensor& bias, bool training, double momentum,
                       double eps) {
  return batch_norm_op("batch_norm_relu", true, input, running_mean, running_var, weight, bias,
                       training, momentum, eps);
}

// y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, statistics (biased variance) over the last
// normalized_shape.size() dims (torch.nn.LayerNorm docs). Gradients:
// kernels/reference/normalization.cpp.
Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  static const Kernel forward("layer_norm"), backward("layer_norm_backward");
  check_tensors("layer_norm", {input, weight, bias});
  const size_t k = normalized_shape.size(), nd = input.sizes().size();
  bool matches = k >= 1 && k <= nd &&
                 Shape(input.sizes().end() - int64_t(k), input.sizes().end()) == normalized_shape;
  TUTOR_CHECK(matches,
              "layer_norm: normalized_shape {} should be the (non-empty) trailing dims of input of "
              "shape {}",
              shape_str(normalized_shape), shape_str(input.sizes()));
  check_param_shape("layer_norm", "weight", weight, normalized_shape, input);
  check_param_shape("layer_norm", "bias", bias, normalized_shape, input);
  NormParams p{.outer = product(input.sizes(), 0, nd - k),
               .channels = shape_numel(normalized_shape),
               .inner = 1,
               .groups = 1,
               .eps = eps};
  return run_norm("layer_norm", forward, backward, input, weight, bias, p).y;
}

// y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, statistics (biased variance) per sample over
// each group of C / num_groups channels and the spatial dims (torch.nn.GroupNorm docs; Wu & He
// 2018). Gradients: kernels/reference/normalization.cpp.
Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight, const Tensor& bias,
                  double eps) {
  static const Kernel forward("group_norm"), backward("group_norm_backward");
  check_tensors("group_norm", {input, weight, bias});
  TUTOR_CHECK(input.dim() >= 2, "group_norm: expected input of shape [N, C, *], got shape {}",
              shape_str(input.sizes()));
  const int64_t channels = input.size(1);
  TUTOR_CHECK(num_groups > 0 && channels % num_groups == 0,
              "group_norm: num_groups {} must divide the {} channels of input of shape {}",
              num_groups, channels, shape_str(input.sizes()));
  check_param_shape("group_norm", "weight", weight, {channels}, input);
  check_param_shape("group_norm", "bias", bias, {channels}, input);
  NormParams p{.outer = input.size(0),
               .channels = channels,
               .inner = product(input.sizes(), 2, input.sizes().size()),
               .groups = num_groups,
               .eps = eps};
  return run_norm("group_norm", forward, backward, input, weight, bias, p).y;
}

// y = x * m / (1 - p) with m_i ~ Bernoulli(1 - p) in training (Srivastava et al. 2014, PyTorch's
// inverted dropout), y = x otherwise; dy/dx = m / (1 - p), the same mask (through mul).
Tensor dropout(const Tensor& input, double p, bool training, Generator* gen) {
  TUTOR_CHECK(p >= 0 && p <= 1, "dropout: probability p = {} is outside [0, 1] (input shape {})", p,
              shape_str(input.sizes()));
  ops::check_floating("dropout", input);
  if (!training || p == 0) return input;
  Tensor mask = bernoulli(input.sizes(), 1 - p, input.options(), gen);
  if (p < 1) mask = mul(mask, 1 / (1 - p));
  return mul(input, mask);
}

void ops::add_normalization_ops(std::vector<OpInfo>& ops) {
  for (const char* name : {"batch_norm", "layer_norm", "group_norm"})
    ops.push_back({name, true, {name, std::string(name) + "_backward"}});
  ops.push_back({"batch_norm_relu", true, {"batch_norm_relu", "batch_norm_relu_backward"}});
  ops.push_back({"dropout", true, {}});
}

}  // namespace tutor
