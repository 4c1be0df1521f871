// Linear, Conv2d and ConvTranspose2d: PyTorch's names, shapes, reprs and initialization; forward
// against the functional ops and by hand; gradients; errors naming the layer.
#include <doctest/doctest.h>

#include "nn_test.h"

using namespace tutor;
using testing::moments;
using testing::state_listing;

namespace {

// Checks U(-b, b) with b = 1/sqrt(fan_in) for a parameter: the bounds, and the variance b^2/3 when
// there are enough values to tell.
void check_fan_in_uniform(const Tensor& t, int64_t fan_in) {
  const double b = 1 / std::sqrt(double(fan_in));
  auto m = moments(t);
  CHECK(m.min >= -b);
  CHECK(m.max <= b);
  if (t.numel() >= 20000) {
    CHECK(m.max > 0.99 * b);
    CHECK(std::fabs(m.var / (b * b / 3) - 1) < 0.05);
  }
}

}  // namespace

TEST_CASE("Linear: names, shapes and repr as PyTorch") {
  // for b in (True, False): m = nn.Linear(4, 2, bias=b); print(m); m.state_dict() listing
  nn::Linear with_bias(4, 2), without(4, 2, false);
  CHECK(state_listing(with_bias) == std::vector<std::string>{"weight [2, 4] f32", "bias [2] f32"});
  CHECK(state_listing(without) == std::vector<std::string>{"weight [2, 4] f32"});
  CHECK(with_bias.str() == "Linear(in_features=4, out_features=2, bias=True)");
  CHECK(without.str() == "Linear(in_features=4, out_features=2, bias=False)");
  CHECK(with_bias.weight.requires_grad());
}

TEST_CASE("Linear: forward by hand and against linear()") {
  nn::Linear fc(2, 3);
  {
    NoGradGuard g;
    fc.weight.copy_(tensor({{1, 2}, {3, 4}, {5, 6}}));
    fc.bias.copy_(tensor({1, 0, -1}));
  }
  CHECK(fc(tensor({{1, 1}})).to_vector<float>() == std::vector<float>{4, 7, 10});
  Tensor x = testing::rand_leaf({2, 5, 2}).detach().to(DType::f32);
  Tensor y = fc(x);
  CHECK(y.sizes() == Shape{2, 5, 3});
  testing::check_close(y, linear(x, fc.weight, fc.bias));
}

TEST_CASE("Linear: reset_parameters draws U(-1/sqrt(in), 1/sqrt(in))") {
  manual_seed(1);
  nn::Linear fc(50, 4000);
  check_fan_in_uniform(fc.weight, 50);
  check_fan_in_uniform(fc.bias, 50);
  CHECK(moments(fc.bias).max > 0.9 / std::sqrt(50.0));
}

TEST_CASE("Linear: gradients, state_dict round trip, errors") {
  nn::Linear fc(3, 2);
  testing::check_module_gradient(fc, testing::rand_leaf({4, 3}));

  nn::Linear a(3, 2), b(3, 2);
  b.load_state_dict(a.state_dict());
  Tensor x = ones({1, 3});
  CHECK(a(x).to_vector<float>() == b(x).to_vector<float>());

  nn::Linear g(4, 2);
  testing::check_error(
      [&] {
        g(ones({3, 5}));
      },
      {"Linear(in_features=4, out_features=2, bias=True)", "[3, 5]", "in_features = 4"});
  testing::check_error([] { nn::Linear(-1, 2); }, {"Linear", "in_features (-1)"});
}

TEST_CASE("Conv2d: names, shapes and repr as PyTorch") {
  // print(m) and the state_dict listing of nn.Conv2d(3, 8, 3, stride=2, padding=1) and
  // nn.Conv2d(4, 8, (3, 1), groups=2, bias=False, dilation=2)
  nn::Conv2d a(3, 8, 3, 2, 1);
  nn::Conv2d b(4, 8, {3, 1}, 1, 0, 2, 2, false);
  CHECK(state_listing(a) == std::vector<std::string>{"weight [8, 3, 3, 3] f32", "bias [8] f32"});
  CHECK(state_listing(b) == std::vector<std::string>{"weight [8, 2, 3, 1] f32"});
  CHECK(a.str() == "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))");
  CHECK(b.str() ==
        "Conv2d(4, 8, kernel_size=(3, 1), stride=(1, 1), dilation=(2, 2), groups=2, bias=False)");
}

TEST_CASE("ConvTranspose2d: names, shapes and repr as PyTorch") {
  // nn.ConvTranspose2d(3, 8, 3, stride=2, padding=1, output_padding=1), nn.ConvTranspose2d(4, 8,
  // 2, groups=2)
  nn::ConvTranspose2d a(3, 8, 3, 2, 1, 1);
  nn::ConvTranspose2d b(4, 8, 2, 1, 0, 0, 2);
  CHECK(state_listing(a) == std::vector<std::string>{"weight [3, 8, 3, 3] f32", "bias [8] f32"});
  CHECK(state_listing(b) == std::vector<std::string>{"weight [4, 4, 2, 2] f32", "bias [8] f32"});
  CHECK(a.str() ==
        "ConvTranspose2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
        "output_padding=(1, 1))");
  CHECK(b.str() == "ConvTranspose2d(4, 8, kernel_size=(2, 2), stride=(1, 1), groups=2)");
}

TEST_CASE("Conv2d: forward against conv2d(), by hand, and unbatched") {
  nn::Conv2d conv(2, 4, 3, 1, 1, 1, 2);
  Tensor x = testing::rand_leaf({2, 2, 5, 5}).detach().to(DType::f32);
  Tensor y = conv(x);
  testing::check_close(y, conv2d(x, conv.weight, conv.bias, 1, 1, 1, 2));
  testing::check_close(conv(x.select(0, 1)), y.select(0, 1));

  // A 1x1 convolution is a per-pixel Linear: y[o] = sum_c w[o, c] x[c] + b[o]
  nn::Conv2d point(2, 1, 1);
  {
    NoGradGuard g;
    point.weight.copy_(tensor({{{{2}}, {{-1}}}}));
    point.bias.fill_(0.5);
  }
  Tensor p = tensor({{{{1, 2}}, {{3, 5}}}});  // [1, 2, 1, 2]
  CHECK(point(p).to_vector<float>() == std::vector<float>{2 - 3 + 0.5, 4 - 5 + 0.5});
}

TEST_CASE("ConvTranspose2d: forward against conv_transpose2d() and output size") {
  nn::ConvTranspose2d up(3, 2, 3, 2, 1, 1);
  Tensor x = testing::rand_leaf({1, 3, 4, 4}).detach().to(DType::f32);
  Tensor y = up(x);
  // (H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1 = 3*2 - 2 + 2 + 1 + 1
  CHECK(y.sizes() == Shape{1, 2, 8, 8});
  testing::check_close(y, conv_transpose2d(x, up.weight, up.bias, 2, 1, 1));
}

TEST_CASE("Conv2d: reset_parameters draws U(-1/sqrt(fan_in), 1/sqrt(fan_in))") {
  manual_seed(2);
  nn::Conv2d conv(4, 1024, 3);  // fan_in 4 * 9
  check_fan_in_uniform(conv.weight, 36);
  check_fan_in_uniform(conv.bias, 36);
  // PyTorch computes ConvTranspose2d's fan_in from weight.size(1) = out / groups: 8 * 9 here.
  nn::ConvTranspose2d up(4, 16, 3, 1, 0, 0, 2);
  check_fan_in_uniform(up.weight, 72);
  check_fan_in_uniform(up.bias, 72);
  CHECK(moments(up.weight).max > 0.5 / std::sqrt(36.0));  // wider than 1/sqrt(in * 9) would be
}

TEST_CASE("Conv2d: gradients over input, weight and bias") {
  nn::Conv2d conv(2, 2, {2, 3}, 1, {1, 0}, 1, 1);
  testing::check_module_gradient(conv, testing::rand_leaf({1, 2, 3, 4}));
  nn::ConvTranspose2d up(2, 2, 2, 2);
  testing::check_module_gradient(up, testing::rand_leaf({1, 2, 2, 2}, 3));
}

TEST_CASE("Conv2d: errors name the layer and the shapes") {
  nn::Conv2d conv(3, 8, 3);
  testing::check_error(
      [&] {
        conv(ones({1, 4, 5, 5}));
      },
      {"Conv2d(3, 8, kernel_size=(3, 3)", "[N, 3, H, W]", "[1, 4, 5, 5]"});
  testing::check_error([&] { conv(ones({5, 5})); }, {"Conv2d", "[5, 5]"});
  testing::check_error([] { nn::Conv2d(3, 8, 3, 1, 0, 1, 2); },
                       {"Conv2d", "in_channels (3)", "groups (2)"});
  testing::check_error([] { nn::ConvTranspose2d(4, 8, 0); },
                       {"ConvTranspose2d", "kernel_size (0, 0)"});
}
