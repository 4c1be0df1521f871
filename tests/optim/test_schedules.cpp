// LR schedules against PyTorch 1.13 (tests/fixtures/optim/schedules.txt), their state dicts and
// argument errors.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <functional>
#include <memory>

#include "engine/ops/ops.h"
#include "engine/optim/lr_scheduler.h"
#include "engine/optim/sgd.h"
#include "optim/fixture.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::optim;
using tutor::testing::check_error;
using tutor::testing::check_golden;
using tutor::testing::OptimFixture;

namespace {

// The optimizer of make_optim_fixtures.py: two groups with lr 0.1 and 0.02.
struct TwoGroups {
  Tensor p0 = zeros({1}, DType::f64).requires_grad_();
  Tensor p1 = zeros({1}, DType::f64).requires_grad_();
  SGD opt{{ParamGroup{{p0}, {{"lr", 0.1}}}, ParamGroup{{p1}, {{"lr", 0.02}}}},
          SGDOptions{.lr = 0.1}};
};

using MakeSchedule = std::function<std::unique_ptr<LRScheduler>(Optimizer&)>;

std::unique_ptr<LRScheduler> warmup_cosine(Optimizer& opt) {
  std::vector<std::unique_ptr<LRScheduler>> children;
  children.push_back(std::make_unique<LinearLR>(opt, 0.1, 1.0, 3));
  children.push_back(std::make_unique<CosineAnnealingLR>(opt, 8, 1e-4));
  return std::make_unique<SequentialLR>(opt, std::move(children), std::vector<int64_t>{3});
}

std::unique_ptr<LRScheduler> warmup_step_cosine(Optimizer& opt) {
  std::vector<std::unique_ptr<LRScheduler>> children;
  children.push_back(std::make_unique<LinearLR>(opt, 0.5, 0.9, 4));
  children.push_back(std::make_unique<StepLR>(opt, 2, 0.5));
  children.push_back(std::make_unique<CosineAnnealingLR>(opt, 5));
  return std::make_unique<SequentialLR>(opt, std::move(children), std::vector<int64_t>{2, 7});
}

// The groups' lr after construction and after each of 24 steps, against the fixture.
void check_against_pytorch(const std::string& name, const MakeSchedule& make) {
  static const OptimFixture fixture("schedules.txt");
  TwoGroups t;
  auto schedule = make(t.opt);
  std::vector<double> lrs[2];
  for (int epoch = 0; epoch <= 24; ++epoch) {
    if (epoch > 0) schedule->step();
    CHECK(schedule->last_epoch() == epoch);
    for (size_t g = 0; g < 2; ++g) {
      lrs[g].push_back(t.opt.param_groups()[g].lr());
      CHECK(schedule->last_lr()[g] == lrs[g].back());
    }
  }
  for (int g = 0; g < 2; ++g)
    check_golden(from_vector(lrs[g], {}, DType::f64),
                 fixture.get(fmt::format("{}.lr.g{}", name, g)),
                 fmt::format("{} group {}", name, g));
}

}  // namespace

TEST_CASE("optim: StepLR matches PyTorch") {
  check_against_pytorch("step", [](Optimizer& o) { return std::make_unique<StepLR>(o, 3, 0.5); });
}

TEST_CASE("optim: MultiStepLR matches PyTorch") {
  check_against_pytorch("multistep", [](Optimizer& o) {
    return std::make_unique<MultiStepLR>(o, std::vector<int64_t>{9, 2, 5, 5}, 0.1);
  });
}

TEST_CASE("optim: CosineAnnealingLR matches PyTorch") {
  check_against_pytorch(
      "cosine", [](Optimizer& o) { return std::make_unique<CosineAnnealingLR>(o, 10, 1e-3); });
}

TEST_CASE("optim: LinearLR warmup matches PyTorch") {
  check_against_pytorch("linear",
                        [](Optimizer& o) { return std::make_unique<LinearLR>(o, 0.25, 1.0, 4); });
}

TEST_CASE("optim: SequentialLR warmup then cosine matches PyTorch") {
  check_against_pytorch("sequential", warmup_cosine);
  check_against_pytorch("sequential3", warmup_step_cosine);
}

TEST_CASE("optim: a schedule resumed from its state dict continues identically") {
  TwoGroups a;
  auto sa = warmup_step_cosine(a.opt);
  for (int i = 0; i < 6; ++i) sa->step();
  const StateDict saved = sa->state_dict();
  const StateDict saved_opt = a.opt.state_dict();
  CHECK(saved.scalars.at("last_epoch") == 6);
  CHECK(saved.scalars.at("schedulers.1.last_epoch") == 4);

  TwoGroups b;
  auto sb = warmup_step_cosine(b.opt);
  b.opt.load_state_dict(saved_opt);
  sb->load_state_dict(saved);
  CHECK(sb->last_epoch() == 6);
  for (int i = 0; i < 10; ++i) {
    sa->step();
    sb->step();
    CHECK(a.opt.param_groups()[0].lr() == b.opt.param_groups()[0].lr());
    CHECK(a.opt.param_groups()[1].lr() == b.opt.param_groups()[1].lr());
  }

  StateDict bad = saved;
  bad.scalars["last_epoch"] = -2;
  check_error([&] { sb->load_state_dict(bad); },
              {"SequentialLR.load_state_dict", "last_epoch", "-2"});
  bad = saved;
  bad.scalars.erase("base_lrs.1");
  check_error([&] { sb->load_state_dict(bad); }, {"SequentialLR.load_state_dict", "base_lrs.1"});
}

TEST_CASE("optim: schedules scale the initial lr of each group, not the current one") {
  TwoGroups t;
  StepLR schedule(t.opt, 1, 0.5);
  t.opt.param_groups()[0].set_lr(7.0);  // a manual change is overwritten by the next step
  schedule.step();
  CHECK(t.opt.param_groups()[0].lr() == 0.05);
  CHECK(t.opt.param_groups()[0].get("initial_lr") == 0.1);
}

TEST_CASE("optim: invalid schedule arguments are rejected") {
  TwoGroups t;
  check_error([&] { StepLR(t.opt, 0); }, {"StepLR", "step_size", "0"});
  check_error([&] { CosineAnnealingLR(t.opt, -3); }, {"CosineAnnealingLR", "t_max", "-3"});
  check_error([&] { LinearLR(t.opt, 0.0); }, {"LinearLR", "start_factor"});
  check_error([&] { LinearLR(t.opt, 0.5, 1.5); }, {"LinearLR", "end_factor"});
  std::vector<std::unique_ptr<LRScheduler>> children;
  children.push_back(std::make_unique<StepLR>(t.opt, 2));
  children.push_back(std::make_unique<StepLR>(t.opt, 3));
  check_error([&] { SequentialLR(t.opt, std::move(children), {}); },
              {"SequentialLR", "2 schedulers need 1 milestones, got 0"});
  TwoGroups other;
  std::vector<std::unique_ptr<LRScheduler>> foreign;
  foreign.push_back(std::make_unique<StepLR>(other.opt, 2));
  check_error([&] { SequentialLR(t.opt, std::move(foreign), {}); },
              {"SequentialLR", "scheduler 0", "not built on this optimizer"});
}
