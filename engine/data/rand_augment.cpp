#include "engine/data/rand_augment.h"

// Pillow computes these formulas with separate multiplies and adds (its x86-64 builds have no
// FMA); fused multiply-adds would round differently (60 * 5.1 - 255 gives 51 unfused, 50.99...
// fused).
#pragma GCC optimize("fp-contract=off")

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "engine/core/error.h"
#include "engine/data/transforms.h"

namespace tutor::data {

const std::vector<AugmentSpec>& rand_augment_ops() {
  static const std::vector<AugmentSpec> ops = {
      {AugmentOp::auto_contrast, "auto_contrast", 0, 1},
      {AugmentOp::brightness, "brightness", 0.05, 0.95},
      {AugmentOp::color, "color", 0.05, 0.95},
      {AugmentOp::contrast, "contrast", 0.05, 0.95},
      {AugmentOp::equalize, "equalize", 0, 1},
      {AugmentOp::identity, "identity", 0, 1},
      {AugmentOp::posterize, "posterize", 4, 8},
      {AugmentOp::rotate, "rotate", -30, 30},
      {AugmentOp::sharpness, "sharpness", 0.05, 0.95},
      {AugmentOp::shear_x, "shear_x", -0.3, 0.3},
      {AugmentOp::shear_y, "shear_y", -0.3, 0.3},
      {AugmentOp::solarize, "solarize", 0, 256},
      {AugmentOp::translate_x, "translate_x", -0.3, 0.3},
      {AugmentOp::translate_y, "translate_y", -0.3, 0.3},
  };
  return ops;
}

namespace {

// One image's u8 pixels, channel-major [C, H, W].
struct Image {
  int64_t C, H, W;
  std::vector<uint8_t> p;
  uint8_t& at(int64_t c, int64_t y, int64_t x) { return p[size_t((c * H + y) * W + x)]; }
  uint8_t at(int64_t c, int64_t y, int64_t x) const { return p[size_t((c * H + y) * W + x)]; }
  int64_t plane() const { return H * W; }
};

void apply_lut(Image& im, int64_t c, const std::array<uint8_t, 256>& lut) {
  for (int64_t i = 0; i < im.plane(); ++i) {
    uint8_t& v = im.p[size_t(c * im.plane() + i)];
    v = lut[v];
  }
}

std::array<int64_t, 256> histogram(const Image& im, int64_t c) {
  std::array<int64_t, 256> h{};
  for (int64_t i = 0; i < im.plane(); ++i) ++h[im.p[size_t(c * im.plane() + i)]];
  return h;
}

// Pillow's ImagingBlend for 0 <= alpha <= 1: (UINT8)(in1 + alpha * (in2 - in1)) in f32.
uint8_t blend(int in1, int in2, double alpha) {
  float v = float(in1) + float(alpha) * float(in2 - in1);
  return uint8_t(std::clamp(v, 0.0f, 255.0f));
}

// Blends `degenerate` towards `im` by v: Pillow's ImageEnhance._Enhance.enhance.
void enhance(Image& im, const Image& degenerate, double v) {
  for (size_t i = 0; i < im.p.size(); ++i) im.p[i] = blend(degenerate.p[i], im.p[i], v);
}

// Pillow's RGB -> L: (19595 R + 38470 G + 7471 B + 0x8000) >> 16; one channel is itself.
std::vector<int> grey(const Image& im) {
  std::vector<int> g(size_t(im.plane()));
  for (int64_t i = 0; i < im.plane(); ++i)
    g[size_t(i)] = im.C == 1
                       ? im.p[size_t(i)]
                       : int((19595u * im.p[size_t(i)] + 38470u * im.p[size_t(im.plane() + i)] +
                              7471u * im.p[size_t(2 * im.plane() + i)] + 0x8000u) >>
                             16);
  return g;
}

// Nearest-neighbour affine map of Pillow's Image.transform(AFFINE, (a, b, c, d, e, f)): output
// pixel (x, y) reads input (a (x+.5) + b (y+.5) + c, d (x+.5) + e (y+.5) + f), truncated; 0
// outside.
void affine(Image& im, double a, double b, double c, double d, double e, double f) {
  Image out{im.C, im.H, im.W, std::vector<uint8_t>(im.p.size(), 0)};
  auto coord = [](double v) { return v < 0 ? int64_t(-1) : int64_t(v); };
  for (int64_t y = 0; y < im.H; ++y)
    for (int64_t x = 0; x < im.W; ++x) {
      const double xc = double(x) + 0.5, yc = double(y) + 0.5;
      const int64_t xi = coord(a * xc + b * yc + c), yi = coord(d * xc + e * yc + f);
      if (xi < 0 || xi >= im.W || yi < 0 || yi >= im.H) continue;
      for (int64_t ch = 0; ch < im.C; ++ch) out.at(ch, y, x) = im.at(ch, yi, xi);
    }
  im = std::move(out);
}

void apply(Image& im, AugmentOp op, double v) {
  switch (op) {
    case AugmentOp::identity:
      return;
    case AugmentOp::auto_contrast:
      for (int64_t c = 0; c < im.C; ++c) {
        std::array<int64_t, 256> h = histogram(im, c);
        int lo = 0, hi = 255;
        while (lo < 256 && h[size_t(lo)] == 0) ++lo;
        while (hi >= 0 && h[size_t(hi)] == 0) --hi;
        if (hi <= lo) continue;
        const double scale = 255.0 / (hi - lo), offset = -lo * scale;
        std::array<uint8_t, 256> lut{};
        for (int i = 0; i < 256; ++i)
          lut[size_t(i)] = uint8_t(std::clamp<int64_t>(int64_t(i * scale + offset), 0, 255));
        apply_lut(im, c, lut);
      }
      return;
    case AugmentOp::brightness: {
      Image black{im.C, im.H, im.W, std::vector<uint8_t>(im.p.size(), 0)};
      enhance(im, black, v);
      return;
    }
    case AugmentOp::color: {
      if (im.C == 1) return;
      std::vector<int> g = grey(im);
      Image degenerate = im;
      for (int64_t c = 0; c < im.C; ++c)
        for (int64_t i = 0; i < im.plane(); ++i)
          degenerate.p[size_t(c * im.plane() + i)] = uint8_t(g[size_t(i)]);
      enhance(im, degenerate, v);
      return;
    }
    case AugmentOp::contrast: {
      std::vector<int> g = grey(im);
      double sum = 0;
      for (int x : g) sum += x;
      const int mean = int(sum / double(g.size()) + 0.5);
      Image degenerate{im.C, im.H, im.W, std::vector<uint8_t>(im.p.size(), uint8_t(mean))};
      enhance(im, degenerate, v);
      return;
    }
    case AugmentOp::equalize:
      for (int64_t c = 0; c < im.C; ++c) {
        std::array<int64_t, 256> h = histogram(im, c);
        int64_t used = 0, total = 0, last = 0;
        for (int64_t n : h)
          if (n) ++used, total += n, last = n;
        if (used <= 1) continue;
        const int64_t step = (total - last) / 255;
        if (step == 0) continue;
        std::array<uint8_t, 256> lut{};
        int64_t n = step / 2;
        for (size_t i = 0; i < 256; ++i) {
          lut[i] = uint8_t(std::min<int64_t>(n / step, 255));
          n += h[i];
        }
        apply_lut(im, c, lut);
      }
      return;
    case AugmentOp::posterize: {
      const int bits = std::max(1, int(v));
      const auto mask = uint8_t(~((1 << (8 - bits)) - 1) & 0xff);
      for (uint8_t& p : im.p) p = uint8_t(p & mask);
      return;
    }
    case AugmentOp::solarize:
      for (uint8_t& p : im.p) p = double(p) < v ? p : uint8_t(255 - p);
      return;
    case AugmentOp::sharpness: {
      Image smooth = im;
      const float k = 1.0f / 13.0f, centre = 5.0f / 13.0f;
      for (int64_t c = 0; c < im.C; ++c)
        for (int64_t y = 1; y + 1 < im.H; ++y)
          for (int64_t x = 1; x + 1 < im.W; ++x) {
            float s = 0.5f;  // Pillow adds 0.5 to round the truncation to nearest
            for (int64_t dy = -1; dy <= 1; ++dy)
              for (int64_t dx = -1; dx <= 1; ++dx)
                s += float(im.at(c, y + dy, x + dx)) * (dx == 0 && dy == 0 ? centre : k);
            smooth.at(c, y, x) = uint8_t(std::clamp(s, 0.0f, 255.0f));
          }
      enhance(im, smooth, v);
      return;
    }
    case AugmentOp::rotate: {
      // Image.rotate: the inverse map is the rotation by -v about the centre.
      const double angle = -v * std::numbers::pi / 180.0, cs = std::cos(angle),
                   sn = std::sin(angle), cx = double(im.W) / 2, cy = double(im.H) / 2;
      affine(im, cs, sn, cs * -cx + sn * -cy + cx, -sn, cs, -sn * -cx + cs * -cy + cy);
      return;
    }
    case AugmentOp::shear_x:
      affine(im, 1, v, 0, 0, 1, 0);
      return;
    case AugmentOp::shear_y:
      affine(im, 1, 0, 0, v, 1, 0);
      return;
    case AugmentOp::translate_x:
      affine(im, 1, 0, v * double(im.W), 0, 1, 0);
      return;
    case AugmentOp::translate_y:
      affine(im, 1, 0, 0, 0, 1, v * double(im.H));
      return;
  }
}

void cutout_box(Image& im, double side, double x0, double y0) {
  if (side < 0) return;
  const int64_t left = int64_t(std::max(0.0, x0 - side / 2)),
                top = int64_t(std::max(0.0, y0 - side / 2));
  const int64_t right = int64_t(std::min(double(im.W), double(left) + side)),
                bottom = int64_t(std::min(double(im.H), double(top) + side));
  static const uint8_t fill[3] = {125, 123, 114};
  for (int64_t c = 0; c < im.C; ++c)
    for (int64_t y = top; y <= std::min(bottom, im.H - 1); ++y)
      for (int64_t x = left; x <= std::min(right, im.W - 1); ++x) im.at(c, y, x) = fill[c];
}

// Runs `fn(image, b)` on each image's u8 pixels and returns the f32 images p / 255.
template <class F>
Tensor per_image(const Tensor& images, const char* op, F&& fn) {
  Tensor x = checked_images(images, op);
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  TUTOR_CHECK(C == 1 || C == 3, "{}: images must have 1 or 3 channels, got {}", op, x.sizes());
  Tensor out = empty(x.sizes());
  const float* in = x.data<float>();
  float* o = out.data<float>();
  const int64_t n = C * H * W;
  for (int64_t b = 0; b < B; ++b) {
    Image im{C, H, W, std::vector<uint8_t>(size_t(n))};
    for (int64_t i = 0; i < n; ++i)
      im.p[size_t(i)] = uint8_t(std::clamp(std::lround(in[b * n + i] * 255.0f), 0L, 255L));
    fn(im, b);
    for (int64_t i = 0; i < n; ++i) o[b * n + i] = float(im.p[size_t(i)]) / 255.0f;
  }
  return out;
}

}  // namespace

Tensor augment_op(const Tensor& images, AugmentOp op, double v) {
  return per_image(images, "augment_op", [&](Image& im, int64_t) { apply(im, op, v); });
}

Tensor cutout(const Tensor& images, double side, double x0, double y0) {
  return per_image(images, "cutout", [&](Image& im, int64_t) { cutout_box(im, side, x0, y0); });
}

Tensor rand_augment(const Tensor& images, Generator& gen, int64_t n) {
  TUTOR_CHECK(n >= 0, "rand_augment: the number of ops must be >= 0, got {}", n);
  const std::vector<AugmentSpec>& ops = rand_augment_ops();
  return per_image(images, "rand_augment", [&](Image& im, int64_t) {
    std::vector<size_t> chosen;
    for (int64_t k = 0; k < n; ++k)
      chosen.push_back(std::min(ops.size() - 1, size_t(gen.uniform_f64() * double(ops.size()))));
    for (size_t k : chosen)
      apply(im, ops[k].op, ops[k].lo + (ops[k].hi - ops[k].lo) * gen.uniform_f64());
    const double v = 0.5 * gen.uniform_f64();
    const double x0 = gen.uniform_f64() * double(im.W), y0 = gen.uniform_f64() * double(im.H);
    if (v > 0) cutout_box(im, v * double(im.W), x0, y0);
  });
}

void StrongView::operator()(Batch& b, Generator& g) const {
  Tensor x = b.images;
  if (crop_padding > 0) x = random_crop(x, crop_padding, g);
  if (flip) x = horizontal_flip(x, g);
  b.strong_images = normalize(rand_augment(x, g, ops), mean, std);
}

}  // namespace tutor::data
