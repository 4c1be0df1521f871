// clip_grad_norm_ against PyTorch 1.13 (tests/fixtures/optim/clip_grad_norm.txt), and the
// exponential moving average of named tensors against its formula, alone and on an nn::Module.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/nn/module.h"
#include "engine/ops/ops.h"
#include "engine/optim/clip_grad.h"
#include "engine/optim/ema.h"
#include "engine/optim/sgd.h"
#include "optim/fixture.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::optim;
using tutor::testing::check_close;
using tutor::testing::check_error;
using tutor::testing::check_golden;
using tutor::testing::OptimFixture;

TEST_CASE("optim: clip_grad_norm_ matches PyTorch") {
  const OptimFixture fixture("clip_grad_norm.txt");
  const std::pair<const char*, std::pair<double, double>> cases[] = {
      {"l2_clipped", {1.0, 2.0}},
      {"l2_unclipped", {100.0, 2.0}},
      {"inf_clipped", {0.5, kInfNorm}},
      {"l1_clipped", {2.0, 1.0}}};
  for (const auto& [name, args] : cases) {
    const std::string n = name;
    std::vector<Tensor> params;
    for (int i = 0; i < 2; ++i) {
      Tensor g = fixture.get("grad." + std::to_string(i));
      params.push_back(zeros(g.sizes(), DType::f64).requires_grad_());
      params.back().mutable_grad() = g.clone();
    }
    params.push_back(zeros({2}, DType::f64).requires_grad_());  // no grad: skipped
    const double total = clip_grad_norm_(params, args.first, args.second);
    check_golden(scalar_tensor(total, DType::f64), fixture.get(n + ".total"), n + " total");
    for (int i = 0; i < 2; ++i)
      check_golden(params[i].grad(), fixture.get(n + ".grad." + std::to_string(i)),
                   n + " grad " + std::to_string(i));
    CHECK_FALSE(params[2].grad().defined());
  }
}

TEST_CASE("optim: clip_grad_norm_ errors and edge cases") {
  Tensor w = zeros({2}, DType::f64).requires_grad_();
  CHECK(clip_grad_norm_({w}, 1.0) == 0);  // no gradients at all
  w.mutable_grad() = tensor({3.0, NAN}, DType::f64);
  check_error([&] { clip_grad_norm_({w}, 1.0, 2, true); }, {"clip_grad_norm_", "nan"});
  check_error([&] { clip_grad_norm_({w}, 1.0, 3); }, {"clip_grad_norm_", "norm_type 3"});
  check_error([&] { clip_grad_norm_({w}, -1.0); }, {"clip_grad_norm_", "max_norm -1"});
}

namespace {

NamedTensors model(double a, double b, int64_t count) {
  return {{"weight", tensor({a, b}, DType::f64)},
          {"bn.num_batches_tracked", full({}, double(count), DType::i64)},
          {"bn.running_mean", tensor({{a}, {b}}, DType::f32)}};
}

}  // namespace

TEST_CASE("optim: EMA averages floating tensors and copies integer ones") {
  ExponentialMovingAverage ema(model(1, 2, 0), 0.75);
  ema.update(model(5, -2, 1));
  ema.update(model(9, 6, 2));
  // ema_1 = 0.75 * 1 + 0.25 * 5 = 2, ema_2 = 0.75 * 2 + 0.25 * 9 = 3.75;
  // ema_1 = 0.75 * 2 + 0.25 * -2 = 1, ema_2 = 0.75 * 1 + 0.25 * 6 = 2.25.
  check_close(ema.average("weight"), tensor({3.75, 2.25}, DType::f64), 0, 1e-15);
  check_close(ema.average("bn.running_mean"), tensor({{3.75}, {2.25}}, DType::f32), 0, 1e-7);
  CHECK(ema.average("bn.num_batches_tracked").item<int64_t>() == 2);
  CHECK(ema.num_updates() == 2);

  // The averages are private copies: changing the source does not change them.
  NamedTensors values = model(0, 0, 0);
  ExponentialMovingAverage snapshot(values, 0.5);
  values[0].second.fill_(10);
  CHECK(snapshot.average("weight").to_vector<double>() == std::vector<double>{0, 0});

  NamedTensors target = model(0, 0, 0);
  ema.copy_to(target);
  CHECK(target[0].second.to_vector<double>() == std::vector<double>{3.75, 2.25});
  CHECK(target[1].second.item<int64_t>() == 2);
}

TEST_CASE("optim: EMA of parameters that require grad records nothing") {
  Tensor w = tensor({1.0, 2.0}, DType::f64).requires_grad_();
  ExponentialMovingAverage ema({{"w", w}}, 0.5);
  CHECK_FALSE(ema.average("w").requires_grad());
  ema.update({{"w", w * 3}});
  CHECK_FALSE(ema.average("w").grad_fn());
  CHECK(ema.average("w").to_vector<double>() == std::vector<double>{2, 4});
}

TEST_CASE("optim: EMA state dict round trip and errors") {
  ExponentialMovingAverage a(model(1, 2, 0), 0.9);
  a.update(model(3, 4, 7));
  const StateDict saved = a.state_dict();
  ExponentialMovingAverage b(model(0, 0, 0), 0.5);
  b.load_state_dict(saved);
  CHECK(b.decay() == 0.9);
  CHECK(b.num_updates() == 1);
  a.update(model(-1, 8, 8));
  b.update(model(-1, 8, 8));
  CHECK(a.average("weight").to_vector<double>() == b.average("weight").to_vector<double>());
  CHECK(b.average("bn.num_batches_tracked").item<int64_t>() == 8);

  check_error([&] { ExponentialMovingAverage(model(0, 0, 0), 1.5); },
              {"ExponentialMovingAverage", "decay 1.5"});
  check_error(
      [&] {
        a.update({{"weight", zeros({3}, DType::f64)}, model(0, 0, 0)[1], model(0, 0, 0)[2]});
      },
      {"ExponentialMovingAverage.update", "weight", "[3]", "[2]"});
  check_error(
      [&] {
        a.update({{"bias", zeros({2}, DType::f64)}, model(0, 0, 0)[1], model(0, 0, 0)[2]});
      },
      {"ExponentialMovingAverage", "bias"});
  check_error([&] { a.update({model(0, 0, 0)[0]}); },
              {"ExponentialMovingAverage.update", "got 1 tensors", "averages 3"});
  StateDict bad = saved;
  bad.tensors["ema.weight"] = zeros({5}, DType::f64);
  check_error([&] { b.load_state_dict(bad); },
              {"ExponentialMovingAverage.load_state_dict", "ema.weight", "[5]"});
  bad = saved;
  bad.scalars.erase("decay");
  check_error([&] { b.load_state_dict(bad); },
              {"ExponentialMovingAverage.load_state_dict", "decay"});
}

namespace {

// A student with one parameter and batch-norm-like buffers.
struct TinyNet : nn::Module {
  Tensor weight, running_mean, num_batches_tracked;
  TinyNet(double w)
      : weight(register_parameter("weight", tensor({w, 2 * w}, DType::f64))),
        running_mean(register_buffer("running_mean", tensor({w}, DType::f64))),
        num_batches_tracked(register_buffer("num_batches_tracked", full({}, 0, DType::i64))) {}
};

}  // namespace

TEST_CASE("optim: EMA teacher of a module trained by SGD") {
  TinyNet student(1.0), teacher(0.0);
  ExponentialMovingAverage ema(student.state_dict(), 0.5);
  SGD opt(student.parameters(), SGDOptions{.lr = 0.25});
  sum(student.weight * student.weight).backward();  // grad = 2 w = {2, 4}
  opt.step();                                       // w = {1, 2} - 0.25 {2, 4} = {0.5, 1}
  {
    NoGradGuard no_grad;
    student.running_mean.fill_(3);
    student.num_batches_tracked.fill_(1);
  }
  ema.update(student.state_dict());
  ema.copy_to(teacher.state_dict());  // state_dict() shares storage with the module
  // 0.5 * {1, 2} + 0.5 * {0.5, 1}; 0.5 * 1 + 0.5 * 3; the count copied
  CHECK(teacher.weight.to_vector<double>() == std::vector<double>{0.75, 1.5});
  CHECK(teacher.running_mean.to_vector<double>() == std::vector<double>{2});
  CHECK(teacher.num_batches_tracked.item<int64_t>() == 1);
}
