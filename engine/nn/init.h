// Parameter initializers with torch.nn.init's names, formulas and defaults. Each fills `t` in
// place (without autograd, bumping its version) from `gen` (the default generator when null) and
// returns it. The streams differ from PyTorch's; the distributions are the same.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "engine/core/rng.h"
#include "engine/core/tensor.h"

namespace tutor::nn::init {

// {fan_in, fan_out} of a weight with at least 2 dims: fan_in = size(1) * receptive field,
// fan_out = size(0) * receptive field, receptive field = product of the dims after the second
// (torch.nn.init._calculate_fan_in_and_fan_out; so a ConvTranspose2d weight [in, out/groups, k, k]
// has fan_in = out/groups * k * k, as in PyTorch).
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t);

// The recommended gain for a nonlinearity (torch.nn.init.calculate_gain): "linear", "conv*",
// "sigmoid": 1; "tanh": 5/3; "relu": sqrt(2); "leaky_relu": sqrt(2 / (1 + param^2)) with param
// the negative slope (0.01 when not given, as PyTorch); "selu": 3/4.
double calculate_gain(const std::string& nonlinearity, std::optional<double> param = {});

const Tensor& uniform_(const Tensor& t, double a = 0, double b = 1, Generator* gen = nullptr);
const Tensor& normal_(const Tensor& t, double mean = 0, double std = 1, Generator* gen = nullptr);
const Tensor& constant_(const Tensor& t, double value);
const Tensor& zeros_(const Tensor& t);
const Tensor& ones_(const Tensor& t);

// U(-bound, bound), bound = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a), fan =
// fan_in or fan_out by `mode` (He et al. 2015). With a = sqrt(5) and leaky_relu (how Linear and
// Conv2d reset their weights) the bound is 1 / sqrt(fan_in).
const Tensor& kaiming_uniform_(const Tensor& t, double a = 0, const std::string& mode = "fan_in",
                               const std::string& nonlinearity = "leaky_relu",
                               Generator* gen = nullptr);
// N(0, std^2), std = gain / sqrt(fan).
const Tensor& kaiming_normal_(const Tensor& t, double a = 0, const std::string& mode = "fan_in",
                              const std::string& nonlinearity = "leaky_relu",
                              Generator* gen = nullptr);
// U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010).
const Tensor& xavier_uniform_(const Tensor& t, double gain = 1, Generator* gen = nullptr);
// N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out)).
const Tensor& xavier_normal_(const Tensor& t, double gain = 1, Generator* gen = nullptr);

// N(mean, std^2) truncated to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_ and timm).
// Sampling by inversion, as PyTorch and timm: with Phi the standard normal CDF,
// l = Phi((a - mean) / std), u = Phi((b - mean) / std), each element is
// mean + std * sqrt(2) * erfinv(2 U(l, u) - 1), clamped to [a, b] against rounding. Computed in
// f64 (erfinv by Newton's method on std::erf), then converted to t's dtype.
const Tensor& trunc_normal_(const Tensor& t, double mean = 0, double std = 1, double a = -2,
                            double b = 2, Generator* gen = nullptr);

}  // namespace tutor::nn::init
