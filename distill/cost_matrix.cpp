#include "distill/cost_matrix.h"

#include <cmath>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

Tensor cka_cost_matrix(const Tensor& class_features, double sharpen) {
  TUTOR_CHECK(class_features.dim() == 3 && is_floating(class_features.dtype()),
              "cka_cost_matrix: expected floating class features [C, N, D], got {} {}",
              class_features.dtype(), class_features.sizes());
  TUTOR_CHECK(class_features.size(1) >= 1 && class_features.size(2) >= 1,
              "cka_cost_matrix: need at least one sample and one feature per class, got {}",
              class_features.sizes());
  NoGradGuard no_grad;
  const int64_t C = class_features.size(0);
  const size_t n = static_cast<size_t>(C);
  Tensor X = class_features - class_features.mean({1}, /*keepdim=*/true);
  std::vector<Tensor> xs;
  std::vector<double> self_norm;
  for (int64_t i = 0; i < C; ++i) {
    xs.push_back(X.select(0, i));
    self_norm.push_back(norm(matmul(xs.back().t(), xs.back())).item());
  }
  std::vector<double> m(n * n);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i; j < n; ++j) {
      const double hsic = square(matmul(xs[j].t(), xs[i])).sum().item();
      double d = 1 - hsic / (self_norm[i] * self_norm[j]);
      if (sharpen != 0) d = 1 - std::exp(-sharpen * d);
      m[i * n + j] = m[j * n + i] = d;
    }
  return from_vector(m, {C, C}, TensorOptions(DType::f64)).to(class_features.dtype());
}

}  // namespace tutor::distill
