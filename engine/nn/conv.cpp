#include "engine/nn/conv.h"

#include <cmath>

#include "engine/nn/init.h"
#include "engine/nn/linear.h"
#include "engine/nn/repr.h"

namespace tutor::nn {

namespace {

bool all_are(Size2 s, int64_t v) { return s.h == v && s.w == v; }
std::string tuple(Size2 s) { return py_tuple({s.h, s.w}); }

}  // namespace

ConvBase2d::ConvBase2d(std::string type_name, bool transposed, int64_t in, int64_t out,
                       Size2 kernel, Size2 stride_, Size2 padding_, Size2 dilation_,
                       Size2 output_padding_, int64_t groups_, bool with_bias)
    : Module(std::move(type_name)),
      in_channels(in),
      out_channels(out),
      kernel_size(kernel),
      stride(stride_),
      padding(padding_),
      dilation(dilation_),
      output_padding(output_padding_),
      groups(groups_) {
  const std::string& name = this->type_name();
  TUTOR_CHECK(groups > 0, "{}: groups must be positive, got {}", name, groups);
  TUTOR_CHECK(in > 0 && out > 0 && in % groups == 0 && out % groups == 0,
              "{}: in_channels ({}) and out_channels ({}) must be positive multiples of groups "
              "({})",
              name, in, out, groups);
  TUTOR_CHECK(kernel.h > 0 && kernel.w > 0 && stride.h > 0 && stride.w > 0 && dilation.h > 0 &&
                  dilation.w > 0 && padding.h >= 0 && padding.w >= 0 && output_padding.h >= 0 &&
                  output_padding.w >= 0,
              "{}: kernel_size {}, stride {} and dilation {} must be positive and padding {}, "
              "output_padding {} non-negative",
              name, tuple(kernel), tuple(stride), tuple(dilation), tuple(padding),
              tuple(output_padding));
  Shape shape = transposed ? Shape{in, out / groups, kernel.h, kernel.w}
                           : Shape{out, in / groups, kernel.h, kernel.w};
  weight = register_parameter("weight", empty(shape));
  bias = register_parameter("bias", with_bias ? empty({out}) : Tensor());
  reset_parameters();
}

void ConvBase2d::reset_parameters() {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) init_bias_from_fan_in(bias, weight);
}

// PyTorch's _ConvNd.extra_repr: the non-default entries only.
std::string ConvBase2d::extra_repr() const {
  std::string s = fmt::format("{}, {}, kernel_size={}, stride={}", in_channels, out_channels,
                              tuple(kernel_size), tuple(stride));
  if (!all_are(padding, 0)) s += fmt::format(", padding={}", tuple(padding));
  if (!all_are(dilation, 1)) s += fmt::format(", dilation={}", tuple(dilation));
  if (!all_are(output_padding, 0)) s += fmt::format(", output_padding={}", tuple(output_padding));
  if (groups != 1) s += fmt::format(", groups={}", groups);
  if (!bias.defined()) s += ", bias=False";
  return s;
}

Tensor ConvBase2d::batched_input(const Tensor& x) const {
  TUTOR_CHECK(
      (x.dim() == 4 && x.size(1) == in_channels) || (x.dim() == 3 && x.size(0) == in_channels),
      "{}: expected input [N, {}, H, W] or [{}, H, W], got shape {}", str(), in_channels,
      in_channels, shape_str(x.sizes()));
  return x.dim() == 3 ? x.unsqueeze(0) : x;
}

Conv2d::Conv2d(int64_t in, int64_t out, Size2 kernel, Size2 stride_, Size2 padding_,
               Size2 dilation_, int64_t groups_, bool with_bias)
    : ConvBase2d("Conv2d", false, in, out, kernel, stride_, padding_, dilation_, 0, groups_,
                 with_bias) {}

Tensor Conv2d::forward(const Tensor& x) {
  Tensor y = conv2d(batched_input(x), weight, bias, stride, padding, dilation, groups);
  return x.dim() == 3 ? y.squeeze(0) : y;
}

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, Size2 kernel, Size2 stride_,
                                 Size2 padding_, Size2 output_padding_, int64_t groups_,
                                 bool with_bias, Size2 dilation_)
    : ConvBase2d("ConvTranspose2d", true, in, out, kernel, stride_, padding_, dilation_,
                 output_padding_, groups_, with_bias) {}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  Tensor y = conv_transpose2d(batched_input(x), weight, bias, stride, padding, output_padding,
                              groups, dilation);
  return x.dim() == 3 ? y.squeeze(0) : y;
}

}  // namespace tutor::nn
