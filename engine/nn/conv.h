// torch.nn.Conv2d and ConvTranspose2d over NCHW tensors (zero padding). A 3-D input [C, H, W] is
// an unbatched sample, as in PyTorch.
#pragma once

#include "engine/nn/module.h"
#include "engine/ops/conv_pool.h"

namespace tutor::nn {

// What the two convolutions share (PyTorch's _ConvNd): hyper-parameters, parameters, their
// initialization and the repr.
class ConvBase2d : public Module {
 public:
  // PyTorch's reset_parameters: weight ~ kaiming_uniform_(a = sqrt(5)), i.e.
  // U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = weight.size(1) * kH * kW, and the bias from
  // the same uniform. (For ConvTranspose2d, weight.size(1) is out_channels / groups: PyTorch's
  // choice.)
  void reset_parameters();

  const int64_t in_channels, out_channels;
  const Size2 kernel_size, stride, padding, dilation, output_padding;
  const int64_t groups;
  Tensor weight, bias;

 protected:
  ConvBase2d(std::string type_name, bool transposed, int64_t in_channels, int64_t out_channels,
             Size2 kernel_size, Size2 stride, Size2 padding, Size2 dilation, Size2 output_padding,
             int64_t groups, bool bias);
  std::string extra_repr() const override;
  // Checks x is [N, in_channels, H, W] or unbatched [in_channels, H, W]; returns it batched.
  Tensor batched_input(const Tensor& x) const;
};

class Conv2d : public ConvBase2d {
 public:
  // weight [out_channels, in_channels / groups, kH, kW], then bias [out_channels].
  Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Size2 stride = 1,
         Size2 padding = 0, Size2 dilation = 1, int64_t groups = 1, bool bias = true);
  Tensor forward(const Tensor& x) override;
};

class ConvTranspose2d : public ConvBase2d {
 public:
  // weight [in_channels, out_channels / groups, kH, kW], then bias [out_channels]. The argument
  // order is PyTorch's (dilation last).
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Size2 stride = 1,
                  Size2 padding = 0, Size2 output_padding = 0, int64_t groups = 1, bool bias = true,
                  Size2 dilation = 1);
  Tensor forward(const Tensor& x) override;
};

}  // namespace tutor::nn
