#include "engine/optim/adam.h"

#include <cmath>

#include "engine/autograd/grad_mode.h"
#include "engine/ops/elementwise.h"

namespace tutor::optim {

Adam::Adam(const char* name, bool decoupled, std::vector<ParamGroup> groups,
           const AdamOptions& defaults)
    : Optimizer(name, std::move(groups),
                {{"lr", defaults.lr},
                 {"beta1", defaults.beta1},
                 {"beta2", defaults.beta2},
                 {"eps", defaults.eps},
                 {"weight_decay", defaults.weight_decay},
                 {"amsgrad", defaults.amsgrad ? 1.0 : 0.0}},
                {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}, {"step"}),
      decoupled_weight_decay_(decoupled) {
  check_groups();
}

Adam::Adam(std::vector<ParamGroup> groups, const AdamOptions& defaults)
    : Adam("Adam", false, std::move(groups), defaults) {}

Adam::Adam(std::vector<Tensor> params, const AdamOptions& defaults)
    : Adam(std::vector<ParamGroup>{ParamGroup{std::move(params), {}}}, defaults) {}

AdamW::AdamW(std::vector<ParamGroup> groups, const AdamWOptions& defaults)
    : Adam("AdamW", true, std::move(groups), defaults) {}

AdamW::AdamW(std::vector<Tensor> params, const AdamWOptions& defaults)
    : AdamW(std::vector<ParamGroup>{ParamGroup{std::move(params), {}}}, defaults) {}

void Adam::check_group(const ParamGroup& group, size_t index) const {
  const double beta1 = group.get("beta1"), beta2 = group.get("beta2"), eps = group.get("eps");
  const double amsgrad = group.get("amsgrad");
  check_option(eps >= 0, index, "eps", eps, "must be >= 0");
  check_option(beta1 >= 0 && beta1 < 1, index, "beta1", beta1, "must be in [0, 1)");
  check_option(beta2 >= 0 && beta2 < 1, index, "beta2", beta2, "must be in [0, 1)");
  check_option(amsgrad == 0 || amsgrad == 1, index, "amsgrad", amsgrad, "must be 0 or 1");
}

void Adam::check_param_state(const ParamState& state, size_t index) const {
  const bool any = !state.tensors.empty() || !state.scalars.empty();
  const bool complete = state.tensors.count("exp_avg") && state.tensors.count("exp_avg_sq") &&
                        state.scalars.count("step");
  TUTOR_CHECK(!any || complete,
              "{}.load_state_dict: the state of parameter {} needs exp_avg, exp_avg_sq and step "
              "together",
              name(), index);
}

void Adam::step() {
  NoGradGuard no_grad;
  size_t index = 0;
  for (const ParamGroup& group : param_groups()) {
    const double lr = group.lr(), weight_decay = group.weight_decay();
    const double beta1 = group.get("beta1"), beta2 = group.get("beta2"), eps = group.get("eps");
    const bool amsgrad = group.get("amsgrad") != 0;
    for (const Tensor& p : group.params) {
      ParamState& st = state(index++);
      if (!p.grad().defined()) continue;
      Tensor grad = p.grad();
      if (st.tensors.empty()) {
        st.scalars["step"] = 0;
        st.tensors["exp_avg"] = zeros_like(p);
        st.tensors["exp_avg_sq"] = zeros_like(p);
        if (amsgrad) st.tensors["max_exp_avg_sq"] = zeros_like(p);
      }
      const double step = (st.scalars["step"] += 1);
      if (decoupled_weight_decay_) {
        mul_(p, 1 - lr * weight_decay);
      } else if (weight_decay != 0) {
        grad = grad + p * weight_decay;
      }
      const Tensor& exp_avg = st.tensors.at("exp_avg");
      const Tensor& exp_avg_sq = st.tensors.at("exp_avg_sq");
      add_(mul_(exp_avg, beta1), grad * (1 - beta1));
      add_(mul_(exp_avg_sq, beta2), grad * (1 - beta2) * grad);
      const double bias_correction1 = 1 - std::pow(beta1, step);
      const double bias_correction2_sqrt = std::sqrt(1 - std::pow(beta2, step));
      Tensor second = exp_avg_sq;
      if (amsgrad) {
        auto it = st.tensors.find("max_exp_avg_sq");
        TUTOR_CHECK(it != st.tensors.end(),
                    "{}: amsgrad is on but parameter {} has exp_avg but no max_exp_avg_sq "
                    "(state from a run without amsgrad)",
                    name(), index - 1);
        it->second.copy_(maximum(it->second, exp_avg_sq));
        second = it->second;
      }
      Tensor denom = add_(sqrt(second) / bias_correction2_sqrt, eps);
      add_(p, exp_avg / denom * (-lr / bias_correction1));
    }
  }
}

}  // namespace tutor::optim
