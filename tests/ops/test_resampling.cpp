#include <algorithm>
#include <cmath>

#include "support/op_test.h"

using namespace tutor;
using testing::check_close;
using testing::check_error;
using testing::check_f32_backward;
using testing::check_gradient;
using testing::rand_leaf;

namespace {

// PyTorch's source coordinate of output index `dst` (align_corners=false): (dst + 0.5) * in/out -
// 0.5.
double half_pixel_source(int64_t dst, int64_t in, int64_t out) {
  return (double(dst) + 0.5) * double(in) / double(out) - 0.5;
}

// Keys' cubic convolution kernel with a = -0.75, written piecewise in |s|.
double keys(double s) {
  const double a = -0.75;
  s = std::fabs(s);
  if (s <= 1) return (a + 2) * s * s * s - (a + 3) * s * s + 1;
  if (s < 2) return a * s * s * s - 5 * a * s * s + 8 * a * s - 4 * a;
  return 0;
}

// Bicubic resize of each [H, W] plane of x [N, C, H, W], evaluated directly: out(y, x) = sum over
// the 4 x 4 input neighbours (i, j) of keys(sy - i) keys(sx - j) in(clamp(i), clamp(j)).
Tensor bicubic_by_formula(const Tensor& x, int64_t oh, int64_t ow, bool align_corners) {
  const int64_t planes = x.size(0) * x.size(1), h = x.size(2), w = x.size(3);
  std::vector<double> in = x.to_vector<double>(), out;
  auto source = [&](int64_t dst, int64_t n, int64_t m) {
    if (align_corners) return m > 1 ? double(dst) * double(n - 1) / double(m - 1) : 0.0;
    return half_pixel_source(dst, n, m);
  };
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox) {
        double sy = source(oy, h, oh), sx = source(ox, w, ow), acc = 0;
        for (int64_t i = int64_t(std::floor(sy)) - 1; i <= int64_t(std::floor(sy)) + 2; ++i)
          for (int64_t j = int64_t(std::floor(sx)) - 1; j <= int64_t(std::floor(sx)) + 2; ++j)
            acc += keys(sy - double(i)) * keys(sx - double(j)) *
                   in[size_t((p * h + std::clamp<int64_t>(i, 0, h - 1)) * w +
                             std::clamp<int64_t>(j, 0, w - 1))];
        out.push_back(acc);
      }
  return from_vector(out, {x.size(0), x.size(1), oh, ow}, DType::f64);
}


}  // namespace

OP_TEST("interpolate", "values") {
  Tensor x = tensor({{{{1, 2}, {3, 4}}}});  // [1, 1, 2, 2]
  // nearest: src = floor(dst * 2 / 4) = 0, 0, 1, 1
  check_close(interpolate(x, {4, 4}),
              tensor({{{{1, 1, 2, 2}, {1, 1, 2, 2}, {3, 3, 4, 4}, {3, 3, 4, 4}}}}));
  // bilinear: x is the plane 1 + j + 2 i, so the output is 1 + sx + 2 sy at the source coordinates
  // sx, sy = max((dst + 0.5) * 2 / 4 - 0.5, 0), clamped to the last pixel
  std::vector<float> expected;
  for (int64_t oy = 0; oy < 4; ++oy)
    for (int64_t ox = 0; ox < 4; ++ox) {
      double sy = std::clamp(half_pixel_source(oy, 2, 4), 0.0, 1.0);
      double sx = std::clamp(half_pixel_source(ox, 2, 4), 0.0, 1.0);
      expected.push_back(float(1 + sx + 2 * sy));
    }
  Tensor bilinear = from_vector(expected, {1, 1, 4, 4});
  check_close(interpolate(x, {4, 4}, {}, "bilinear"), bilinear);
  check_close(bilinear.select(2, 1), tensor({{{1.5, 1.75, 2.25, 2.5}}}));  // by hand
  // align_corners: sx = dst * (2 - 1) / (4 - 1)
  check_close(interpolate(x, {4, 4}, {}, "bilinear", true).select(2, 0),
              tensor({{{1, 4 / 3., 5 / 3., 2}}}));
  // scale factors: 2 x 2 * 2 equals size 4 x 4; a non-integer factor maps with 1 / factor
  // (PyTorch), not in / out: width 3 * 1.5 -> 4, source (dst + 0.5) / 1.5 - 0.5 of the ramp 0, 1, 2
  check_close(interpolate(x, {}, {2.0}, "bilinear"), bilinear);
  check_close(interpolate(x, {}, {2.0, 2.0}), interpolate(x, {4, 4}));
  check_close(interpolate(tensor({{{{0, 1, 2}}}}), {}, {1.0, 1.5}, "bilinear"),
              tensor({{{{0, 0.5, 7 / 6., 11 / 6.}}}}));
  // nearest with a factor: 1 / factor maps, except that an output of the input's size or twice it
  // copies or doubles pixels (PyTorch's nearest_idx): width 4 * 1.3 -> 5 takes floor(dst / 1.3)
  Tensor row = tensor({{{{0, 1, 2, 3}}}});
  check_close(interpolate(row, {}, {1.0, 1.3}), tensor({{{{0, 0, 1, 2, 3}}}}));
  check_close(interpolate(row, {}, {1.0, 1.2}), row);
  check_close(interpolate(row, {}, {1.0, 2.2}), tensor({{{{0, 0, 1, 1, 2, 2, 3, 3}}}}));
  // downsampling 4 x 4 (value 4 i + j) to 2 x 2: nearest src = 0, 2; bilinear src = 0.5, 2.5
  Tensor ramp = arange(16, DType::f32).reshape({1, 1, 4, 4});
  check_close(interpolate(ramp, {2, 2}), tensor({{{{0, 2}, {8, 10}}}}));
  check_close(interpolate(ramp, {2, 2}, {}, "bilinear"), tensor({{{{2.5, 4.5}, {10.5, 12.5}}}}));
  check_close(interpolate(ramp, {}, {0.5}, "bilinear"), tensor({{{{2.5, 4.5}, {10.5, 12.5}}}}));
  // bicubic against the direct formula: up, down, align_corners, several planes, f32 and f64
  Tensor r = rand_leaf({1, 2, 3, 4}, 1).detach();
  check_close(interpolate(r, {5, 7}, {}, "bicubic"), bicubic_by_formula(r, 5, 7, false), 1e-12);
  check_close(interpolate(r, {2, 3}, {}, "bicubic"), bicubic_by_formula(r, 2, 3, false), 1e-12);
  check_close(interpolate(r, {5, 7}, {}, "bicubic", true), bicubic_by_formula(r, 5, 7, true),
              1e-12);
  check_close(interpolate(r.to(DType::f32), {6, 1}, {}, "bicubic"),
              bicubic_by_formula(r, 6, 1, false), 1e-5);
  // bicubic reproduces constants; same size is the identity for every mode
  check_close(interpolate(full({1, 1, 3, 3}, 2.5), {5, 4}, {}, "bicubic"), full({1, 1, 5, 4}, 2.5));
  for (const char* mode : {"nearest", "bilinear", "bicubic"})
    check_close(interpolate(r, {3, 4}, {}, mode), r, 1e-12);
  // non-contiguous input; size-1 input; empty batch
  Tensor rt = rand_leaf({1, 2, 4, 3}, 2).detach().transpose(2, 3);
  check_close(interpolate(rt, {5, 2}, {}, "bilinear"),
              interpolate(rt.contiguous(), {5, 2}, {}, "bilinear"), 1e-12);
  check_close(interpolate(full({1, 1, 1, 1}, 3.0), {2, 3}, {}, "bilinear"),
              full({1, 1, 2, 3}, 3.0));
  CHECK(interpolate(zeros({0, 2, 3, 3}), {6, 6}).sizes() == Shape{0, 2, 6, 6});
}

OP_TEST("interpolate", "gradient") {
  for (const char* mode : {"nearest", "bilinear", "bicubic"}) {
    INFO("mode ", mode);
    check_gradient(
        [&](const TensorList& t) {
          return TensorList{interpolate(t[0], {4, 5}, {}, mode)};
        },
        {rand_leaf({1, 2, 3, 2}, 1)});
    check_gradient(
        [&](const TensorList& t) {
          return TensorList{interpolate(t[0], {2, 3}, {}, mode)};
        },
        {rand_leaf({2, 1, 5, 4}, 2)});
    check_gradient(
        [&](const TensorList& t) {
          return TensorList{interpolate(t[0].transpose(2, 3), {}, {1.5}, mode)};
        },
        {rand_leaf({1, 1, 3, 4}, 3)});
  }
  for (const char* mode : {"bilinear", "bicubic"})
    check_gradient(
        [&](const TensorList& t) {
          return TensorList{interpolate(t[0], {5, 3}, {}, mode, true)};
        },
        {rand_leaf({1, 1, 3, 4}, 4)});
  // the backward is the adjoint map, itself differentiated by the forward: second order
  check_gradient(
      [](const TensorList& t) {
        EnableGradGuard grad_mode;  // gradcheck's finite differences run without grad mode
        Tensor y = interpolate(t[0], {5, 4}, {}, "bicubic");
        return autograd::grad({sum(mul(y, y))}, {t[0]}, {}, true, /*create_graph=*/true);
      },
      {rand_leaf({1, 1, 3, 3}, 5)});
}

TEST_CASE("resampling: f32 backward kernels agree with f64") {
  for (const char* mode : {"nearest", "bilinear", "bicubic"})
    check_f32_backward(
        [&](const TensorList& t) {
          return TensorList{interpolate(t[0], {5, 3}, {}, mode)};
        },
        {rand_leaf({1, 2, 3, 4}, 1)});
  check_f32_backward(
      [](const TensorList& t) {
        return TensorList{pad(t[0], {1, -1, 2, 0})};
      },
      {rand_leaf({2, 3}, 2)});
}

OP_TEST("interpolate", "errors") {
  Tensor x = zeros({1, 2, 3, 3});
  check_error(
      [&] {
        interpolate(x, {4, 4}, {}, "trilinear");
      },
      {"interpolate", "trilinear", "[1, 2, 3, 3]"});
  check_error(
      [&] {
        interpolate(x, {4, 4}, {}, "nearest", false);
      },
      {"interpolate", "align_corners", "nearest"});
  check_error([&] { interpolate(zeros({2, 3, 3}), {4, 4}); }, {"interpolate", "[2, 3, 3]"});
  check_error([&] { interpolate(x, {4, 4}, {2.0}); }, {"interpolate", "size", "scale_factor"});
  check_error([&] { interpolate(x, {}, {}); }, {"interpolate", "size", "scale_factor"});
  check_error([&] { interpolate(x, {4, 4, 4}); }, {"interpolate", "[4, 4, 4]", "[1, 2, 3, 3]"});
  check_error([&] { interpolate(x, {}, {-1.0}); }, {"interpolate", "-1", "[1, 2, 3, 3]"});
  check_error([&] { interpolate(x, {0, 4}); }, {"interpolate", "[1, 2, 0, 4]"});
  check_error([&] { interpolate(x, {}, {0.2}); }, {"interpolate", "[1, 2, 0, 0]"});
  check_error([&] { interpolate(zeros({1, 1, 2, 2}, DType::i64), {4, 4}); }, {"interpolate"});
}

OP_TEST("pad", "values") {
  Tensor x = tensor({{1, 2, 3}, {4, 5, 6}});
  // (left, right) of the last dim
  check_close(pad(x, {1, 2}, "constant", 9), tensor({{9, 1, 2, 3, 9, 9}, {9, 4, 5, 6, 9, 9}}));
  // (left, right, top, bottom)
  check_close(pad(x, {0, 1, 1, 0}), tensor({{0, 0, 0, 0}, {1, 2, 3, 0}, {4, 5, 6, 0}}));
  // negative amounts crop
  check_close(pad(x, {-1, 1}), tensor({{2, 3, 0}, {5, 6, 0}}));
  check_close(pad(x, {-1, -1, 0, -1}), tensor({{2}}));
  check_close(pad(x, {-3, 0}), zeros({2, 0}));
  check_close(pad(x, {-4, 2}, "constant", 7), full({2, 1}, 7.0));
  // all dims, empty pad list, non-contiguous input, i64 and f64, empty input
  check_close(pad(x, {0, 0, 0, 0}), x);
  check_close(pad(x, {}), x);
  check_close(pad(tensor({5}), {1, 1}), tensor({0, 5, 0}));
  check_close(pad(x.t(), {1, 0}, "constant", -1), tensor({{-1, 1, 4}, {-1, 2, 5}, {-1, 3, 6}}));
  check_close(pad(x.slice(1, 0, 3, 2), {0, 1, 1, 0}), tensor({{0, 0, 0}, {1, 3, 0}, {4, 6, 0}}));
  CHECK(pad(arange(3), {1, 1}, "constant", 7).to_vector<int64_t>() ==
        std::vector<int64_t>{7, 0, 1, 2, 7});
  check_close(pad(x.to(DType::f64), {1, 0}), tensor({{0, 1, 2, 3}, {0, 4, 5, 6}}, DType::f64));
  check_close(pad(zeros({0, 2}), {1, 1, 1, 1}, "constant", 3), full({2, 4}, 3.0));
}

OP_TEST("pad", "gradient") {
  auto padded = [](std::vector<int64_t> amounts) {
    return [amounts](const TensorList& t) { return TensorList{pad(t[0], amounts, "constant", 2)}; };
  };
  check_gradient(padded({1, 2}), {rand_leaf({2, 3}, 1)});
  check_gradient(padded({1, -1, -1, 2}), {rand_leaf({2, 3, 4}, 2)});
  check_gradient(padded({-2, -1, 0, 0, 1, 1}), {rand_leaf({2, 2, 4}, 3)});
  check_gradient(padded({-3, 0}), {rand_leaf({2, 3}, 4)});
  check_gradient(padded({1, 1}), {rand_leaf({0, 2}, 5)});
  check_gradient(
      [](const TensorList& t) {
        return TensorList{pad(t[0].t(), {1, -1, 2, 0})};
      },
      {rand_leaf({3, 2}, 6)});
  // second order: the backward is pad itself
  check_gradient(
      [](const TensorList& t) {
        EnableGradGuard grad_mode;
        Tensor y = pad(t[0], {1, -1});
        return autograd::grad({sum(mul(y, y))}, {t[0]}, {}, true, /*create_graph=*/true);
      },
      {rand_leaf({2, 3}, 7)});
}

OP_TEST("pad", "errors") {
  Tensor x = zeros({2, 3});
  check_error([&] { pad(x, {1, 2, 3}); }, {"pad", "[1, 2, 3]", "[2, 3]"});
  check_error([&] { pad(x, {1, 1, 1, 1, 1, 1}); }, {"pad", "[1, 1, 1, 1, 1, 1]", "[2, 3]"});
  check_error([&] { pad(x, {-2, -2}); }, {"pad", "[-2, -2]", "[2, 3]", "-1"});
  check_error([&] { pad(x, {1, 1}, "reflect"); }, {"pad", "reflect", "[2, 3]"});
}
