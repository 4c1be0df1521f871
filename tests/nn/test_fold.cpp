// nn::fold_batch_norm: the folded conv's forward against conv -> eval-mode BatchNorm, the formula
// checked on a hand-sized case, the unfolded state left alone, and the refusals.
#include <doctest/doctest.h>

#include "engine/nn/nn.h"
#include "engine/ops/ops.h"
#include "support/backend_compare.h"
#include "support/op_test.h"

using namespace tutor;
using testing::check_close;
using testing::check_error;
using testing::randn_f32;

namespace {

// A BatchNorm with statistics and affine parameters far from their defaults, in eval mode.
void randomize(nn::BatchNorm& bn, uint64_t seed) {
  NoGradGuard no_grad;
  const int64_t c = bn.num_features;
  Generator gen(seed);
  bn.running_mean.copy_(randn({c}, DType::f32, &gen));
  bn.running_var.copy_(add(rand({c}, DType::f32, &gen), 0.2));
  if (bn.affine) {
    bn.weight.copy_(randn({c}, DType::f32, &gen));
    bn.bias.copy_(randn({c}, DType::f32, &gen));
  }
  bn.eps = 1e-3;
  bn.eval();
}

void check_folded_matches(nn::Conv2d& conv, nn::BatchNorm& bn, const Tensor& x) {
  NoGradGuard no_grad;
  conv.eval();
  const Tensor expected = bn.forward(conv.forward(x));
  nn::fold_batch_norm(conv, bn);
  const Tensor folded = bn.forward(conv.forward(x));
  CHECK(testing::nmse(folded, expected) <= testing::kBound);
}

}  // namespace

TEST_CASE("fold_batch_norm: conv with bias, groups, stride, dilation and padding") {
  nn::Conv2d conv(6, 9, {3, 2}, 2, {1, 2}, {2, 1}, 3, true);
  nn::BatchNorm2d bn(9);
  randomize(bn, 1);
  check_folded_matches(conv, bn, randn_f32({2, 6, 11, 13}, 2));
  CHECK(bn.folded());
}

TEST_CASE("fold_batch_norm: conv without bias, BatchNorm without affine, batch 1") {
  nn::Conv2d conv(4, 5, 3, 1, 1, 1, 1, false);
  nn::BatchNorm2d bn(5, 1e-5, 0.1, /*affine=*/false);
  randomize(bn, 3);
  check_folded_matches(conv, bn, randn_f32({1, 4, 7, 5}, 4));
  CHECK(conv.bias.defined());
}

TEST_CASE("fold_batch_norm: the formula by hand, and the state taken before is untouched") {
  // One 1x1 filter w = 2, bias 1; BN mean 3, var 3 (+ eps 1 = 4: s = gamma / 2), gamma 4, beta 5:
  // s = 2, W' = 4, b' = (1 - 3) * 2 + 5 = 1.
  nn::Conv2d conv(1, 1, 1);
  nn::BatchNorm2d bn(1, /*eps=*/1.0);
  {
    NoGradGuard no_grad;
    conv.weight.fill_(2.0);
    conv.bias.fill_(1.0);
    bn.running_mean.fill_(3.0);
    bn.running_var.fill_(3.0);
    bn.weight.fill_(4.0);
    bn.bias.fill_(5.0);
  }
  const NamedTensors before = conv.state_dict();
  const Tensor old_weight = conv.weight;
  conv.eval();
  bn.eval();
  nn::fold_batch_norm(conv, bn);
  check_close(conv.weight, full({1, 1, 1, 1}, 4.0));
  check_close(conv.bias, full({1}, 1.0));
  check_close(conv.tensor_at("weight"), full({1, 1, 1, 1}, 4.0));
  check_close(old_weight, full({1, 1, 1, 1}, 2.0));
  check_close(before[0].second, full({1, 1, 1, 1}, 2.0));
  check_close(before[1].second, full({1}, 1.0));
  CHECK(conv.weight.requires_grad());
  CHECK(conv.weight.is_leaf());
}

TEST_CASE("fold_batch_norm: refusals") {
  nn::Conv2d conv(2, 3, 1);
  nn::BatchNorm2d bn(3);
  check_error([&] { nn::fold_batch_norm(conv, bn); },
              {"fold_batch_norm", "Conv2d", "BatchNorm2d", "evaluation mode"});
  conv.eval();
  nn::BatchNorm2d wrong(4);
  wrong.eval();
  check_error([&] { nn::fold_batch_norm(conv, wrong); }, {"fold_batch_norm", "4", "3"});
  nn::BatchNorm2d no_stats(3, 1e-5, 0.1, true, /*track_running_stats=*/false);
  no_stats.eval();
  check_error([&] { nn::fold_batch_norm(conv, no_stats); },
              {"fold_batch_norm", "track_running_stats"});
  bn.eval();
  nn::fold_batch_norm(conv, bn);
  check_error([&] { nn::fold_batch_norm(conv, bn); }, {"fold_batch_norm", "already folded"});
  bn.train();
  check_error([&] { bn.forward(zeros({1, 3, 2, 2})); }, {"BatchNorm2d", "folded", "training"});
}

TEST_CASE("Module::replace_parameter: swaps a slot, absent ones included; unknown names throw") {
  nn::Linear fc(2, 3, /*bias=*/false);
  CHECK(fc.state_dict().size() == 1);
  Tensor b = fc.replace_parameter("bias", zeros({3}));
  CHECK(fc.state_dict().size() == 2);
  CHECK(b.requires_grad());
  check_error([&] { fc.replace_parameter("gamma", zeros({3})); }, {"Linear", "gamma"});
}
