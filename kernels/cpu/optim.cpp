// The optimizer updates (kernels/optim_params.h) on the CPU: one pass over each parameter, its
// gradient and its momentum buffer, instead of the seven element-wise ops (and three temporaries)
// the step is made of. The operands are dense with the same strides, so the loop walks their
// memory as flat arrays, split across the OpenMP threads; the same formula as the reference.
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/loops_common.h"
#include "kernels/cpu/threads.h"
#include "kernels/optim_params.h"
#include "kernels/registry.h"

namespace tutor::kernels::cpu {

namespace {

void sgd_update_f32(const KernelArgs& args) {
  apply_num_threads();
  const SgdParams& o = args.p<SgdParams>();
  const Tensor &g = args.in[0], &p = args.out[0];
  const Tensor buf = args.out.size() > 1 ? args.out[1] : Tensor();
  const float lr = float(o.lr), wd = float(o.weight_decay), momentum = float(o.momentum);
  const float keep = float(1 - o.dampening);
  const float* gp = g.data<float>();
  float* pp = p.data<float>();
  float* bp = buf.defined() ? buf.data<float>() : nullptr;
  const bool first = o.first, nesterov = o.nesterov, decay = o.weight_decay != 0;
  parallel_range(p.numel(), 4, [&](int64_t begin, int64_t end) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) {
      float d = decay ? gp[i] + wd * pp[i] : gp[i];
      if (bp) {
        const float m = first ? d : momentum * bp[i] + keep * d;
        bp[i] = m;
        d = nesterov ? d + momentum * m : m;
      }
      pp[i] = pp[i] - lr * d;
    }
  });
}

}  // namespace

void register_optim() { register_kernel("sgd_update", Backend::cpu, DType::f32, &sgd_update_f32); }

}  // namespace tutor::kernels::cpu
