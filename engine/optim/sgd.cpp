#include "engine/optim/sgd.h"

#include "engine/autograd/grad_mode.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/optim_update.h"

namespace tutor::optim {

SGD::SGD(std::vector<ParamGroup> groups, const SGDOptions& defaults)
    : Optimizer("SGD", std::move(groups),
                {{"lr", defaults.lr},
                 {"momentum", defaults.momentum},
                 {"dampening", defaults.dampening},
                 {"weight_decay", defaults.weight_decay},
                 {"nesterov", defaults.nesterov ? 1.0 : 0.0}},
                {"momentum_buffer"}) {
  check_groups();
}

SGD::SGD(std::vector<Tensor> params, const SGDOptions& defaults)
    : SGD(std::vector<ParamGroup>{ParamGroup{std::move(params), {}}}, defaults) {}

void SGD::check_group(const ParamGroup& group, size_t index) const {
  const double momentum = group.get("momentum"), dampening = group.get("dampening");
  const double nesterov = group.get("nesterov");
  check_option(momentum >= 0, index, "momentum", momentum, "must be >= 0");
  check_option(nesterov == 0 || nesterov == 1, index, "nesterov", nesterov, "must be 0 or 1");
  check_option(nesterov == 0 || (momentum > 0 && dampening == 0), index, "nesterov", nesterov,
               "Nesterov momentum requires a momentum > 0 and zero dampening");
}

// One sgd_update_ kernel per parameter where the parameter is dense and its buffer (if any) is
// laid out like it (always, unless a loaded state dict brought another layout); else the same
// formula through element-wise ops.
static bool fusable(const Tensor& p, const Tensor* buffer) {
  const Tensor& g = p.grad();
  return non_overlapping_and_dense(p.sizes(), p.strides()) && g.sizes() == p.sizes() &&
         g.dtype() == p.dtype() && g.device() == p.device() &&
         (!buffer || (buffer->sizes() == p.sizes() && buffer->strides() == p.strides() &&
                      buffer->dtype() == p.dtype() && buffer->device() == p.device()));
}

void SGD::step() {
  NoGradGuard no_grad;
  size_t index = 0;
  for (const ParamGroup& group : param_groups()) {
    const double lr = group.lr(), weight_decay = group.weight_decay();
    const double momentum = group.get("momentum"), dampening = group.get("dampening");
    const bool nesterov = group.get("nesterov") != 0;
    const SgdUpdate update{lr, momentum, dampening, weight_decay, nesterov};
    for (const Tensor& p : group.params) {
      ParamState& st = state(index++);
      if (!p.grad().defined()) continue;
      auto found = st.tensors.find("momentum_buffer");
      const Tensor* buffer = momentum != 0 && found != st.tensors.end() ? &found->second : nullptr;
      if (fusable(p, buffer)) {
        Tensor b = buffer ? *buffer : Tensor();  // a handle: the kernel updates the buffer itself
        sgd_update_(p, p.grad(), b, update);
        if (momentum != 0 && !buffer) st.tensors.emplace("momentum_buffer", b);
        continue;
      }
      Tensor d_p = p.grad();
      if (weight_decay != 0) d_p = d_p + p * weight_decay;
      if (momentum != 0) {
        auto it = st.tensors.find("momentum_buffer");
        if (it == st.tensors.end()) {
          it = st.tensors.emplace("momentum_buffer", d_p.clone()).first;
        } else {
          mul_(it->second, momentum);
          add_(it->second, d_p * (1 - dampening));
        }
        d_p = nesterov ? d_p + it->second * momentum : it->second;
      }
      add_(p, d_p * -lr);
    }
  }
}

}  // namespace tutor::optim
