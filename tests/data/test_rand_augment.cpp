// RandAugment's ops and Cutout (engine/data/rand_augment.h) on small u8 images worked by hand
// from Pillow's formulas, the random composition against the same ops applied one by one, and
// the strong view of a batch.
#include <doctest/doctest.h>

#include <vector>

#include "engine/data/rand_augment.h"
#include "engine/data/transforms.h"
#include "engine/ops/ops.h"

using namespace tutor;
using namespace tutor::data;

namespace {

// u8 pixels [1, C, H, W] as the f32 images p / 255.
Tensor image(const std::vector<int>& p, int64_t C, int64_t H, int64_t W) {
  std::vector<float> v;
  for (int x : p) v.push_back(float(x) / 255.0f);
  Tensor t = empty({1, C, H, W});
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

std::vector<int> pixels(const Tensor& t) {
  std::vector<int> out;
  for (float x : t.contiguous().to_vector<float>()) out.push_back(int(std::lround(x * 255.0f)));
  return out;
}

const std::vector<int> kRamp = {0, 3, 50, 100, 127, 128, 200, 255, 17, 64, 90, 240};  // 3 x 4

}  // namespace

TEST_CASE("rand_augment: point ops follow Pillow's formulas") {
  Tensor x = image(kRamp, 1, 3, 4);
  // brightness 0.5: int(0.5 p).
  CHECK(pixels(augment_op(x, AugmentOp::brightness, 0.5)) ==
        std::vector<int>{0, 1, 25, 50, 63, 64, 100, 127, 8, 32, 45, 120});
  // solarize 128: p < 128 ? p : 255 - p.
  CHECK(pixels(augment_op(x, AugmentOp::solarize, 128)) ==
        std::vector<int>{0, 3, 50, 100, 127, 127, 55, 0, 17, 64, 90, 15});
  // posterize 4.7: 4 bits, p & 0xf0.
  CHECK(pixels(augment_op(x, AugmentOp::posterize, 4.7)) ==
        std::vector<int>{0, 0, 48, 96, 112, 128, 192, 240, 16, 64, 80, 240});
  CHECK(pixels(augment_op(x, AugmentOp::identity, 0.3)) == kRamp);
  CHECK(pixels(augment_op(x, AugmentOp::color, 0.2)) == kRamp);  // one channel: its own grey
  // contrast 0.5: mean = 1274 / 12 = 106.17 -> m = 106; int(106 + 0.5 (p - 106)).
  CHECK(pixels(augment_op(x, AugmentOp::contrast, 0.5)) ==
        std::vector<int>{53, 54, 78, 103, 116, 117, 153, 180, 61, 85, 98, 173});
  // auto_contrast of p in [50, 100]: int(p scale + offset), scale = 255 / 50 = 5.1, offset =
  // -255, in f64 as Pillow's Python computes it (Python gives these): 100 * 5.1 =
  // 509.99999999999994
  // -> 254.
  Tensor narrow = image({50, 60, 75, 100}, 1, 2, 2);
  CHECK(pixels(augment_op(narrow, AugmentOp::auto_contrast, 0.5)) ==
        std::vector<int>{0, 51, 127, 254});
  Tensor flat = image({9, 9, 9, 9}, 1, 2, 2);
  CHECK(pixels(augment_op(flat, AugmentOp::auto_contrast, 0.5)) == std::vector<int>{9, 9, 9, 9});
}

TEST_CASE("rand_augment: equalize is Pillow's histogram lut") {
  // Values 10 (x2), 20 (x1), 30 (x1): N = 4, last used count 1, step = (4 - 1) / 255 = 0: no
  // change. With 600 pixels: 10 x 300, 20 x 200, 30 x 100: step = (600 - 100) / 255 = 1,
  // lut[i] = (0 + sum_{j<i} h[j]) / 1: lut[10] = 0, lut[20] = 300 -> 255 (clipped), lut[30] = 500
  // -> 255.
  CHECK(pixels(augment_op(image({10, 10, 20, 30}, 1, 2, 2), AugmentOp::equalize, 0)) ==
        std::vector<int>{10, 10, 20, 30});
  std::vector<int> p(600);
  for (size_t i = 0; i < 600; ++i) p[i] = i < 300 ? 10 : i < 500 ? 20 : 30;
  std::vector<int> expected(600);
  for (size_t i = 0; i < 600; ++i) expected[i] = i < 300 ? 0 : 255;
  CHECK(pixels(augment_op(image(p, 1, 20, 30), AugmentOp::equalize, 0)) == expected);
  // 765 pixels: 0 x 255, 1 x 255, 2 x 255: step = (765 - 255) / 255 = 2, n starts at 1:
  // lut[0] = 1 / 2 = 0, lut[1] = (1 + 255) / 2 = 128, lut[2] = (1 + 510) / 2 = 255.
  std::vector<int> q(765), want(765);
  for (size_t i = 0; i < 765; ++i) q[i] = int(i / 255), want[i] = i < 255 ? 0 : i < 510 ? 128 : 255;
  CHECK(pixels(augment_op(image(q, 1, 45, 17), AugmentOp::equalize, 0)) == want);
}

TEST_CASE("rand_augment: geometric ops map pixel centres, nearest, 0 outside") {
  Tensor x = image(kRamp, 1, 3, 4);
  // translate_x 0.25 of W = 4: input x = x + 1; the last column falls outside.
  CHECK(pixels(augment_op(x, AugmentOp::translate_x, 0.25)) ==
        std::vector<int>{3, 50, 100, 0, 128, 200, 255, 0, 64, 90, 240, 0});
  // translate_y -1/3 of H = 3: input y = y - 1 (+ 0.5 centres: floor(y - 0.5)).
  CHECK(pixels(augment_op(x, AugmentOp::translate_y, -1.0 / 3)) ==
        std::vector<int>{0, 0, 0, 0, 0, 3, 50, 100, 127, 128, 200, 255});
  // shear_x 0.5: input x = floor(x + 0.5 + 0.5 (y + 0.5)): rows shift by 0, 1, 1.
  CHECK(pixels(augment_op(x, AugmentOp::shear_x, 0.5)) ==
        std::vector<int>{0, 3, 50, 100, 128, 200, 255, 0, 64, 90, 240, 0});
  // rotate 90 (counter-clockwise, about the centre of a 3 x 3): out[y][x] = in[x][2 - y],
  // np.rot90's result.
  Tensor s = image({1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 3, 3);
  CHECK(pixels(augment_op(s, AugmentOp::rotate, 90)) ==
        std::vector<int>{3, 6, 9, 2, 5, 8, 1, 4, 7});
  // shear_y 1 on 2 x 2: input y = floor(x + 0.5 + y + 0.5): (0,0)<-(0,1), (1,0)<-outside.
  CHECK(pixels(augment_op(image({1, 2, 3, 4}, 1, 2, 2), AugmentOp::shear_y, 1)) ==
        std::vector<int>{3, 0, 0, 0});
}

TEST_CASE("rand_augment: sharpness blends with the 3x3 smooth filter, borders kept") {
  // Centre of 3 x 3: (8 * 10 + 5 * 100) / 13 + 0.5 = 45.1 -> 45; the blend 0.5:
  // int(45 + 0.5 (100 - 45)) = 72; borders blend with themselves.
  Tensor x = image({10, 10, 10, 10, 100, 10, 10, 10, 10}, 1, 3, 3);
  CHECK(pixels(augment_op(x, AugmentOp::sharpness, 0.5)) ==
        std::vector<int>{10, 10, 10, 10, 72, 10, 10, 10, 10});
}

TEST_CASE("rand_augment: color and contrast of RGB use Pillow's grey") {
  // One pixel (200, 100, 50): grey = (19595 200 + 38470 100 + 7471 50 + 32768) >> 16 = 124.
  // color 0.5: int(124 + 0.5 (p - 124)) = 162, 112, 87.
  Tensor x = image({200, 100, 50}, 3, 1, 1);
  CHECK(pixels(augment_op(x, AugmentOp::color, 0.5)) == std::vector<int>{162, 112, 87});
  // contrast 0: every channel becomes the mean grey 124.
  CHECK(pixels(augment_op(x, AugmentOp::contrast, 0)) == std::vector<int>{124, 124, 124});
}

TEST_CASE("rand_augment: cutout fills the inclusive box with (125, 123, 114)") {
  // Side 2 centred at (1.2, 1.7): left = int(0.2) = 0, top = int(0.7) = 0, right = bottom = 2.
  std::vector<int> p(16, 9),
      want = {125, 125, 125, 9, 125, 125, 125, 9, 125, 125, 125, 9, 9, 9, 9, 9};
  CHECK(pixels(cutout(image(p, 1, 4, 4), 2, 1.2, 1.7)) == want);
  std::vector<int> rgb(3 * 4, 0);
  std::vector<int> got = pixels(cutout(image(rgb, 3, 2, 2), 1, 0.9, 0.9));
  // left = int(0.4) = 0, right = int(1) = 1: the whole 2 x 2 in each channel's colour.
  CHECK(got == std::vector<int>{125, 125, 125, 125, 123, 123, 123, 123, 114, 114, 114, 114});
}

TEST_CASE("rand_augment: the draws pick ops and magnitudes, then cutout, image by image") {
  Tensor x = image(kRamp, 1, 3, 4);
  Tensor two = cat({x, augment_op(x, AugmentOp::solarize, 100)}, 0);
  Generator g(11);
  Tensor out = rand_augment(two, g, 2);
  // The same draws, replayed.
  Generator r(11);
  const std::vector<AugmentSpec>& ops = rand_augment_ops();
  REQUIRE(ops.size() == 14);
  for (int64_t b = 0; b < 2; ++b) {
    Tensor im = two.narrow(0, b, 1);
    size_t first = size_t(r.uniform_f64() * 14), second = size_t(r.uniform_f64() * 14);
    for (size_t k : {first, second})
      im = augment_op(im, ops[k].op, ops[k].lo + (ops[k].hi - ops[k].lo) * r.uniform_f64());
    double v = 0.5 * r.uniform_f64(), x0 = 4 * r.uniform_f64(), y0 = 3 * r.uniform_f64();
    im = cutout(im, v * 4, x0, y0);
    CHECK(pixels(out.narrow(0, b, 1)) == pixels(im));
  }
}

TEST_CASE("rand_augment: the strong view is computed from the batch's images, which stay") {
  Tensor x = image(kRamp, 1, 3, 4);
  Batch b;
  b.images = x;
  Generator g(5);
  StrongView{0, false, 2, {0.5}, {0.25}}(b, g);
  CHECK(pixels(b.images) == kRamp);
  Generator r(5);
  Tensor expected =
      data::normalize(rand_augment(x, r, 2), std::vector<double>{0.5}, std::vector<double>{0.25});
  CHECK(b.strong_images.to_vector<float>() == expected.to_vector<float>());
  CHECK(augment_op(x, AugmentOp::identity, 0).sizes() == x.sizes());
}
