// Adam and AdamW, as torch.optim.Adam / AdamW (PyTorch 1.13), with t the parameter's step count:
//   Adam:   g = grad + weight_decay * p        (L2 penalty folded into the gradient)
//   AdamW:  p = p * (1 - lr * weight_decay)    (decoupled decay, applied before the update)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g * g
//   v_max = max(v_max, v)                      (amsgrad only; then v_max replaces v below)
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
#pragma once

#include "engine/optim/optimizer.h"

namespace tutor::optim {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  // AdamW's default is 1e-2; AdamW(params) uses AdamWOptions()
  bool amsgrad = false;
};

struct AdamWOptions : AdamOptions {
  AdamWOptions() { weight_decay = 1e-2; }
};

// Group options: "lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad" (0 or 1).
// State per parameter: "exp_avg", "exp_avg_sq", "max_exp_avg_sq" (amsgrad) and the scalar "step".
class Adam : public Optimizer {
 public:
  Adam(std::vector<ParamGroup> groups, const AdamOptions& defaults);
  Adam(std::vector<Tensor> params, const AdamOptions& defaults);

  void step() override;

 protected:
  Adam(const char* name, bool decoupled, std::vector<ParamGroup> groups,
       const AdamOptions& defaults);
  void check_group(const ParamGroup& group, size_t index) const override;
  void check_param_state(const ParamState& state, size_t index) const override;

 private:
  bool decoupled_weight_decay_;
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<ParamGroup> groups, const AdamWOptions& defaults = {});
  AdamW(std::vector<Tensor> params, const AdamWOptions& defaults = {});
};

}  // namespace tutor::optim
