// "batch_norm_relu" and "batch_norm_relu_backward" (engine/ops/normalization.h), f32, on oneDNN's
// batch normalization, with the contract of the reference kernels (kernels/reference/fused.cpp):
// forward in x, weight, bias, running_mean, running_var; out y, mean, rstd and with 5 outputs the
// updated running statistics; backward in g, x, weight, mean, rstd, y; out dx, dweight, dbias.
//
// The forward is one primitive with the fuse_norm_relu flag: y = relu(BN(x)) written once. Its
// training workspace (where ReLU passed) is scratch here: the backward masks g by y > 0 itself
// (one pass, the one an unfused relu's backward makes) and runs the plain backward primitive, so
// the op's contract stays backend-neutral and the forward's output is all it saves. Measured
// (channels-last [128, 16, 28, 28], 1 thread, loaded machine): forward 0.75 ms against 2.2 ms for
// the OpenMP batch_norm (norm_pool_normalization.cpp) + relu, backward 3.4 against 4.3 ms.
//
// Not used by the models: oneDNN accumulates the statistics and the backward's sums in float,
// where the OpenMP kernels use double. Both pass the kernel bound against the reference on every
// shape tested (tests/kernels/test_cpu_fused.cpp), and a resnet8 training step from the same
// weights matches the unfused one to a normalized MSE of 1e-11; but in the ill-conditioned second
// step of tests/kernels/test_cpu_channels_last.cpp (batch 6, lr 0.1) the channels-last and NCHW
// runs then differ by up to 5e-5 (the unfused kernels agree there to 1e-7), and the step time of
// resnet8_train moved by less than this machine's noise.
//
// oneDNN works in f32 with float accumulation and gives the biased variance; rstd and the running
// statistics are derived from it with the reference's formulas. Activations are nhwc when the op
// allocated its output channels-last (the kernels are marked so), else NCHW seen as
// [N, C, prod(spatial), 1].
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/channels_last.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/loops_common.h"
#include "kernels/cpu/onednn.h"
#include "kernels/normalization_params.h"

namespace tutor::kernels::cpu {

namespace {

using onednn::memory;

memory::desc data_desc(const Tensor& t, const NormParams& p, bool nhwc) {
  if (nhwc)
    return memory::desc({t.size(0), t.size(1), t.size(2), t.size(3)}, memory::data_type::f32,
                        memory::format_tag::nhwc);
  return memory::desc({p.outer, p.channels, p.inner, 1}, memory::data_type::f32,
                      memory::format_tag::nchw);
}

// The activation in the call's layout, dense.
Tensor dense(const Tensor& t, bool nhwc) { return nhwc ? nhwc_input(t) : t.contiguous_raw(); }

// weight or bias as a dense [C] f32 tensor; `fallback` everywhere when undefined.
Tensor per_channel(const Tensor& t, int64_t channels, double fallback) {
  if (t.defined()) return t.contiguous_raw();
  Tensor out = empty({channels}, DType::f32);
  out.fill_raw_(fallback);
  return out;
}

dnnl::normalization_flags flags(const NormParams& p, bool fuse_relu) {
  using F = dnnl::normalization_flags;
  F f = F::use_scale | F::use_shift;
  if (!p.use_input_stats) f = f | F::use_global_stats;
  if (fuse_relu) f = f | F::fuse_norm_relu;
  return f;
}

onednn::Key key(const char* op, const Tensor& x, const NormParams& p, bool nhwc) {
  int64_t eps_bits = 0;
  static_assert(sizeof(eps_bits) == sizeof(p.eps));
  std::memcpy(&eps_bits, &p.eps, sizeof(eps_bits));
  return onednn::Key(op).add(x.sizes()).add(nhwc).add(p.use_input_stats).add(eps_bits);
}

dnnl::batch_normalization_forward::primitive_desc forward_pd(const memory::desc& d,
                                                             const NormParams& p, bool fuse_relu) {
  using dnnl::batch_normalization_forward;
  const auto prop =
      p.use_input_stats ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  return batch_normalization_forward::primitive_desc(
      batch_normalization_forward::desc(prop, d, float(p.eps), flags(p, fuse_relu)),
      onednn::engine());
}

void batch_norm_relu_kernel(const KernelArgs& a) {
  const auto& p = a.p<NormParams>();
  const Tensor& y = a.out[0];
  const bool nhwc = nhwc_output(y);
  const Tensor x = dense(a.in[0], nhwc);
  const memory::desc d = data_desc(x, p, nhwc);
  const onednn::Key k = key("batch_norm_relu", x, p, nhwc);
  onednn::Primitive prim = onednn::cached(k, [&] { return forward_pd(d, p, true); });
  TUTOR_CHECK(prim.prim, "batch_norm_relu: oneDNN has no kernel for input {}",
              shape_str(x.sizes()));
  const Tensor scale = per_channel(a.in[1], p.channels, 1.0);
  const Tensor shift = per_channel(a.in[2], p.channels, 0.0);
  // Training writes the batch mean straight into out[1] and the variance into `var`; evaluation
  // reads the running ones.
  Tensor mean = a.out[1], var = empty({p.channels}, DType::f32);
  if (!p.use_input_stats) mean = a.in[3].contiguous_raw(), var = a.in[4].contiguous_raw();
  const memory::desc cd = onednn::plain_desc(var);
  Tensor workspace;
  onednn::Exec exec(prim, k);
  exec.input(DNNL_ARG_SRC, x, d, d);
  exec.input(DNNL_ARG_SCALE, scale, cd, cd);
  exec.input(DNNL_ARG_SHIFT, shift, cd, cd);
  if (p.use_input_stats) {
    exec.output(DNNL_ARG_MEAN, mean, cd, cd);
    exec.output(DNNL_ARG_VARIANCE, var, cd, cd);
    const memory::desc wd = prim.pd.workspace_desc();
    workspace = empty({int64_t(wd.get_size() + 3) / 4}, DType::f32);
    exec.output(DNNL_ARG_WORKSPACE, workspace, wd, wd);
  } else {
    exec.input(DNNL_ARG_MEAN, mean, cd, cd);
    exec.input(DNNL_ARG_VARIANCE, var, cd, cd);
  }
  exec.output(DNNL_ARG_DST, y, d, d);
  exec.run();

  const std::vector<double> m = mean.to_vector<double>(), v = var.to_vector<double>();
  float* mean_out = f32_ptr(a.out[1]);
  float* rstd_out = f32_ptr(a.out[2]);
  for (int64_t c = 0; c < p.channels; ++c) {
    mean_out[c] = float(m[size_t(c)]);
    rstd_out[c] = float(1.0 / std::sqrt(v[size_t(c)] + p.eps));
  }
  if (a.out.size() < 5) return;
  // The reference's update: running = (1 - momentum) running + momentum stat, unbiased variance.
  const std::vector<double> running_mean = a.in[3].to_vector<double>();
  const std::vector<double> running_var = a.in[4].to_vector<double>();
  const double count = double(p.outer * p.inner);
  float* mean_run = f32_ptr(a.out[3]);
  float* var_run = f32_ptr(a.out[4]);
  for (size_t c = 0; c < m.size(); ++c) {
    mean_run[c] = float((1 - p.momentum) * running_mean[c] + p.momentum * m[c]);
    var_run[c] = float((1 - p.momentum) * running_var[c] + p.momentum * v[c] * count / (count - 1));
  }
}

void batch_norm_relu_backward_kernel(const KernelArgs& a) {
  const auto& p = a.p<NormParams>();
  const Tensor& dx = a.out[0];
  const bool nhwc = nhwc_output(dx);
  const Tensor g = dense(a.in[0], nhwc), x = dense(a.in[1], nhwc), y = dense(a.in[5], nhwc);
  // relu's backward: g where y > 0, else 0.
  Tensor masked =
      empty(g.sizes(), DType::f32, nhwc ? MemoryFormat::ChannelsLast : MemoryFormat::Contiguous);
  const float* gp = f32_ptr(g);
  const float* yp = f32_ptr(y);
  float* mp = f32_ptr(masked);
  // g loaded unconditionally, so the select vectorizes: with `y > 0 ? g : 0` the compiler may not
  // load g where y <= 0 and branched on every element (8 ms for [128, 16, 28, 28], half of them
  // mispredicted, against 0.5 ms).
  parallel_range(g.numel(), 1, [gp, yp, mp](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
      const float gi = gp[i];
      mp[i] = yp[i] > 0.f ? gi : 0.f;
    }
  });

  // oneDNN takes the variance: var = 1 / rstd^2 - eps, which gives back rstd to float rounding.
  const std::vector<double> rstd = a.in[4].to_vector<double>();
  Tensor var = empty({p.channels}, DType::f32);
  float* vp = f32_ptr(var);
  for (int64_t c = 0; c < p.channels; ++c)
    vp[c] = float(1.0 / (rstd[size_t(c)] * rstd[size_t(c)]) - p.eps);
  const Tensor mean = a.in[3].contiguous_raw();
  const Tensor scale = per_channel(a.in[2], p.channels, 1.0);
  const Tensor shift = per_channel(Tensor(), p.channels, 0.0);  // read by the primitive, unused

  const memory::desc d = data_desc(x, p, nhwc);
  const onednn::Key k = key("batch_norm_relu_backward", x, p, nhwc);
  onednn::Primitive prim = onednn::cached(k, [&] {
    using dnnl::batch_normalization_backward;
    return batch_normalization_backward::primitive_desc(
        batch_normalization_backward::desc(dnnl::prop_kind::backward, d, d, float(p.eps),
                                           flags(p, false)),
        onednn::engine(), forward_pd(d, p, false));
  });
  TUTOR_CHECK(prim.prim, "batch_norm_relu_backward: oneDNN has no kernel for input {}",
              shape_str(x.sizes()));
  const memory::desc cd = onednn::plain_desc(var);
  onednn::Exec exec(prim, k);
  exec.input(DNNL_ARG_SRC, x, d, d);
  exec.input(DNNL_ARG_DIFF_DST, masked, d, d);
  exec.input(DNNL_ARG_MEAN, mean, cd, cd);
  exec.input(DNNL_ARG_VARIANCE, var, cd, cd);
  exec.input(DNNL_ARG_SCALE, scale, cd, cd);
  exec.input(DNNL_ARG_SHIFT, shift, cd, cd);
  exec.output(DNNL_ARG_DIFF_SRC, dx, d, d);
  exec.output(DNNL_ARG_DIFF_SCALE, a.out[1], cd, cd);
  exec.output(DNNL_ARG_DIFF_SHIFT, a.out[2], cd, cd);
  exec.run();
}

}  // namespace

void register_norm_relu() {
  register_kernel("batch_norm_relu", Backend::cpu, DType::f32, batch_norm_relu_kernel);
  register_kernel("batch_norm_relu_backward", Backend::cpu, DType::f32,
                  batch_norm_relu_backward_kernel);
  for (const char* name : {"batch_norm_relu", "batch_norm_relu_backward"})
    set_channels_last(name, Backend::cpu, DType::f32);
}

}  // namespace tutor::kernels::cpu
