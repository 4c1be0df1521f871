#include "engine/data/mixing.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/core/random.h"
#include "engine/data/sampling.h"

namespace tutor::data {

Tensor soft_targets(const Tensor& labels, int64_t num_classes, const char* op) {
  TUTOR_CHECK(num_classes > 0, "{}: num_classes must be positive, got {}", op, num_classes);
  TUTOR_CHECK(labels.defined(), "{}: labels are undefined", op);
  if (labels.dtype() == DType::f32) {
    TUTOR_CHECK(labels.dim() == 2 && labels.size(1) == num_classes,
                "{}: soft targets must be [B, {}], got {}", op, num_classes, labels.sizes());
    return labels.contiguous_raw();
  }
  TUTOR_CHECK(labels.dtype() == DType::i64 && labels.dim() == 1,
              "{}: labels must be i64 [B] or f32 [B, {}], got {} {}", op, num_classes,
              labels.dtype(), labels.sizes());
  std::vector<int64_t> y = labels.to_vector<int64_t>();
  Tensor out = zeros({int64_t(y.size()), num_classes});
  float* o = out.data<float>();
  for (size_t i = 0; i < y.size(); ++i) {
    TUTOR_CHECK(y[i] >= 0 && y[i] < num_classes, "{}: label {} of sample {} is outside [0, {})", op,
                y[i], i, num_classes);
    o[int64_t(i) * num_classes + y[i]] = 1.0f;
  }
  return out;
}

static void check_batch(const Tensor& x, const Tensor& t, double alpha, const char* op) {
  TUTOR_CHECK(alpha > 0, "{}: alpha must be positive, got {}", op, alpha);
  TUTOR_CHECK(t.size(0) == x.size(0), "{}: {} images but {} labels", op, x.size(0), t.size(0));
}

// out[i] = lambda_i a[p[i]] + (1 - lambda_i) a[q[i]] over rows of `row` elements, the weights
// rounded to f32 as the references' float tensors.
static Tensor mix_rows(const Tensor& a, const std::vector<int64_t>& p,
                       const std::vector<int64_t>& q, const std::vector<double>& lambdas) {
  const int64_t n = a.size(0), row = a.numel() / std::max<int64_t>(n, 1);
  Tensor out = empty(a.sizes());
  const float* in = a.data<float>();
  float* o = out.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const float l = float(lambdas[size_t(i)]), r = float(1 - lambdas[size_t(i)]);
    const float* x = in + p[size_t(i)] * row;
    const float* y = in + q[size_t(i)] * row;
    for (int64_t k = 0; k < row; ++k) o[i * row + k] = l * x[k] + r * y[k];
  }
  return out;
}

// out[i] = lambda a[i] + (1 - lambda) a[n - 1 - i].
static Tensor mix_with_flipped(const Tensor& a, double lambda) {
  const int64_t n = a.size(0);
  std::vector<int64_t> same(static_cast<size_t>(n)), flipped(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    same[size_t(i)] = i;
    flipped[size_t(i)] = n - 1 - i;
  }
  return mix_rows(a, same, flipped, std::vector<double>(size_t(n), lambda));
}

Mixed mixup(const Tensor& images, const Tensor& labels, int64_t num_classes, double alpha,
            Generator& gen) {
  Tensor x = checked_images(images, "mixup");
  Tensor t = soft_targets(labels, num_classes, "mixup");
  check_batch(x, t, alpha, "mixup");
  double lambda = beta(gen, alpha, alpha);
  return {mix_with_flipped(x, lambda), mix_with_flipped(t, lambda), lambda};
}

Mixed cutmix(const Tensor& images, const Tensor& labels, int64_t num_classes, double alpha,
             Generator& gen) {
  Tensor x = checked_images(images, "cutmix");
  Tensor t = soft_targets(labels, num_classes, "cutmix");
  check_batch(x, t, alpha, "cutmix");
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const double drawn = beta(gen, alpha, alpha);
  const double cut = std::sqrt(1 - drawn);
  const auto cut_h = int64_t(double(H) * cut), cut_w = int64_t(double(W) * cut);
  const int64_t cy = uniform_int(gen, 0, H), cx = uniform_int(gen, 0, W);
  const int64_t y0 = std::clamp<int64_t>(cy - cut_h / 2, 0, H),
                y1 = std::clamp<int64_t>(cy + cut_h / 2, 0, H);
  const int64_t x0 = std::clamp<int64_t>(cx - cut_w / 2, 0, W),
                x1 = std::clamp<int64_t>(cx + cut_w / 2, 0, W);
  Tensor out = empty(x.sizes());
  out.copy_raw_(x);
  const float* in = x.data<float>();
  float* o = out.data<float>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = y0; y < y1; ++y)
        std::memcpy(o + ((b * C + c) * H + y) * W + x0,
                    in + (((B - 1 - b) * C + c) * H + y) * W + x0, size_t(x1 - x0) * sizeof(float));
  const double lambda = 1 - double((y1 - y0) * (x1 - x0)) / double(H * W);
  return {out, mix_with_flipped(t, lambda), lambda};
}

PartialMixed partial_mixup(const Tensor& images, const Tensor& labels, int64_t num_classes,
                           double beta_a, double percent, Generator& gen, bool mix) {
  Tensor x = checked_images(images, "partial_mixup");
  Tensor t = soft_targets(labels, num_classes, "partial_mixup");
  check_batch(x, t, beta_a, "partial_mixup");
  TUTOR_CHECK(percent >= 0, "partial_mixup: percent must be non-negative, got {}", percent);
  const int64_t B = x.size(0);
  PartialMixed m;
  m.first = randperm(B, DType::i64, &gen).to_vector<int64_t>();
  m.second = randperm(B, DType::i64, &gen).to_vector<int64_t>();
  m.lambdas.assign(size_t(B), 1.0);
  if (mix)
    for (double& l : m.lambdas) l = beta(gen, beta_a, beta_a);
  const auto kept = int64_t(double(B) * percent);
  for (int64_t k = 0; k < kept && B > 0; ++k) m.lambdas[size_t(uniform_int(gen, 0, B))] = 1.0;
  m.images = mix_rows(x, m.first, m.second, m.lambdas);
  m.targets = mix_rows(t, m.first, m.second, m.lambdas);
  return m;
}

static const Tensor& labels_or_targets(const Batch& b) {
  return b.targets.defined() ? b.targets : b.labels;
}

void Mixup::operator()(Batch& b, Generator& g) const {
  Mixed m = mixup(b.images, labels_or_targets(b), num_classes, alpha, g);
  b.images = m.images;
  b.targets = m.targets;
}

void PartialMixup::operator()(Batch& b, Generator& g) const {
  PartialMixed m = partial_mixup(b.images, labels_or_targets(b), num_classes, beta_a, percent, g, mix);
  b.images = m.images;
  b.targets = m.targets;
}

void Cutmix::operator()(Batch& b, Generator& g) const {
  Mixed m = cutmix(b.images, labels_or_targets(b), num_classes, alpha, g);
  b.images = m.images;
  b.targets = m.targets;
}

}  // namespace tutor::data
