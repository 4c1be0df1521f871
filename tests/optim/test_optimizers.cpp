// SGD, Adam and AdamW against PyTorch 1.13 (tests/fixtures/optim/optimizers.txt), and their
// zero_grad, skipped parameters, state dicts and argument errors.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <functional>
#include <memory>

#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "engine/optim/sgd.h"
#include "optim/fixture.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::optim;
using tutor::testing::check_error;
using tutor::testing::check_golden;
using tutor::testing::OptimFixture;

namespace {

const OptimFixture& fixture() {
  static const OptimFixture f("optimizers.txt");
  return f;
}

// The problem of make_optim_fixtures.py: p0, p1 in group 0; p2, p3 in group 1; p3 gets no grad.
struct Problem {
  std::vector<Tensor> params;

  Problem() {
    for (int i = 0; i < 4; ++i)
      params.push_back(fixture().get(fmt::format("init.p{}", i)).clone().requires_grad_());
  }
  std::vector<ParamGroup> groups(std::map<std::string, double> options0,
                                 std::map<std::string, double> options1) const {
    return {ParamGroup{{params[0], params[1]}, std::move(options0)},
            ParamGroup{{params[2], params[3]}, std::move(options1)}};
  }
  // Gradients of sum(A p^2 + (b + k c) p) over p0..p2 at step k.
  void backward(int k) const {
    Tensor loss = scalar_tensor(0, DType::f64);
    for (int i = 0; i < 3; ++i) {
      const auto& f = fixture();
      Tensor a = f.get(fmt::format("A.p{}", i)), b = f.get(fmt::format("b.p{}", i));
      Tensor c = f.get(fmt::format("c.p{}", i));
      loss = loss + sum(a * params[i] * params[i] + (b + c * double(k)) * params[i]);
    }
    loss.backward();
  }
};

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(const Problem&)>;

// Five steps against the fixture's parameters after every step, then the final state.
void check_against_pytorch(const std::string& name, const MakeOptimizer& make) {
  Problem problem;
  auto opt = make(problem);
  for (int k = 1; k <= 5; ++k) {
    opt->zero_grad();
    problem.backward(k);
    opt->step();
    for (size_t i = 0; i < problem.params.size(); ++i)
      check_golden(problem.params[i], fixture().get(fmt::format("{}.step{}.p{}", name, k, i)),
                   fmt::format("{} step {} p{}", name, k, i));
  }
  const StateDict state = opt->state_dict();
  size_t expected_entries = 0;
  for (const auto& [key, value] : fixture().all()) {
    if (key.rfind(name + ".state.", 0) != 0) continue;
    const std::string field = key.substr(name.size() + 1);
    ++expected_entries;
    if (field.ends_with(".step")) {
      CHECK_MESSAGE(state.scalars.count(field), field);
      if (state.scalars.count(field)) CHECK(state.scalars.at(field) == value.item());
    } else {
      REQUIRE_MESSAGE(state.tensors.count(field), field);
      check_golden(state.tensors.at(field), value, key);
    }
  }
  size_t entries = state.tensors.size();
  for (const auto& [key, value] : state.scalars) entries += key.rfind("state.", 0) == 0;
  CHECK(entries == expected_entries);
}

}  // namespace

TEST_CASE("optim: SGD without momentum matches PyTorch") {
  check_against_pytorch("sgd_plain", [](const Problem& p) {
    return std::make_unique<SGD>(p.groups({}, {{"lr", 0.05}, {"weight_decay", 0.01}}),
                                 SGDOptions{.lr = 0.1});
  });
}

TEST_CASE("optim: SGD with momentum matches PyTorch") {
  check_against_pytorch("sgd_momentum", [](const Problem& p) {
    return std::make_unique<SGD>(p.groups({}, {{"lr", 0.05}}),
                                 SGDOptions{.lr = 0.1, .momentum = 0.9});
  });
}

TEST_CASE("optim: SGD with dampening matches PyTorch") {
  check_against_pytorch("sgd_dampening", [](const Problem& p) {
    return std::make_unique<SGD>(p.groups({}, {{"lr", 0.05}, {"momentum", 0.5}}),
                                 SGDOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.3});
  });
}

TEST_CASE("optim: SGD with Nesterov momentum matches PyTorch") {
  check_against_pytorch("sgd_nesterov", [](const Problem& p) {
    return std::make_unique<SGD>(p.groups({}, {{"lr", 0.05}, {"weight_decay", 0.02}}),
                                 SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true});
  });
}

TEST_CASE("optim: SGD with weight decay matches PyTorch") {
  check_against_pytorch("sgd_weight_decay", [](const Problem& p) {
    return std::make_unique<SGD>(p.groups({}, {{"lr", 0.2}, {"weight_decay", 0.0}}),
                                 SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
  });
}

TEST_CASE("optim: Adam matches PyTorch") {
  check_against_pytorch("adam", [](const Problem& p) {
    return std::make_unique<Adam>(
        p.groups({}, {{"lr", 0.2}, {"weight_decay", 0.1}, {"beta1", 0.8}, {"beta2", 0.99}}),
        AdamOptions{.lr = 0.1});
  });
}

TEST_CASE("optim: Adam with amsgrad matches PyTorch") {
  check_against_pytorch("adam_amsgrad", [](const Problem& p) {
    return std::make_unique<Adam>(
        p.groups({}, {{"lr", 0.2}, {"eps", 1e-3}, {"weight_decay", 0.05}}),
        AdamOptions{.lr = 0.3, .beta2 = 0.6, .amsgrad = true});
  });
}

TEST_CASE("optim: AdamW matches PyTorch") {
  check_against_pytorch("adamw", [](const Problem& p) {
    AdamWOptions defaults;
    defaults.lr = 0.1;
    defaults.weight_decay = 0.05;
    return std::make_unique<AdamW>(
        p.groups({}, {{"lr", 0.3}, {"weight_decay", 0.2}, {"amsgrad", 1}}), defaults);
  });
}

TEST_CASE("optim: zero_grad clears or zeroes gradients") {
  Tensor w = ones({3}, DType::f64).requires_grad_();
  Tensor unused = ones({2}, DType::f64).requires_grad_();
  SGD opt({w, unused}, SGDOptions{.lr = 0.1});
  sum(w * w).backward();
  opt.zero_grad(false);
  REQUIRE(w.grad().defined());
  CHECK(w.grad().to_vector<double>() == std::vector<double>{0, 0, 0});
  CHECK_FALSE(unused.grad().defined());
  opt.zero_grad();
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("optim: a parameter without a gradient is left alone and gets no state") {
  Tensor w = tensor({1.0, 2.0}, DType::f64).requires_grad_();
  Tensor frozen = tensor({3.0, 4.0}, DType::f64).requires_grad_();
  Adam opt({w, frozen}, AdamOptions{.lr = 0.1});
  sum(w * w).backward();
  opt.step();
  CHECK(frozen.to_vector<double>() == std::vector<double>{3, 4});
  // First Adam step: m / sqrt(v) = sign(g), so each weight moves by lr against its gradient's sign.
  tutor::testing::check_close(w, tensor({0.9, 1.9}, DType::f64), 1e-9, 0);
  const StateDict state = opt.state_dict();
  CHECK(state.tensors.count("state.0.exp_avg"));
  CHECK_FALSE(state.tensors.count("state.1.exp_avg"));
  CHECK_FALSE(state.scalars.count("state.1.step"));
}

namespace {

// Runs `steps` steps of sum(w^4 - w) descent with the optimizer on w.
void descend(Optimizer& opt, const Tensor& w, int steps) {
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    sum(pow(w, 4.0) - w).backward();
    opt.step();
  }
}

template <class Opt, class Options>
void check_round_trip(const Options& options) {
  Tensor w = tensor({0.5, -1.0, 2.0}, DType::f64).requires_grad_();
  Opt a({ParamGroup{{w}, {}}}, options);
  descend(a, w, 3);
  const StateDict saved = a.state_dict();
  Tensor w2 = w.detach().clone().requires_grad_();
  Opt b({ParamGroup{{w2}, {{"lr", 123.0}}}}, options);  // the dict's lr replaces this one
  b.load_state_dict(saved);
  CHECK(b.param_groups()[0].lr() == a.param_groups()[0].lr());
  descend(a, w, 2);
  descend(b, w2, 2);
  CHECK(w.to_vector<double>() == w2.to_vector<double>());
}

}  // namespace

TEST_CASE("optim: a state dict round trip gives identical next steps") {
  check_round_trip<SGD>(SGDOptions{.lr = 0.01, .momentum = 0.9, .nesterov = true});
  check_round_trip<Adam>(AdamOptions{.lr = 0.01, .amsgrad = true});
  check_round_trip<AdamW>(AdamWOptions());
}

TEST_CASE("optim: load_state_dict rejects a state dict that does not fit") {
  Tensor w = ones({3}, DType::f64).requires_grad_();
  SGD sgd({w}, SGDOptions{.lr = 0.1, .momentum = 0.9});
  descend(sgd, w, 1);
  const StateDict saved = sgd.state_dict();

  Tensor v = ones({4}, DType::f64).requires_grad_();
  SGD other_shape({v}, SGDOptions{.lr = 0.1, .momentum = 0.9});
  check_error([&] { other_shape.load_state_dict(saved); },
              {"SGD.load_state_dict", "state.0.momentum_buffer", "[3]", "[4]"});

  Tensor u = ones({3}, DType::f64).requires_grad_();
  SGD two_groups({ParamGroup{{w}, {}}, ParamGroup{{u}, {}}}, SGDOptions{.lr = 0.1});
  check_error([&] { two_groups.load_state_dict(saved); },
              {"SGD.load_state_dict", "1 param groups", "2"});

  Adam adam({w}, AdamOptions());
  check_error([&] { adam.load_state_dict(saved); },
              {"Adam.load_state_dict", "no scalar", "param_groups.0.amsgrad"});
  StateDict foreign = saved;
  foreign.tensors["state.0.exp_avg"] = zeros({3}, DType::f64);
  check_error([&] { sgd.load_state_dict(foreign); },
              {"SGD.load_state_dict", "state.0.exp_avg", "not tensor state of SGD"});
  StateDict out_of_range = saved;
  out_of_range.tensors["state.1.momentum_buffer"] = zeros({3}, DType::f64);
  check_error([&] { sgd.load_state_dict(out_of_range); },
              {"SGD.load_state_dict", "state.1.momentum_buffer", "index < 1"});

  StateDict bad_lr = saved;
  bad_lr.scalars["param_groups.0.lr"] = -1;
  check_error([&] { sgd.load_state_dict(bad_lr); }, {"SGD", "lr", "-1"});
  CHECK(sgd.param_groups()[0].lr() == 0.1);  // unchanged after the failed load

  Adam adam_b({w}, AdamOptions());
  descend(adam_b, w, 1);
  StateDict bad_step = adam_b.state_dict();
  bad_step.scalars["state.0.step"] = -3;
  check_error([&] { adam_b.load_state_dict(bad_step); },
              {"Adam.load_state_dict", "state.0.step", "-3"});

  StateDict incomplete = adam_b.state_dict();
  incomplete.tensors.erase("state.0.exp_avg_sq");
  check_error([&] { adam_b.load_state_dict(incomplete); },
              {"Adam.load_state_dict", "parameter 0", "exp_avg_sq"});
  StateDict step_as_tensor = adam_b.state_dict();
  step_as_tensor.tensors["state.0.step"] = ones({1}, DType::f64);
  check_error([&] { adam_b.load_state_dict(step_as_tensor); },
              {"Adam.load_state_dict", "state.0.step", "not tensor state"});
  StateDict bad_index = adam_b.state_dict();
  bad_index.scalars["state.99999999999999999999999.step"] = 1;
  check_error([&] { adam_b.load_state_dict(bad_index); },
              {"Adam.load_state_dict", "unexpected entry", "state.99999999999999999999999.step"});

  StateDict missing = saved;
  missing.scalars.erase("param_groups.0.momentum");
  check_error([&] { sgd.load_state_dict(missing); },
              {"SGD.load_state_dict", "param_groups.0.momentum"});
}

TEST_CASE("optim: invalid hyper-parameters are rejected naming the optimizer and the field") {
  Tensor w = ones({2}, DType::f64).requires_grad_();
  check_error([&] { SGD({w}, SGDOptions{.lr = -0.1}); }, {"SGD", "lr", "-0.1"});
  check_error([&] { SGD({w}, SGDOptions{.lr = 0.1, .momentum = -1}); }, {"SGD", "momentum"});
  check_error([&] { SGD({w}, SGDOptions{.lr = 0.1, .weight_decay = -1}); },
              {"SGD", "weight_decay"});
  check_error(
      [&] { SGD({w}, SGDOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}); },
      {"SGD", "nesterov", "zero dampening"});
  check_error([&] { SGD({w}, SGDOptions{.lr = 0.1, .nesterov = true}); },
              {"SGD", "nesterov", "momentum > 0"});
  check_error([&] { Adam({w}, AdamOptions{.beta1 = 1.0}); }, {"Adam", "beta1", "[0, 1)"});
  check_error([&] { Adam({w}, AdamOptions{.beta2 = -0.1}); }, {"Adam", "beta2", "[0, 1)"});
  check_error([&] { Adam({w}, AdamOptions{.eps = -1e-8}); }, {"Adam", "eps"});
  check_error([&] { AdamW({ParamGroup{{w}, {{"lr", -1.0}}}}); }, {"AdamW", "lr", "param group 0"});
  check_error(
      [&] {
        SGD({ParamGroup{{w}, {{"betas", 0.9}}}}, SGDOptions{});
      },
      {"SGD", "unknown option", "betas"});
  check_error(
      [&] {
        SGD({ParamGroup{{w}, {}}, ParamGroup{{w}, {}}}, SGDOptions{});
      },
      {"SGD", "twice"});
  check_error([&] { SGD(std::vector<Tensor>{}, SGDOptions{}); }, {"SGD", "no parameters"});
  check_error([&] { SGD({ones({2}, DType::i64)}, SGDOptions{}); }, {"SGD", "i64"});
}
