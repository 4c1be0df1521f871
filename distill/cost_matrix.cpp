#include "distill/cost_matrix.h"

#include <cmath>
#include <vector>

#include "engine/autograd/grad_mode.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

Tensor gather_class_features(const Tensor& features, const Tensor& labels, int64_t num_classes,
                             int64_t per_class) {
  TUTOR_CHECK((features.dim() == 2 || features.dim() == 4) && is_floating(features.dtype()),
              "gather_class_features: expected floating features [S, D] or [S, D, H, W], got {} {}",
              features.dtype(), features.sizes());
  TUTOR_CHECK(
      labels.dim() == 1 && labels.size(0) == features.size(0) && num_classes > 0 && per_class > 0,
      "gather_class_features: expected labels [{}], num_classes and per_class > 0, got "
      "labels {}, {} classes, {} per class",
      features.size(0), labels.sizes(), num_classes, per_class);
  std::vector<int64_t> y = labels.to(DType::i64).to_vector<int64_t>();
  std::vector<int64_t> rows;
  for (int64_t c = 0; c < num_classes; ++c) {
    int64_t found = 0;
    for (size_t s = 0; s < y.size() && found < per_class; ++s)
      if (y[s] == c) {
        rows.push_back(int64_t(s));
        ++found;
      }
    TUTOR_CHECK(found == per_class,
                "gather_class_features: class {} has {} samples, {} asked for per class", c, found,
                per_class);
  }
  Tensor idx = from_vector(rows, {int64_t(rows.size())}, TensorOptions(DType::i64));
  Tensor picked = index_select(features, 0, idx);
  const int64_t D = features.size(1);
  if (picked.dim() == 4)  // [R, D, H, W] -> [R, H * W, D]: each position a sample
    picked = picked.flatten(2).transpose(1, 2);
  return picked.contiguous().reshape({num_classes, -1, D});
}

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
