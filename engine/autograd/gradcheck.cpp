#include "engine/autograd/gradcheck.h"

#include <cmath>

#include "engine/autograd/grad_mode.h"
#include "engine/core/random.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reductions.h"

namespace tutor::autograd {

namespace {

// sum_k <r_k, out_k> in double, over floating outputs.
double weighted_sum(const TensorList& outs, const TensorList& weights) {
  double total = 0;
  for (size_t k = 0; k < outs.size(); ++k) {
    if (!weights[k].defined()) continue;
    std::vector<double> o = outs[k].to_vector<double>(), w = weights[k].to_vector<double>();
    for (size_t i = 0; i < o.size(); ++i) total += o[i] * w[i];
  }
  return total;
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& fn, const TensorList& inputs,
                          const GradcheckOptions& options) {
  for (size_t i = 0; i < inputs.size(); ++i)
    TUTOR_CHECK(!inputs[i].defined() || !inputs[i].requires_grad() ||
                    (inputs[i].dtype() == DType::f64 && inputs[i].is_leaf() &&
                     inputs[i].is_contiguous()),
                "gradcheck: input {} must be a contiguous f64 leaf", i);

  // Analytic gradients of L = sum_k <r_k, f_k>.
  TensorList outs = fn(inputs);
  Generator gen(options.seed);
  TensorList weights(outs.size()), roots, seeds;
  for (size_t k = 0; k < outs.size(); ++k) {
    if (!outs[k].defined() || !outs[k].is_floating_point() || !outs[k].requires_grad()) continue;
    weights[k] = randn(outs[k].sizes(), outs[k].options(), &gen);
    roots.push_back(outs[k]);
    seeds.push_back(weights[k]);
  }
  TensorList wrt;
  for (const Tensor& in : inputs)
    if (in.defined() && in.requires_grad()) wrt.push_back(in);
  TensorList analytic(wrt.size());
  if (!roots.empty()) analytic = grad(roots, wrt, seeds);

  GradcheckResult result;
  NoGradGuard no_grad;
  for (size_t i = 0; i < wrt.size(); ++i) {
    double* x = wrt[i].data<double>();
    std::vector<double> a = analytic[i].defined() ? analytic[i].to_vector<double>()
                                                  : std::vector<double>(size_t(wrt[i].numel()), 0.0);
    for (int64_t j = 0; j < wrt[i].numel(); ++j) {
      double saved = x[j];
      x[j] = saved + options.eps;
      double plus = weighted_sum(fn(inputs), weights);
      x[j] = saved - options.eps;
      double minus = weighted_sum(fn(inputs), weights);
      x[j] = saved;
      double numeric = (plus - minus) / (2 * options.eps);
      double err = std::fabs(a[size_t(j)] - numeric);
      result.max_abs_error = std::max(result.max_abs_error, err);
      ++result.elements_checked;
      if (!(err <= options.atol + options.rtol * std::fabs(numeric)) && result.ok) {
        result.ok = false;
        result.message = fmt::format(
            "gradcheck: input {} (shape {}) element {}: analytic {:.10g}, numeric {:.10g}, "
            "error {:.3g} > atol {} + rtol {} * |numeric|",
            i, shape_str(wrt[i].sizes()), j, a[size_t(j)], numeric, err, options.atol,
            options.rtol);
      }
    }
  }
  return result;
}

}  // namespace tutor::autograd
