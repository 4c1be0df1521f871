#include "engine/nn/dropout.h"

#include <cmath>

#include "engine/core/random.h"
#include "engine/nn/repr.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/normalization.h"

namespace tutor::nn {

namespace {

void check_probability(const char* layer, const char* name, double p) {
  TUTOR_CHECK(p >= 0 && p <= 1, "{}: {} must be in [0, 1], got {}", layer, name, p);
}

}  // namespace

Dropout::Dropout(double p_) : Module("Dropout"), p(p_) { check_probability("Dropout", "p", p); }

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p, is_training()); }

std::string Dropout::extra_repr() const { return fmt::format("p={}, inplace=False", py_float(p)); }

DropPath::DropPath(double prob, bool scale)
    : Module("DropPath"), drop_prob(prob), scale_by_keep(scale) {
  check_probability("DropPath", "drop_prob", prob);
}

Tensor DropPath::forward(const Tensor& x) {
  if (drop_prob == 0 || !is_training()) return x;
  TUTOR_CHECK(x.dim() >= 1 && x.is_floating_point(),
              "{}: expected a floating input with a batch dim, got {} of shape {}", str(),
              x.dtype(), shape_str(x.sizes()));
  const double keep = 1 - drop_prob;
  Shape mask_shape(size_t(x.dim()), 1);
  mask_shape[0] = x.size(0);
  Tensor mask = bernoulli(mask_shape, keep, x.options());
  if (keep > 0 && scale_by_keep) mask = div(mask, keep);
  return x * mask;
}

std::string DropPath::extra_repr() const {
  // Python's f"{round(p, 3):0.3f}"
  return fmt::format("drop_prob={:.3f}", std::round(drop_prob * 1000) / 1000);
}

}  // namespace tutor::nn
