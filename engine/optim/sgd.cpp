#include "engine/optim/sgd.h"

#include "engine/autograd/grad_mode.h"
#include "engine/ops/elementwise.h"

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

void SGD::step() {
  NoGradGuard no_grad;
  size_t index = 0;
  for (const ParamGroup& group : param_groups()) {
    const double lr = group.lr(), weight_decay = group.weight_decay();
    const double momentum = group.get("momentum"), dampening = group.get("dampening");
    const bool nesterov = group.get("nesterov") != 0;
    for (const Tensor& p : group.params) {
      ParamState& st = state(index++);
      if (!p.grad().defined()) continue;
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
