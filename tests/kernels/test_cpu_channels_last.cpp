// The channels-last paths of the CPU kernels (conv2d on oneDNN with nhwc activations, batch_norm,
// pooling, and the element-wise loops) against the reference backend, which runs NCHW
// (support/backend_compare.h: outputs and input gradients by normalized MSE <= 1e-7). Each case
// converts its input to channels-last inside the differentiated function, and runs the backward
// from a contiguous and from a channels-last output gradient, so mixed layouts meet in every
// backward kernel. Then a whole ResNet trained channels-last against the same ResNet in NCHW.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/ops/dispatch.h"
#include "engine/ops/ops.h"
#include "engine/optim/sgd.h"
#include "models/registry.h"
#include "support/backend_compare.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

constexpr MemoryFormat kCL = MemoryFormat::ChannelsLast;

Tensor cl(const Tensor& t) { return t.contiguous(kCL); }

// `c` twice: the backward from a contiguous output gradient and from a channels-last one.
void add_both_grads(std::vector<Case>& cases, Case c) {
  cases.push_back(c);
  c.name += ", channels-last gradient";
  c.grad_format = kCL;
  cases.push_back(std::move(c));
}

// Odd sizes, batch 1, C = 1 and large C.
const std::vector<Shape> kShapes = {
    {8, 16, 14, 14}, {3, 5, 7, 9}, {1, 7, 13, 1}, {4, 1, 9, 8}, {2, 384, 5, 3}};

}  // namespace

TEST_CASE("channels last: layout-aware ops keep channels-last on the cpu backend") {
  Tensor x = cl(randn_f32({2, 8, 6, 5}, 1));
  Tensor w = randn_f32({12, 8, 3, 3}, 2);
  REQUIRE(x.suggest_memory_format() == kCL);
  Tensor y = conv2d(x, w, {}, 1, 1);
  CHECK(y.suggest_memory_format() == kCL);
  CHECK(batch_norm(y, {}, {}, {}, {}, true).suggest_memory_format() == kCL);
  CHECK(relu(y).suggest_memory_format() == kCL);
  CHECK(add(y, y).suggest_memory_format() == kCL);
  CHECK(add(y, randn_f32({1, 12, 1, 1}, 3)).suggest_memory_format() == kCL);
  CHECK(max_pool2d(y, 3, Size2(2), 1).suggest_memory_format() == kCL);
  CHECK(avg_pool2d(y, 2).suggest_memory_format() == kCL);
  CHECK(adaptive_avg_pool2d(y, 1).flatten(1).is_contiguous());
  // A [N, 1, H, W] input made channels-last stays so (its memory equals NCHW's).
  Tensor one = cl(randn_f32({2, 1, 6, 5}, 4));
  CHECK(one.suggest_memory_format() == kCL);
  CHECK(to_conv_layout(randn_f32({2, 1, 6, 5}, 4)).suggest_memory_format() == kCL);
  {
    ops::ContiguousOnlyGuard nchw;
    CHECK(conv2d(x, w, {}, 1, 1).is_contiguous());
    CHECK(to_conv_layout(randn_f32({2, 3, 6, 5}, 5)).is_contiguous());
  }
  {
    ops::ReferenceOnlyGuard reference;  // the reference kernels write contiguous outputs
    CHECK(conv2d(x, w, {}, 1, 1).is_contiguous());
    CHECK(batch_norm(y, {}, {}, {}, {}, true).is_contiguous());
  }
}

TEST_CASE("channels last: conv2d forward, backward input and backward weight") {
  struct Conv {
    Shape x, w;
    int64_t stride, pad, groups;
    bool bias;
  };
  const std::vector<Conv> convs = {
      {{6, 16, 28, 28}, {16, 16, 3, 3}, 1, 1, 1, false},  // a CIFAR-ResNet block
      {{8, 16, 14, 14}, {32, 16, 3, 3}, 2, 1, 1, false},  // a stage's first conv
      {{8, 16, 14, 14}, {32, 16, 1, 1}, 2, 0, 1, false},  // its downsample
      {{4, 1, 28, 28}, {16, 1, 3, 3}, 1, 1, 1, false},    // the stem on 1-channel images
      {{1, 3, 7, 9}, {5, 3, 3, 2}, 1, 0, 1, true},        // batch 1, odd sizes, bias
      {{2, 256, 5, 5}, {64, 256, 1, 1}, 1, 0, 1, false},  // large C
      {{2, 8, 9, 7}, {6, 4, 3, 3}, 2, 1, 2, true},        // groups
  };
  std::vector<Case> cases;
  uint64_t seed = 100;
  for (const Conv& c : convs) {
    TensorList in;
    in.reserve(3);
    in.push_back(randn_f32(c.x, seed++));
    in.push_back(randn_f32(c.w, seed++, 0.3));
    if (c.bias) in.push_back(randn_f32({c.w[0]}, seed++));
    add_both_grads(
        cases, {"conv2d " + shape_str(c.x) + " * " + shape_str(c.w), in, [c](const TensorList& t) {
                  return conv2d(cl(t[0]), t[1], c.bias ? t[2] : Tensor(), c.stride, c.pad, 1,
                                c.groups);
                }});
  }
  // A channels-last input that is not dense (a column window): served through its strides.
  add_both_grads(cases, {"conv2d on a narrowed channels-last input",
                         {randn_f32({2, 8, 9, 11}, seed++), randn_f32({4, 8, 3, 3}, seed++)},
                         [](const TensorList& t) {
                           return conv2d(cl(t[0]).narrow(3, 1, 8), t[1], {}, 1, 1);
                         }});
  check_cases(cases);
}

TEST_CASE("channels last: batch_norm training and eval") {
  std::vector<Case> cases;
  uint64_t seed = 200;
  for (const Shape& s : kShapes) {
    const int64_t C = s[1];
    Tensor x = randn_f32(s, seed++, 2), w = randn_f32({C}, seed++), b = randn_f32({C}, seed++);
    Tensor rm = randn_f32({C}, seed++, 0.5), rv = add(abs(randn_f32({C}, seed++)), 0.5).detach();
    add_both_grads(cases,
                   {"batch_norm training " + shape_str(s), {x, w, b}, [](const TensorList& t) {
                      return batch_norm(cl(t[0]), {}, {}, t[1], t[2], true);
                    }});
    add_both_grads(cases,
                   {"batch_norm eval " + shape_str(s), {x, w, b}, [rm, rv](const TensorList& t) {
                      return batch_norm(cl(t[0]), rm.clone(), rv.clone(), t[1], t[2], false);
                    }});
    add_both_grads(cases,
                   {"batch_norm training, no affine " + shape_str(s), {x}, [](const TensorList& t) {
                      return batch_norm(cl(t[0]), {}, {}, {}, {}, true, 0.1, 1e-3);
                    }});
  }
  check_cases(cases);
}

TEST_CASE("channels last: batch_norm updates the running statistics as on NCHW") {
  Tensor x = randn_f32({4, 24, 5, 7}, 300, 2);
  Tensor m1 = zeros({24}), v1 = ones({24}), m2 = zeros({24}), v2 = ones({24});
  batch_norm(cl(x), m1, v1, {}, {}, true);
  {
    ops::ReferenceOnlyGuard reference;
    batch_norm(x, m2, v2, {}, {}, true);
  }
  CHECK(nmse(m1, m2) <= kBound);
  CHECK(nmse(v1, v2) <= kBound);
}

TEST_CASE("channels last: max, average and adaptive pooling") {
  std::vector<Case> cases;
  uint64_t seed = 400;
  for (const Shape& s : kShapes) {
    const std::string name = shape_str(s);
    Tensor x = randn_f32(s, seed++);
    add_both_grads(cases, {"max_pool2d 3/2/1 " + name, {x}, [](const TensorList& t) {
                             return max_pool2d(cl(t[0]), 3, Size2(2), 1);
                           }});
    add_both_grads(cases,
                   {"max_pool2d 2, dilation 2, ceil " + name, {x}, [](const TensorList& t) {
                      return max_pool2d(cl(t[0]), Size2{2, 1}, Size2(1), 0, Size2{1, 1}, true);
                    }});
    add_both_grads(cases, {"avg_pool2d 3/2/1 exclude pad " + name, {x}, [](const TensorList& t) {
                             return avg_pool2d(cl(t[0]), 3, Size2(2), 1, true, false);
                           }});
    add_both_grads(cases, {"adaptive_avg_pool2d global " + name, {x}, [](const TensorList& t) {
                             return adaptive_avg_pool2d(cl(t[0]), 1);
                           }});
    add_both_grads(cases, {"adaptive_avg_pool2d 3x2 " + name, {x}, [](const TensorList& t) {
                             return adaptive_avg_pool2d(cl(t[0]), {3, 2});
                           }});
    add_both_grads(cases, {"adaptive_max_pool2d 2x3 " + name, {x}, [](const TensorList& t) {
                             return adaptive_max_pool2d(cl(t[0]), {2, 3});
                           }});
  }
  check_cases(cases);
}

TEST_CASE("channels last: max pooling indices equal NCHW's") {
  // Ties included: small integers make many windows share their maximum.
  Tensor x = floor(mul(randn_f32({3, 10, 9, 8}, 500), 2.0));
  auto [fast_values, fast_idx] = max_pool2d_with_indices(cl(x), 3, Size2(2), 1);
  CHECK(fast_idx.suggest_memory_format() == kCL);
  ops::ReferenceOnlyGuard reference;
  auto [ref_values, ref_idx] = max_pool2d_with_indices(x, 3, Size2(2), 1);
  CHECK(fast_idx.to_vector<int64_t>() == ref_idx.to_vector<int64_t>());
  CHECK(fast_values.to_vector<float>() == ref_values.to_vector<float>());
}

TEST_CASE("channels last: relu and add, same, broadcast and mixed layouts") {
  std::vector<Case> cases;
  uint64_t seed = 600;
  for (const Shape& s : kShapes) {
    const std::string name = shape_str(s);
    Tensor a = randn_f32(s, seed++), b = randn_f32(s, seed++);
    Tensor per_channel = randn_f32({1, s[1], 1, 1}, seed++);
    add_both_grads(cases,
                   {"relu " + name, {a}, [](const TensorList& t) { return relu(cl(t[0])); }});
    add_both_grads(cases, {"add channels-last " + name, {a, b}, [](const TensorList& t) {
                             return add(cl(t[0]), cl(t[1]));
                           }});
    add_both_grads(cases, {"add channels-last + NCHW " + name, {a, b}, [](const TensorList& t) {
                             return add(cl(t[0]), t[1]);
                           }});
    add_both_grads(cases, {"add NCHW + channels-last " + name, {a, b}, [](const TensorList& t) {
                             return add(t[0], cl(t[1]));
                           }});
    add_both_grads(cases, {"add channels-last + [1, C, 1, 1] " + name,
                           {a, per_channel},
                           [](const TensorList& t) { return add(cl(t[0]), t[1]); }});
    add_both_grads(
        cases, {"relu of a narrowed channels-last tensor " + name, {a}, [s](const TensorList& t) {
                  return relu(cl(t[0]).narrow(2, 0, (s[2] + 1) / 2));
                }});
  }
  check_cases(cases);
}

TEST_CASE("channels last: gradients of different layouts accumulate into one leaf") {
  // x feeds a channels-last branch and an NCHW branch; its gradient is their sum, whatever the
  // layouts (autograd adds them).
  Tensor x = randn_f32({2, 6, 5, 4}, 700).requires_grad_();
  Tensor w = randn_f32({6, 6, 3, 3}, 701, 0.3);
  Tensor r = randn_f32({2, 6, 5, 4}, 702);
  sum(mul(add(conv2d(cl(x), w, {}, 1, 1), relu(x)), r)).backward();
  Tensor fast = x.grad().clone();
  x.mutable_grad() = Tensor();
  {
    ops::ReferenceOnlyGuard reference;
    sum(mul(add(conv2d(x, w, {}, 1, 1), relu(x)), r)).backward();
  }
  CHECK(nmse(fast, x.grad()) <= kBound);
}

TEST_CASE("channels last: a leaf's gradient takes the leaf's layout") {
  // PyTorch's layout contract for .grad: a channels-last leaf gets a channels-last gradient, a
  // contiguous leaf a contiguous one, whatever layout the gradient arrives in.
  Tensor w = randn_f32({6, 5, 3, 3}, 711, 0.3);
  Tensor r = randn_f32({2, 6, 5, 4}, 712);
  Tensor x_cl = cl(randn_f32({2, 5, 5, 4}, 710)).requires_grad_();
  Tensor x = randn_f32({2, 5, 5, 4}, 710).requires_grad_();
  sum(mul(conv2d(x_cl, w, {}, 1, 1), r)).backward();
  sum(mul(conv2d(cl(x), w, {}, 1, 1), r)).backward();
  CHECK(x_cl.grad().is_contiguous(kCL));
  CHECK(x.grad().is_contiguous());
  Tensor expected = x.detach().clone();
  {
    ops::ReferenceOnlyGuard reference;
    expected.requires_grad_();
    sum(mul(conv2d(expected, w, {}, 1, 1), r)).backward();
  }
  CHECK(nmse(x_cl.grad(), expected.grad()) <= kBound);
  CHECK(nmse(x.grad(), expected.grad()) <= kBound);
}

TEST_CASE("channels last: resnet8 and resnet20 train channels-last as in NCHW") {
  // Two SGD steps (momentum, so the second starts from trained weights and batch norm weights
  // away from 1 and 0): at each, the channels-last run (what the models do on the cpu) starts
  // from the NCHW run's weights, and its logits, every parameter gradient and the updated weights
  // match the NCHW run's by the fast-kernel bound. (Letting each run keep its own weights instead
  // compares chaos: batch 6 with lr 0.1 turns the last-bit differences of step 1 into
  // gradients that differ by percents at step 2, on either layout pair.)
  for (const char* name : {"resnet8", "resnet20"}) {
    INFO(std::string(name));
    auto channels_last = models::create_model(name, {.num_classes = 10, .in_channels = 1});
    auto nchw = models::create_model(name, {.num_classes = 10, .in_channels = 1});
    Tensor x = randn_f32({6, 1, 28, 28}, 800);
    Tensor target = tensor({1, 4, 2, 9, 0, 7}, DType::i64);
    auto step = [&](models::Model& m, optim::SGD& opt) {
      opt.zero_grad();
      Tensor logits = m.forward(x);
      cross_entropy(logits, target).backward();
      opt.step();
      return logits.detach();
    };
    optim::SGD opt_cl(channels_last->parameters(), {.lr = 0.1, .momentum = 0.9});
    optim::SGD opt_nchw(nchw->parameters(), {.lr = 0.1, .momentum = 0.9});
    for (int s = 0; s < 2; ++s) {
      INFO("step " << s);
      channels_last->load_state_dict(nchw->state_dict());
      Tensor a = step(*channels_last, opt_cl);
      CHECK(a.is_contiguous());
      Tensor b;
      {
        ops::ContiguousOnlyGuard plain;
        b = step(*nchw, opt_nchw);
      }
      CHECK(nmse(a, b) <= kBound);
      const auto pa = channels_last->named_parameters(), pb = nchw->named_parameters();
      REQUIRE(pa.size() == pb.size());
      for (size_t i = 0; i < pa.size(); ++i) {
        INFO(pa[i].first);
        CHECK(pa[i].second.is_contiguous());
        CHECK(nmse(pa[i].second.grad(), pb[i].second.grad()) <= kBound);
        if (s == 0) CHECK(nmse(pa[i].second, pb[i].second) <= kBound);
      }
    }
  }
}

TEST_CASE("channels last: a residual block, forward and backward") {
  // relu(x + bn(conv(relu(bn(conv(x)))))) at a CIFAR-ResNet stage's shape, with batch norm
  // weights away from their initial 1 and 0.
  const Shape s = {6, 16, 28, 28};
  TensorList in = {randn_f32(s, 900),
                   randn_f32({16, 16, 3, 3}, 901, 0.2),
                   randn_f32({16, 16, 3, 3}, 902, 0.2),
                   randn_f32({16}, 903),
                   randn_f32({16}, 904),
                   randn_f32({16}, 905),
                   randn_f32({16}, 906)};
  Case block{"residual block " + shape_str(s), in, [](const TensorList& t) {
               Tensor x = cl(t[0]);
               Tensor y = relu(batch_norm(conv2d(x, t[1], {}, 1, 1), {}, {}, t[3], t[4], true));
               y = batch_norm(conv2d(y, t[2], {}, 1, 1), {}, {}, t[5], t[6], true);
               return relu(add(y, x));
             }};
  std::vector<Case> cases;
  add_both_grads(cases, block);
  check_cases(cases);
}
