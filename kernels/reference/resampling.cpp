// Reference resampling kernels: interpolate and its adjoint, and constant padding.
//
// Interpolation is separable: output pixel (oy, ox) = sum over taps (iy, wy) of row oy and (ix, wx)
// of column ox of wy * wx * input(iy, ix). The forward gathers through the taps; the backward
// ("interpolate_backward") scatters the gradient through the same taps, the adjoint map.
// Taps follow PyTorch's aten/src/ATen/native/UpSample.h, in the kernel's precision T:
//   scale      = align_corners ? (in - 1) / (out - 1) (0 if out == 1)
//                               : (user scale factor ? 1 / factor : in / out)
//   nearest    src = min(floor(dst * scale), in - 1), scale in f32, one tap of weight 1; but
//              src = dst when out == in and dst / 2 when out == 2 in, whatever the factor
//              (nearest_idx)
//   bilinear   src = align_corners ? dst * scale : max((dst + 0.5) * scale - 0.5, 0);
//              i0 = floor(src), i1 = min(i0 + 1, in - 1), taps (i0, 1 - t), (i1, t), t = src - i0
//   bicubic    src as bilinear but unclamped; i = floor(src), t = src - i; taps i-1 .. i+2 clamped
//              to [0, in - 1] (border replication) with Keys' cubic convolution weights, A = -0.75:
//                W(x) = ((A + 2) x - (A + 3)) x^2 + 1          for |x| <= 1
//                W(x) = ((A x - 5A) x + 8A) x - 4A              for 1 < |x| < 2
//              at distances t + 1, t, 1 - t, 2 - t.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/reference/loops.h"
#include "kernels/reference/reference.h"
#include "kernels/resampling_params.h"

namespace tutor::kernels::reference {

namespace {

struct Tap {
  int64_t index;
  double weight;
};

template <class T>
T cubic_near(T x, T A) {
  return ((A + 2) * x - (A + 3)) * x * x + 1;
}
template <class T>
T cubic_far(T x, T A) {
  return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
}

// The taps of every output position along one axis of input size `in` and output size `out`.
template <class T>
std::vector<std::vector<Tap>> axis_taps(const InterpolateParams& p, int64_t in, int64_t out,
                                        double factor) {
  std::vector<std::vector<Tap>> taps(static_cast<size_t>(out));
  if (p.mode == InterpolateMode::nearest) {
    float scale = factor > 0 ? float(1.0 / factor) : float(in) / float(out);
    for (int64_t o = 0; o < out; ++o) {
      int64_t i = out == in       ? o
                  : out == 2 * in ? o / 2
                                  : std::min(int64_t(std::floor(float(o) * scale)), in - 1);
      taps[size_t(o)] = {{i, 1.0}};
    }
    return taps;
  }
  T scale = p.align_corners ? (out > 1 ? T(in - 1) / T(out - 1) : T(0))
                            : (factor > 0 ? T(1.0 / factor) : T(in) / T(out));
  const bool cubic = p.mode == InterpolateMode::bicubic;
  for (int64_t o = 0; o < out; ++o) {
    T src = p.align_corners ? scale * T(o) : scale * (T(o) + T(0.5)) - T(0.5);
    if (!cubic && src < T(0)) src = T(0);
    int64_t i = int64_t(std::floor(src));
    T t = src - T(i);
    if (!cubic) {
      taps[size_t(o)] = {{i, double(T(1) - t)}, {std::min(i + 1, in - 1), double(t)}};
      continue;
    }
    const T A = T(-0.75);
    T w[4] = {cubic_far(t + T(1), A), cubic_near(t, A), cubic_near(T(1) - t, A),
              cubic_far(T(2) - t, A)};
    for (int64_t k = 0; k < 4; ++k)
      taps[size_t(o)].push_back({std::clamp<int64_t>(i - 1 + k, 0, in - 1), double(w[k])});
  }
  return taps;
}

// in[0]: input [N, C, H, W], out[0]: [N, C, OH, OW] (forward); or in[0]: gradient [N, C, OH, OW],
// out[0]: its adjoint image [N, C, H, W] (adjoint = true).
template <class T, bool adjoint>
void resample(const KernelArgs& a) {
  const auto& p = a.p<InterpolateParams>();
  Tensor src = a.in[0].contiguous_raw();
  const Tensor& dst = a.out[0];
  const Tensor& image = adjoint ? dst : src;      // the forward's input
  const Tensor& resampled = adjoint ? src : dst;  // the forward's output
  const int64_t planes = image.size(0) * image.size(1);
  const int64_t h = image.size(2), w = image.size(3);
  const int64_t oh = resampled.size(2), ow = resampled.size(3);
  auto rows = axis_taps<T>(p, h, oh, p.scale_h), cols = axis_taps<T>(p, w, ow, p.scale_w);

  const T* s = src.data<T>();
  T* d = dst.data<T>();
  std::vector<double> acc(size_t(dst.numel()), 0.0);
  for (int64_t pl = 0; pl < planes; ++pl)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (const Tap& ty : rows[size_t(oy)])
          for (const Tap& tx : cols[size_t(ox)]) {
            int64_t image_i = (pl * h + ty.index) * w + tx.index;
            int64_t resampled_i = (pl * oh + oy) * ow + ox;
            double weight = ty.weight * tx.weight;
            if constexpr (adjoint)
              acc[size_t(image_i)] += weight * double(s[resampled_i]);
            else
              acc[size_t(resampled_i)] += weight * double(s[image_i]);
          }
  for (size_t i = 0; i < acc.size(); ++i) d[i] = T(acc[i]);
}

template <class T>
void interpolate_kernel(const KernelArgs& a) {
  resample<T, false>(a);
}
template <class T>
void interpolate_backward_kernel(const KernelArgs& a) {
  resample<T, true>(a);
}

// out[0] = value everywhere, then the overlap of input and output copied at its shifted place.
template <class T>
void pad_kernel(const KernelArgs& a) {
  const auto& p = a.p<PadParams>();
  const Tensor& x = a.in[0];
  const Tensor& y = a.out[0];
  y.fill_raw_(p.value);
  Shape overlap(x.sizes().size());
  int64_t x_offset = x.offset(), y_offset = y.offset();
  for (size_t d = 0; d < overlap.size(); ++d) {
    int64_t x_start = std::max<int64_t>(-p.before[d], 0),
            y_start = std::max<int64_t>(p.before[d], 0);
    overlap[d] = std::max<int64_t>(0, std::min(x.sizes()[d] - x_start, y.sizes()[d] - y_start));
    x_offset += x_start * x.strides()[d];
    y_offset += y_start * y.strides()[d];
  }
  if (shape_numel(overlap) == 0) return;
  y.as_strided_raw(overlap, y.strides(), y_offset)
      .copy_raw_(x.as_strided_raw(overlap, x.strides(), x_offset));
}

}  // namespace

void register_resampling() {
  TUTOR_REGISTER_FLOATING("interpolate", interpolate_kernel);
  TUTOR_REGISTER_FLOATING("interpolate_backward", interpolate_backward_kernel);
  TUTOR_REGISTER_FLOATING("pad", pad_kernel);
  register_kernel("pad", Backend::reference, DType::i64, &pad_kernel<int64_t>);
}

}  // namespace tutor::kernels::reference
