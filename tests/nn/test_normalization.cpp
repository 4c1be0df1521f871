// BatchNorm1d/2d, FrozenBatchNorm2d, LayerNorm, GroupNorm: PyTorch's names, reprs and defaults;
// running statistics and num_batches_tracked; forward by hand and against the functional ops;
// gradients; errors naming the layer.
#include <doctest/doctest.h>

#include "nn_test.h"

using namespace tutor;
using testing::check_close;
using testing::state_listing;

TEST_CASE("BatchNorm: names, shapes and reprs as PyTorch") {
  // print(m) and the state_dict listing of nn.BatchNorm1d(4),
  // nn.BatchNorm2d(4, affine=False, track_running_stats=False), nn.BatchNorm2d(4, momentum=None)
  nn::BatchNorm1d a(4);
  CHECK(state_listing(a) == std::vector<std::string>{"weight [4] f32", "bias [4] f32",
                                                     "running_mean [4] f32", "running_var [4] f32",
                                                     "num_batches_tracked [] i64"});
  CHECK(a.str() ==
        "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
  nn::BatchNorm2d b(4, 1e-5, 0.1, false, false);
  CHECK(state_listing(b).empty());
  CHECK(b.str() ==
        "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)");
  nn::BatchNorm2d c(4, 1e-5, std::nullopt);
  CHECK(c.str() ==
        "BatchNorm2d(4, eps=1e-05, momentum=None, affine=True, track_running_stats=True)");
  CHECK(a.weight.to_vector<float>() == std::vector<float>{1, 1, 1, 1});
  CHECK(a.bias.to_vector<float>() == std::vector<float>{0, 0, 0, 0});
  CHECK(a.running_var.to_vector<float>() == std::vector<float>{1, 1, 1, 1});
  CHECK(a.named_parameters().size() == 2);
  CHECK(!a.running_mean.requires_grad());
}

TEST_CASE("BatchNorm: training by hand, running statistics with momentum 0.1") {
  nn::BatchNorm1d bn(2);
  // column 0: 1 2 3 4 (mean 2.5, biased var 1.25, unbiased 5/3); column 1: 0 0 2 2 (1, 1, 4/3)
  Tensor x = tensor({{1, 0}, {2, 0}, {3, 2}, {4, 2}});
  Tensor y = bn(x);
  const double eps = 1e-5;
  std::vector<double> expected;
  for (double r : {1, 2, 3, 4})
    for (int c = 0; c < 2; ++c) {
      double v = c == 0 ? r : (r <= 2 ? 0 : 2);
      expected.push_back(c == 0 ? (v - 2.5) / std::sqrt(1.25 + eps) : (v - 1) / std::sqrt(1 + eps));
    }
  check_close(y, from_vector(expected, {4, 2}), 1e-6, 1e-5);
  check_close(bn.running_mean, tensor({0.25, 0.1}));
  check_close(bn.running_var, tensor({0.9 + 0.1 * 5 / 3.0, 0.9 + 0.1 * 4 / 3.0}));
  CHECK(bn.num_batches_tracked.item<int64_t>() == 1);
  CHECK(bn.num_batches_tracked.dim() == 0);
  bn(x);
  check_close(bn.running_mean, tensor({0.25 * 0.9 + 0.25, 0.1 * 0.9 + 0.1}));
  CHECK(bn.num_batches_tracked.item<int64_t>() == 2);

  // Evaluation: the running statistics, and nothing changes.
  bn.eval();
  {
    NoGradGuard g;
    bn.weight.copy_(tensor({2, 1}));
    bn.bias.copy_(tensor({0, 1}));
  }
  Tensor rm = bn.running_mean.clone(), rv = bn.running_var.clone();
  Tensor e = bn(x);
  Tensor by_hand = (x - rm) / sqrt(rv + eps) * tensor({2, 1}) + tensor({0, 1});
  check_close(e, by_hand);
  CHECK(bn.num_batches_tracked.item<int64_t>() == 2);
  check_close(bn.running_mean, rm, 0, 0);
}

TEST_CASE("BatchNorm: momentum None keeps a cumulative average") {
  nn::BatchNorm1d bn(1, 1e-5, std::nullopt);
  bn(tensor({{1}, {3}}));  // mean 2, unbiased var 2
  check_close(bn.running_mean, tensor({2}));
  check_close(bn.running_var, tensor({2}));
  bn(tensor({{5}, {5}, {8}}));  // mean 6, unbiased var 3
  check_close(bn.running_mean, tensor({4}));
  check_close(bn.running_var, tensor({2.5}));
  bn(tensor({{0}, {0}}));  // mean 0, var 0: the average of three batches
  check_close(bn.running_mean, tensor({(2 + 6 + 0) / 3.0}));
  CHECK(bn.num_batches_tracked.item<int64_t>() == 3);
}

TEST_CASE("BatchNorm: without running statistics evaluation uses the batch's") {
  nn::BatchNorm2d bn(3, 1e-5, 0.1, true, false);
  bn.eval();
  Tensor x = testing::rand_leaf({2, 3, 2, 2}).detach().to(DType::f32);
  check_close(bn(x), batch_norm(x, Tensor(), Tensor(), bn.weight, bn.bias, true), 1e-6, 1e-5);
}

TEST_CASE("BatchNorm: BatchNorm2d against batch_norm(), gradients, round trip") {
  nn::BatchNorm2d bn(2);
  {
    NoGradGuard g;
    bn.weight.copy_(tensor({0.5, 2}));
    bn.bias.copy_(tensor({1, -1}));
  }
  Tensor x = testing::rand_leaf({3, 2, 2, 3}).detach().to(DType::f32);
  Tensor rm = zeros({2}), rv = ones({2});
  check_close(bn(x), batch_norm(x, rm, rv, bn.weight, bn.bias, true, 0.1, 1e-5));
  check_close(bn.running_mean, rm);
  check_close(bn.running_var, rv);

  nn::BatchNorm2d copy(2);
  copy.load_state_dict(bn.state_dict());
  CHECK(copy.num_batches_tracked.item<int64_t>() == 1);
  copy.eval();
  bn.eval();
  check_close(copy(x), bn(x), 0, 0);

  nn::BatchNorm2d g(2);
  testing::check_module_gradient(g, testing::rand_leaf({3, 2, 2, 2}));
  g.eval();
  testing::check_module_gradient(g, testing::rand_leaf({3, 2, 2, 2}, 4));
}

TEST_CASE("BatchNorm: errors name the layer and leave the count alone") {
  nn::BatchNorm2d bn(4);
  testing::check_error(
      [&] {
        bn(ones({2, 4, 3}));
      },
      {"BatchNorm2d(4, eps=1e-05", "4D", "[2, 4, 3]"});
  testing::check_error(
      [&] {
        bn(ones({2, 3, 2, 2}));
      },
      {"BatchNorm2d", "3 channels", "expected 4"});
  nn::BatchNorm1d one(2);
  testing::check_error(
      [&] {
        one(ones({2, 2, 2, 2}));
      },
      {"BatchNorm1d", "2D or 3D", "[2, 2, 2, 2]"});
  CHECK(bn.num_batches_tracked.item<int64_t>() == 0);
  testing::check_error([] { nn::BatchNorm1d(0); }, {"BatchNorm1d", "num_features"});
}

TEST_CASE("FrozenBatchNorm2d: torchvision's names and formula, and BatchNorm checkpoints load") {
  // torchvision.ops.FrozenBatchNorm2d(4): print(m) and the state_dict listing
  nn::FrozenBatchNorm2d fbn(2);
  CHECK(state_listing(fbn) == std::vector<std::string>{"weight [2] f32", "bias [2] f32",
                                                       "running_mean [2] f32",
                                                       "running_var [2] f32"});
  CHECK(fbn.str() == "FrozenBatchNorm2d(2, eps=1e-05)");
  CHECK(fbn.num_parameters() == 0);

  // Load a trained BatchNorm2d's state, num_batches_tracked included.
  nn::BatchNorm2d bn(2);
  {
    NoGradGuard g;
    bn.weight.copy_(tensor({2, 0.5}));
    bn.bias.copy_(tensor({1, 0}));
    bn.running_mean.copy_(tensor({1, -1}));
    bn.running_var.copy_(tensor({4, 0.25}));
    bn.num_batches_tracked.fill_(7);
  }
  CHECK(fbn.load_state_dict(bn.state_dict()).ok());
  Tensor x = tensor({{{{3}}, {{1}}}});  // [1, 2, 1, 1]
  // channel 0: (3 - 1) * 2 / sqrt(4 + eps) + 1; channel 1: (1 + 1) * 0.5 / sqrt(0.25 + eps)
  const double eps = 1e-5;
  check_close(fbn(x), from_vector(std::vector<double>{2 * 2 / std::sqrt(4 + eps) + 1,
                                                      2 * 0.5 / std::sqrt(0.25 + eps)},
                                  {1, 2, 1, 1}));
  // The same in training mode, and the same as BatchNorm2d in evaluation.
  Tensor big = testing::rand_leaf({2, 2, 3, 3}).detach().to(DType::f32);
  bn.eval();
  check_close(fbn(big), bn(big), 1e-6, 1e-5);
  fbn.train();
  check_close(fbn(big), bn(big), 1e-6, 1e-5);
  testing::check_error([&] { fbn(ones({1, 3, 2, 2})); }, {"FrozenBatchNorm2d", "[N, 2, H, W]"});
}

TEST_CASE("LayerNorm: names, repr, forward by hand, gradients, errors") {
  // nn.LayerNorm(8) and nn.LayerNorm([2, 3], elementwise_affine=False)
  nn::LayerNorm a(8);
  nn::LayerNorm b({2, 3}, 1e-5, false);
  CHECK(state_listing(a) == std::vector<std::string>{"weight [8] f32", "bias [8] f32"});
  CHECK(state_listing(b).empty());
  CHECK(a.str() == "LayerNorm((8,), eps=1e-05, elementwise_affine=True)");
  CHECK(b.str() == "LayerNorm((2, 3), eps=1e-05, elementwise_affine=False)");

  nn::LayerNorm ln(3);
  {
    NoGradGuard g;
    ln.weight.copy_(tensor({1, 2, 3}));
    ln.bias.fill_(1);
  }
  // [1, 2, 3]: mean 2, biased var 2/3
  double s = 1 / std::sqrt(2 / 3.0 + 1e-5);
  check_close(ln(tensor({1, 2, 3})), from_vector(std::vector<double>{1 - s, 1, 1 + 3 * s}));
  Tensor x = testing::rand_leaf({2, 2, 3}).detach().to(DType::f32);
  check_close(b(x), layer_norm(x, {2, 3}));
  testing::check_module_gradient(ln, testing::rand_leaf({4, 3}));
  testing::check_error([&] { a(ones({2, 7})); }, {"LayerNorm((8,)", "[2, 7]", "[8]"});
}

TEST_CASE("GroupNorm: names, repr, forward by hand, gradients, errors") {
  // nn.GroupNorm(2, 4)
  nn::GroupNorm gn(2, 4);
  CHECK(state_listing(gn) == std::vector<std::string>{"weight [4] f32", "bias [4] f32"});
  CHECK(gn.str() == "GroupNorm(2, 4, eps=1e-05, affine=True)");

  // One sample [1, 4]: groups {1, 3} and {10, 14}, each mean +-1 / +-2 around its mean.
  Tensor y = gn(tensor({{1, 3, 10, 14}}));
  double a = 1 / std::sqrt(1 + 1e-5), b = 2 / std::sqrt(4 + 1e-5);
  check_close(y, from_vector(std::vector<double>{-a, a, -b, b}, {1, 4}));
  Tensor x = testing::rand_leaf({2, 4, 3}).detach().to(DType::f32);
  check_close(gn(x), group_norm(x, 2, gn.weight, gn.bias));
  nn::GroupNorm g(2, 4);
  testing::check_module_gradient(g, testing::rand_leaf({2, 4, 2}));
  testing::check_error([] { nn::GroupNorm(3, 4); },
                       {"GroupNorm", "num_channels (4)", "num_groups (3)"});
  testing::check_error([&] { gn(ones({2, 6})); }, {"GroupNorm(2, 4", "[N, 4, *]", "[2, 6]"});
}
