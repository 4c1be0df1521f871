#include "engine/ops/resampling.h"

#include <cmath>

#include "engine/autograd/node.h"
#include "engine/ops/catalog.h"
#include "engine/ops/dispatch.h"
#include "kernels/resampling_params.h"

namespace tutor {

using autograd::FunctionNode;
using kernels::InterpolateMode;
using kernels::InterpolateParams;
using ops::Kernel;

namespace {

// The linear map of interpolate (adjoint = false: [N, C, H, W] -> `out_shape`) or its adjoint
// (adjoint = true: the gradient of the output -> `out_shape` = the input's shape). Each is the
// other's backward, so derivatives of any order follow.
Tensor resample(const Tensor& x, const Shape& out_shape, const InterpolateParams& p, bool adjoint) {
  static const Kernel forward("interpolate"), backward("interpolate_backward");
  Tensor y = empty(out_shape, x.options());
  ops::dispatch(adjoint ? backward : forward, x.dtype(), {x}, {y}, &p);
  if (autograd::needs_grad({x}))
    autograd::record(adjoint ? "interpolate_backward" : "interpolate", {x}, {y},
                     [p, adjoint, in_shape = x.sizes()](const FunctionNode&, const TensorList& g) {
                       return TensorList{resample(g[0], in_shape, p, !adjoint)};
                     });
  return y;
}

InterpolateMode parse_mode(const std::string& mode, const Tensor& input) {
  if (mode == "nearest") return InterpolateMode::nearest;
  if (mode == "bilinear") return InterpolateMode::bilinear;
  if (mode == "bicubic") return InterpolateMode::bicubic;
  fail(
      "interpolate: unknown mode '{}' for input of shape {} (expected nearest, bilinear or "
      "bicubic)",
      mode, shape_str(input.sizes()));
}

// One value per spatial dim: a single value serves both.
template <class V>
std::vector<V> per_spatial_dim(const std::vector<V>& v) {
  return v.size() == 1 ? std::vector<V>{v[0], v[0]} : v;
}

}  // namespace

// out(n, c, oy, ox) = sum_{iy, ix} wy(oy, iy) wx(ox, ix) in(n, c, iy, ix) with the separable tap
// weights of PyTorch's upsample_{nearest,bilinear,bicubic}2d (kernels/reference/resampling.cpp);
// linear in the input, so the input gradient is the adjoint map applied to the output gradient.
Tensor interpolate(const Tensor& input, const std::vector<int64_t>& size,
                   const std::vector<double>& scale_factor, const std::string& mode,
                   std::optional<bool> align_corners) {
  ops::check_floating("interpolate", input);
  TUTOR_CHECK(input.dim() == 4, "interpolate: expected input of shape [N, C, H, W], got shape {}",
              shape_str(input.sizes()));
  InterpolateParams p{.mode = parse_mode(mode, input),
                      .align_corners = align_corners.value_or(false)};
  TUTOR_CHECK(!(align_corners && p.mode == InterpolateMode::nearest),
              "interpolate: align_corners can only be set with bilinear or bicubic, not {} (input "
              "shape {})",
              mode, shape_str(input.sizes()));
  TUTOR_CHECK(size.empty() != scale_factor.empty(),
              "interpolate: give exactly one of size and scale_factor (input shape {})",
              shape_str(input.sizes()));
  Shape out_shape = input.sizes();
  if (!size.empty()) {
    std::vector<int64_t> s = per_spatial_dim(size);
    TUTOR_CHECK(s.size() == 2,
                "interpolate: size {} should have 1 or 2 values for input of shape {}",
                shape_str(size), shape_str(input.sizes()));
    out_shape[2] = s[0], out_shape[3] = s[1];
  } else {
    std::vector<double> f = per_spatial_dim(scale_factor);
    TUTOR_CHECK(f.size() == 2 && f[0] > 0 && f[1] > 0,
                "interpolate: scale_factor [{}] should have 1 or 2 positive values for input of "
                "shape {}",
                fmt::join(scale_factor, ", "), shape_str(input.sizes()));
    p.scale_h = f[0], p.scale_w = f[1];
    out_shape[2] = int64_t(std::floor(double(input.size(2)) * f[0]));
    out_shape[3] = int64_t(std::floor(double(input.size(3)) * f[1]));
  }
  TUTOR_CHECK(input.size(2) > 0 && input.size(3) > 0 && out_shape[2] > 0 && out_shape[3] > 0,
              "interpolate: input {} and output {} should have positive spatial sizes",
              shape_str(input.sizes()), shape_str(out_shape));
  return resample(input, out_shape, p, /*adjoint=*/false);
}

// out[i] = input[i - before] where that lies inside the input, else value (F.pad, constant mode);
// the gradient is the output gradient cropped back: pad with the negated amounts.
Tensor pad(const Tensor& input, const std::vector<int64_t>& pads, const std::string& mode,
           double value) {
  static const Kernel k("pad");
  TUTOR_CHECK(mode == "constant", "pad: mode '{}' is not supported (only constant), input shape {}",
              mode, shape_str(input.sizes()));
  TUTOR_CHECK(pads.size() % 2 == 0 && int64_t(pads.size()) / 2 <= input.dim(),
              "pad: pad list {} should have an even length of at most 2 * {} for input of shape {}",
              shape_str(pads), input.dim(), shape_str(input.sizes()));
  const size_t nd = input.sizes().size();
  kernels::PadParams p{Shape(nd, 0), Shape(nd, 0), value};
  Shape out_shape = input.sizes();
  for (size_t i = 0; i < pads.size() / 2; ++i) {
    size_t d = nd - 1 - i;
    p.before[d] = pads[2 * i], p.after[d] = pads[2 * i + 1];
    out_shape[d] += p.before[d] + p.after[d];
    TUTOR_CHECK(out_shape[d] >= 0,
                "pad: pad list {} gives dim {} of input of shape {} a negative size {}",
                shape_str(pads), d, shape_str(input.sizes()), out_shape[d]);
  }
  Tensor y = empty(out_shape, input.options());
  ops::dispatch(k, input.dtype(), {input}, {y}, &p);
  if (input.is_floating_point() && autograd::needs_grad({input})) {
    std::vector<int64_t> negated(pads.size());
    for (size_t i = 0; i < pads.size(); ++i) negated[i] = -pads[i];
    autograd::record("pad", {input}, {y}, [negated](const FunctionNode&, const TensorList& g) {
      return TensorList{pad(g[0], negated)};
    });
  }
  return y;
}

void ops::add_resampling_ops(std::vector<OpInfo>& ops) {
  ops.push_back({"interpolate", true, {"interpolate", "interpolate_backward"}});
  ops.push_back({"pad", true, {"pad"}, {DType::f32, DType::f64, DType::i64}});
}

}  // namespace tutor
