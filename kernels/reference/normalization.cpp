// Reference normalization kernels: batch_norm, layer_norm and group_norm share one forward and one
// backward routine over the [outer, channels, inner] geometry of NormParams; sums run in double.
//
// Forward, for each statistic group of M elements (biased variance, as PyTorch normalizes with):
//   mean = sum(x) / M,  var = sum((x - mean)^2) / M,  rstd = 1 / sqrt(var + eps)
//   xhat = (x - mean) * rstd,  y = xhat * weight[c] + bias[c]
// Backward, with gxhat = g * weight[c] (the standard derivation, e.g. Ioffe & Szegedy 2015, sec.
// 3):
//   statistics of the input (training):  dx = rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat *
//   xhat))
//     since d mean/dx_i = 1/M and d rstd/dx_i = -rstd^3 (x_i - mean) / M, so that
//     d xhat_j/dx_i = rstd (delta_ij - 1/M - xhat_i xhat_j / M), and dx_i = sum_j gxhat_j d
//     xhat_j/dx_i
//   fixed statistics (batch_norm eval):  dx = gxhat * rstd
//   dweight[c] = sum over the elements of channel c of g * xhat,  dbias[c] = sum of g
// Outputs: y, mean, rstd (one per statistic) forward; dx, dweight, dbias backward.
#include <cmath>
#include <vector>

#include "kernels/normalization_params.h"
#include "kernels/reference/loops.h"
#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

namespace {

// Calls f(n, c, flat index) for every element of the [outer, channels, inner] block.
template <class F>
void for_each_element(const NormParams& p, F f) {
  for (int64_t n = 0; n < p.outer; ++n)
    for (int64_t c = 0; c < p.channels; ++c)
      for (int64_t s = 0; s < p.inner; ++s) f(n, c, (n * p.channels + c) * p.inner + s);
}

// A per-channel parameter, or `fallback` where the tensor is undefined (no affine weight/bias).
inline std::vector<double> per_channel(const Tensor& t, int64_t channels, double fallback) {
  if (!t.defined()) return std::vector<double>(size_t(channels), fallback);
  return t.to_vector<double>();
}

// Mean and biased variance of each statistic group of x (two passes).
template <class T>
void input_statistics(const T* x, const NormParams& p, std::vector<double>& mean,
                      std::vector<double>& var) {
  const size_t k = size_t(p.num_stats());
  std::vector<double> sum(k, 0.0), ssd(k, 0.0);
  std::vector<int64_t> count(k, 0);
  for_each_element(p, [&](int64_t n, int64_t c, int64_t i) {
    size_t s = size_t(p.stat_index(n, c));
    sum[s] += double(x[i]);
    ++count[s];
  });
  mean.assign(k, 0.0);
  for (size_t s = 0; s < k; ++s)
    if (count[s] > 0) mean[s] = sum[s] / double(count[s]);
  for_each_element(p, [&](int64_t n, int64_t c, int64_t i) {
    size_t s = size_t(p.stat_index(n, c));
    double d = double(x[i]) - mean[s];
    ssd[s] += d * d;
  });
  var.assign(k, 0.0);
  for (size_t s = 0; s < k; ++s)
    if (count[s] > 0) var[s] = ssd[s] / double(count[s]);
}

// y = (x - mean) * rstd * weight + bias; writes y, mean and rstd to out[0..2].
template <class T>
void normalize(const T* x, const Tensor& weight, const Tensor& bias, const NormParams& p,
               const std::vector<double>& mean, const std::vector<double>& var,
               const KernelArgs& a) {
  std::vector<double> w = per_channel(weight, p.channels, 1.0);
  std::vector<double> b = per_channel(bias, p.channels, 0.0);
  std::vector<double> rstd(var.size());
  for (size_t s = 0; s < var.size(); ++s) rstd[s] = 1.0 / std::sqrt(var[s] + p.eps);
  T* y = a.out[0].data<T>();
  for_each_element(p, [&](int64_t n, int64_t c, int64_t i) {
    size_t s = size_t(p.stat_index(n, c));
    y[i] = T((double(x[i]) - mean[s]) * rstd[s] * w[size_t(c)] + b[size_t(c)]);
  });
  T* mean_out = a.out[1].data<T>();
  T* rstd_out = a.out[2].data<T>();
  for (size_t s = 0; s < mean.size(); ++s) mean_out[s] = T(mean[s]), rstd_out[s] = T(rstd[s]);
}

// in: x, weight, bias (both may be undefined); out: y, mean, rstd.
template <class T>
void norm_forward(const KernelArgs& a) {
  const auto& p = a.p<NormParams>();
  Tensor x = a.in[0].contiguous_raw();
  std::vector<double> mean, var;
  input_statistics(x.data<T>(), p, mean, var);
  normalize(x.data<T>(), a.in[1], a.in[2], p, mean, var, a);
}

// in: x, weight, bias, running_mean, running_var (any may be undefined but x);
// out: y, mean, rstd, and with 5 outputs the updated running_mean, running_var:
//   running_mean' = (1 - momentum) * running_mean + momentum * mean
//   running_var'  = (1 - momentum) * running_var  + momentum * var * M / (M - 1)   (unbiased)
template <class T>
void batch_norm_forward(const KernelArgs& a) {
  const auto& p = a.p<NormParams>();
  Tensor x = a.in[0].contiguous_raw();
  std::vector<double> mean, var;
  if (p.use_input_stats) {
    input_statistics(x.data<T>(), p, mean, var);
  } else {
    mean = a.in[3].to_vector<double>();
    var = a.in[4].to_vector<double>();
  }
  normalize(x.data<T>(), a.in[1], a.in[2], p, mean, var, a);
  if (a.out.size() < 5) return;
  std::vector<double> running_mean = a.in[3].to_vector<double>();
  std::vector<double> running_var = a.in[4].to_vector<double>();
  const double m = double(p.outer * p.inner);
  T* mean_out = a.out[3].data<T>();
  T* var_out = a.out[4].data<T>();
  for (size_t c = 0; c < mean.size(); ++c) {
    double unbiased = var[c] * m / (m - 1);
    mean_out[c] = T((1 - p.momentum) * running_mean[c] + p.momentum * mean[c]);
    var_out[c] = T((1 - p.momentum) * running_var[c] + p.momentum * unbiased);
  }
}

// in: grad_y, x, weight (may be undefined), mean, rstd; out: dx, dweight, dbias ([channels]).
template <class T>
void norm_backward(const KernelArgs& a) {
  const auto& p = a.p<NormParams>();
  Tensor gt = a.in[0].contiguous_raw(), xt = a.in[1].contiguous_raw();
  const T* g = gt.data<T>();
  const T* x = xt.data<T>();
  std::vector<double> w = per_channel(a.in[2], p.channels, 1.0);
  std::vector<double> mean = a.in[3].to_vector<double>(), rstd = a.in[4].to_vector<double>();
  auto xhat = [&](int64_t s, int64_t i) {
    return (double(x[i]) - mean[size_t(s)]) * rstd[size_t(s)];
  };

  const size_t k = mean.size();
  std::vector<double> sum_gxhat(k, 0.0), sum_gxhat_xhat(k, 0.0), count(k, 0.0);
  std::vector<double> dw(size_t(p.channels), 0.0), db(size_t(p.channels), 0.0);
  for_each_element(p, [&](int64_t n, int64_t c, int64_t i) {
    int64_t s = p.stat_index(n, c);
    double gxhat = double(g[i]) * w[size_t(c)], xh = xhat(s, i);
    sum_gxhat[size_t(s)] += gxhat;
    sum_gxhat_xhat[size_t(s)] += gxhat * xh;
    count[size_t(s)] += 1;
    dw[size_t(c)] += double(g[i]) * xh;
    db[size_t(c)] += double(g[i]);
  });
  T* dx = a.out[0].data<T>();
  for_each_element(p, [&](int64_t n, int64_t c, int64_t i) {
    size_t s = size_t(p.stat_index(n, c));
    double gxhat = double(g[i]) * w[size_t(c)];
    if (p.use_input_stats)
      dx[i] = T(rstd[s] * (gxhat - sum_gxhat[s] / count[s] -
                           xhat(int64_t(s), i) * sum_gxhat_xhat[s] / count[s]));
    else
      dx[i] = T(gxhat * rstd[s]);
  });
  T* dw_out = a.out[1].data<T>();
  T* db_out = a.out[2].data<T>();
  for (size_t c = 0; c < dw.size(); ++c) dw_out[c] = T(dw[c]), db_out[c] = T(db[c]);
}

}  // namespace

void register_normalization() {
  TUTOR_REGISTER_FLOATING("batch_norm", batch_norm_forward);
  TUTOR_REGISTER_FLOATING("layer_norm", norm_forward);
  TUTOR_REGISTER_FLOATING("group_norm", norm_forward);
  TUTOR_REGISTER_FLOATING("batch_norm_backward", norm_backward);
  TUTOR_REGISTER_FLOATING("layer_norm_backward", norm_backward);
  TUTOR_REGISTER_FLOATING("group_norm_backward", norm_backward);
}

}  // namespace tutor::kernels::reference
