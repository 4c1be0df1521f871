#include "engine/nn/linear.h"

#include <cmath>

#include "engine/nn/init.h"
#include "engine/nn/repr.h"
#include "engine/ops/linalg.h"

namespace tutor::nn {

Linear::Linear(int64_t in, int64_t out, bool with_bias) : Linear("Linear", in, out, with_bias) {}

Linear::Linear(std::string type_name, int64_t in, int64_t out, bool with_bias)
    : Module(std::move(type_name)), in_features(in), out_features(out) {
  TUTOR_CHECK(in >= 0 && out >= 0, "{}: in_features ({}) and out_features ({}) must be >= 0",
              this->type_name(), in, out);
  weight = register_parameter("weight", empty({out, in}));
  bias = register_parameter("bias", with_bias ? empty({out}) : Tensor());
  reset_parameters();
}

void Linear::reset_parameters() {
  if (weight.numel() > 0) init::kaiming_uniform_(weight, std::sqrt(5.0));  // empty: a no-op
  if (bias.defined()) init_bias_from_fan_in(bias, weight);
}

void init_bias_from_fan_in(const Tensor& bias, const Tensor& weight) {
  int64_t fan_in = init::calculate_fan_in_and_fan_out(weight).first;
  if (fan_in == 0) return;
  double bound = 1 / std::sqrt(double(fan_in));
  init::uniform_(bias, -bound, bound);
}

Tensor Linear::forward(const Tensor& x) {
  TUTOR_CHECK(x.dim() >= 1 && x.size(-1) == in_features,
              "{}: input of shape {} should have last dim in_features = {}", str(),
              shape_str(x.sizes()), in_features);
  return linear(x, weight, bias);
}

std::string Linear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", in_features, out_features,
                     py_bool(bias.defined()));
}

}  // namespace tutor::nn
