#include "engine/data/transforms.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/data/sampling.h"

namespace tutor::data {

Tensor checked_images(const Tensor& images, const char* op) {
  TUTOR_CHECK(images.defined() && images.dim() == 4 && images.dtype() == DType::f32 &&
                  images.device() == kCPU,
              "{}: images must be CPU f32 [B, C, H, W], got {} {}", op,
              images.defined() ? images.dtype() : DType::f32,
              images.defined() ? images.sizes() : Shape{});
  return images.contiguous_raw();
}

void to_float(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = float(src[i]) / 255.0f;
}

Tensor to_float(const std::vector<uint8_t>& pixels, const Shape& shape) {
  Tensor out = empty(shape);
  TUTOR_CHECK(out.numel() == int64_t(pixels.size()), "to_float: {} bytes for shape {}",
              pixels.size(), shape);
  to_float(pixels.data(), out.data<float>(), out.numel());
  return out;
}

Tensor normalize(const Tensor& images, const std::vector<double>& mean,
                 const std::vector<double>& std) {
  Tensor x = checked_images(images, "normalize");
  const int64_t B = x.size(0), C = x.size(1), plane = x.size(2) * x.size(3);
  auto per_channel = [&](const std::vector<double>& v, const char* name) {
    TUTOR_CHECK(v.size() == 1 || int64_t(v.size()) == C,
                "normalize: {} has {} entries for {} channels", name, v.size(), C);
    return [&v](int64_t c) { return v.size() == 1 ? v[0] : v[size_t(c)]; };
  };
  auto m = per_channel(mean, "mean"), s = per_channel(std, "std");
  for (int64_t c = 0; c < C; ++c) TUTOR_CHECK(s(c) != 0, "normalize: std of channel {} is 0", c);
  Tensor out = empty(x.sizes());
  const float* in = x.data<float>();
  float* o = out.data<float>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      const float mc = float(m(c)), inv = float(1.0 / s(c));
      const int64_t base = (b * C + c) * plane;
      for (int64_t i = 0; i < plane; ++i) o[base + i] = (in[base + i] - mc) * inv;
    }
  return out;
}

Tensor random_crop(const Tensor& images, int64_t padding, Generator& gen) {
  TUTOR_CHECK(padding >= 0, "random_crop: padding must be non-negative, got {}", padding);
  Tensor x = checked_images(images, "random_crop");
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  Tensor out = zeros(x.sizes());
  const float* in = x.data<float>();
  float* o = out.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t dy = uniform_int(gen, 0, 2 * padding + 1) - padding;
    const int64_t dx = uniform_int(gen, 0, 2 * padding + 1) - padding;
    // Output rows y with 0 <= y + dy < H, columns x with 0 <= x + dx < W; the rest stays 0.
    const int64_t y0 = std::max<int64_t>(0, -dy), y1 = std::min(H, H - dy);
    const int64_t x0 = std::max<int64_t>(0, -dx), x1 = std::min(W, W - dx);
    if (y1 <= y0 || x1 <= x0) continue;
    for (int64_t c = 0; c < C; ++c) {
      const int64_t base = (b * C + c) * H * W;
      for (int64_t y = y0; y < y1; ++y)
        std::memcpy(o + base + y * W + x0, in + base + (y + dy) * W + x0 + dx,
                    size_t(x1 - x0) * sizeof(float));
    }
  }
  return out;
}

Tensor horizontal_flip(const Tensor& images, Generator& gen, double p) {
  TUTOR_CHECK(p >= 0 && p <= 1, "horizontal_flip: p must be in [0, 1], got {}", p);
  Tensor x = checked_images(images, "horizontal_flip");
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  Tensor out = empty(x.sizes());
  out.copy_raw_(x);
  const float* in = x.data<float>();
  float* o = out.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    if (!(gen.uniform_f64() < p)) continue;
    for (int64_t row = b * C * H; row < (b + 1) * C * H; ++row)
      for (int64_t i = 0; i < W; ++i) o[row * W + i] = in[row * W + W - 1 - i];
  }
  return out;
}

Tensor random_erasing(const Tensor& images, Generator& gen, const ErasingOptions& opt) {
  TUTOR_CHECK(opt.p >= 0 && opt.p <= 1, "random_erasing: p must be in [0, 1], got {}", opt.p);
  TUTOR_CHECK(0 < opt.scale_lo && opt.scale_lo <= opt.scale_hi && opt.scale_hi <= 1,
              "random_erasing: scale ({}, {}) must satisfy 0 < lo <= hi <= 1", opt.scale_lo,
              opt.scale_hi);
  TUTOR_CHECK(0 < opt.ratio_lo && opt.ratio_lo <= opt.ratio_hi,
              "random_erasing: ratio ({}, {}) must satisfy 0 < lo <= hi", opt.ratio_lo,
              opt.ratio_hi);
  Tensor x = checked_images(images, "random_erasing");
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  Tensor out = empty(x.sizes());
  out.copy_raw_(x);
  float* o = out.data<float>();
  const double log_lo = std::log(opt.ratio_lo), log_hi = std::log(opt.ratio_hi);
  for (int64_t b = 0; b < B; ++b) {
    if (!(gen.uniform_f64() < opt.p)) continue;
    for (int attempt = 0; attempt < 10; ++attempt) {
      const double area = double(H * W) * uniform(gen, opt.scale_lo, opt.scale_hi);
      const double aspect = std::exp(uniform(gen, log_lo, log_hi));
      // Python's round(), as torchvision uses: halves to even.
      const auto h = int64_t(std::nearbyint(std::sqrt(area * aspect)));
      const auto w = int64_t(std::nearbyint(std::sqrt(area / aspect)));
      if (!(h < H && w < W)) continue;
      const int64_t top = uniform_int(gen, 0, H - h + 1), left = uniform_int(gen, 0, W - w + 1);
      for (int64_t c = 0; c < C; ++c)
        for (int64_t y = top; y < top + h; ++y)
          std::fill_n(o + ((b * C + c) * H + y) * W + left, w, float(opt.value));
      break;
    }
  }
  return out;
}

}  // namespace tutor::data
