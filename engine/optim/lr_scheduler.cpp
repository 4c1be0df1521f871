#include "engine/optim/lr_scheduler.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tutor::optim {

LRScheduler::LRScheduler(std::string name, Optimizer& optimizer)
    : optimizer_(optimizer), name_(std::move(name)) {
  for (ParamGroup& group : optimizer_.param_groups()) {
    auto [it, inserted] = group.options.emplace("initial_lr", group.lr());
    base_lrs_.push_back(it->second);
  }
}

void LRScheduler::step() { set_epoch(last_epoch_ + 1); }

void LRScheduler::set_epoch(int64_t epoch) {
  TUTOR_CHECK(epoch >= 0, "{}: epoch {} is negative", name_, epoch);
  auto& groups = optimizer_.param_groups();
  TUTOR_CHECK(groups.size() == base_lrs_.size(),
              "{}: the optimizer has {} param groups, the schedule was built for {}", name_,
              groups.size(), base_lrs_.size());
  last_epoch_ = epoch;
  for (size_t g = 0; g < groups.size(); ++g) groups[g].set_lr(lr_at(g, epoch));
}

std::vector<double> LRScheduler::last_lr() const {
  std::vector<double> lrs;
  for (size_t g = 0; g < base_lrs_.size(); ++g) lrs.push_back(lr_at(g, last_epoch_));
  return lrs;
}

StateDict LRScheduler::state_dict() const {
  StateDict dict;
  dict.scalars["last_epoch"] = double(last_epoch_);
  for (size_t g = 0; g < base_lrs_.size(); ++g)
    dict.scalars[fmt::format("base_lrs.{}", g)] = base_lrs_[g];
  return dict;
}

void LRScheduler::load_state_dict(const StateDict& dict) {
  const std::string owner = name_ + ".load_state_dict";
  const double epoch = dict.scalar(owner, "last_epoch");
  TUTOR_CHECK(epoch >= 0 && epoch == std::floor(epoch) && epoch < 1e15,
              "{}: last_epoch {} is not a non-negative integer", owner, epoch);
  std::vector<double> base_lrs;
  for (size_t g = 0; g < base_lrs_.size(); ++g)
    base_lrs.push_back(dict.scalar(owner, fmt::format("base_lrs.{}", g)));
  TUTOR_CHECK(!dict.scalars.count(fmt::format("base_lrs.{}", base_lrs_.size())),
              "{}: the state dict has more than {} base_lrs", owner, base_lrs_.size());
  base_lrs_ = std::move(base_lrs);
  // Only the counter: the optimizer's own state dict restores the groups' current lr.
  last_epoch_ = int64_t(epoch);
}

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler("StepLR", optimizer), step_size_(step_size), gamma_(gamma) {
  TUTOR_CHECK(step_size > 0, "StepLR: step_size {} must be > 0", step_size);
  initial_step();
}

double StepLR::lr_at(size_t group, int64_t epoch) const {
  return base_lrs_[group] * std::pow(gamma_, double(epoch / step_size_));
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma)
    : LRScheduler("MultiStepLR", optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
  std::sort(milestones_.begin(), milestones_.end());
  initial_step();
}

double MultiStepLR::lr_at(size_t group, int64_t epoch) const {
  const auto passed =
      std::upper_bound(milestones_.begin(), milestones_.end(), epoch) - milestones_.begin();
  return base_lrs_[group] * std::pow(gamma_, double(passed));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min)
    : LRScheduler("CosineAnnealingLR", optimizer), t_max_(t_max), eta_min_(eta_min) {
  TUTOR_CHECK(t_max > 0, "CosineAnnealingLR: t_max {} must be > 0", t_max);
  initial_step();
}

double CosineAnnealingLR::lr_at(size_t group, int64_t epoch) const {
  const double c = std::cos(std::numbers::pi * double(epoch) / double(t_max_));
  return eta_min_ + (base_lrs_[group] - eta_min_) * (1 + c) / 2;
}

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor,
                   int64_t total_iters)
    : LRScheduler("LinearLR", optimizer),
      start_factor_(start_factor),
      end_factor_(end_factor),
      total_iters_(total_iters) {
  TUTOR_CHECK(start_factor > 0 && start_factor <= 1, "LinearLR: start_factor {} must be in (0, 1]",
              start_factor);
  TUTOR_CHECK(end_factor >= 0 && end_factor <= 1, "LinearLR: end_factor {} must be in [0, 1]",
              end_factor);
  TUTOR_CHECK(total_iters > 0, "LinearLR: total_iters {} must be > 0", total_iters);
  initial_step();
}

double LinearLR::lr_at(size_t group, int64_t epoch) const {
  const double t = double(std::min(epoch, total_iters_)) / double(total_iters_);
  return base_lrs_[group] * (start_factor_ + (end_factor_ - start_factor_) * t);
}

SequentialLR::SequentialLR(Optimizer& optimizer,
                           std::vector<std::unique_ptr<LRScheduler>> schedulers,
                           std::vector<int64_t> milestones)
    : LRScheduler("SequentialLR", optimizer),
      schedulers_(std::move(schedulers)),
      milestones_(std::move(milestones)) {
  TUTOR_CHECK(!schedulers_.empty(), "SequentialLR: no schedulers");
  TUTOR_CHECK(milestones_.size() + 1 == schedulers_.size(),
              "SequentialLR: {} schedulers need {} milestones, got {}", schedulers_.size(),
              schedulers_.size() - 1, milestones_.size());
  for (size_t i = 0; i < schedulers_.size(); ++i) {
    TUTOR_CHECK(schedulers_[i] && &schedulers_[i]->optimizer_ == &optimizer,
                "SequentialLR: scheduler {} is not built on this optimizer", i);
    TUTOR_CHECK(i == 0 || milestones_[i - 1] > (i > 1 ? milestones_[i - 2] : 0),
                "SequentialLR: milestones {} must be positive and increasing",
                fmt::join(milestones_, ", "));
  }
  initial_step();
}

std::pair<size_t, int64_t> SequentialLR::child_at(int64_t epoch) const {
  const size_t i =
      size_t(std::upper_bound(milestones_.begin(), milestones_.end(), epoch) - milestones_.begin());
  return {i, i == 0 ? epoch : epoch - milestones_[i - 1]};
}

void SequentialLR::set_epoch(int64_t epoch) {
  LRScheduler::set_epoch(epoch);
  const auto [i, child_epoch] = child_at(epoch);
  schedulers_[i]->last_epoch_ = child_epoch;
}

double SequentialLR::lr_at(size_t group, int64_t epoch) const {
  const auto [i, child_epoch] = child_at(epoch);
  return schedulers_[i]->lr_at(group, child_epoch);
}

StateDict SequentialLR::state_dict() const {
  StateDict dict = LRScheduler::state_dict();
  for (size_t i = 0; i < schedulers_.size(); ++i) {
    const StateDict child = schedulers_[i]->state_dict();
    for (const auto& [key, value] : child.scalars)
      dict.scalars[fmt::format("schedulers.{}.{}", i, key)] = value;
  }
  return dict;
}

void SequentialLR::load_state_dict(const StateDict& dict) {
  LRScheduler::load_state_dict(dict);
  for (size_t i = 0; i < schedulers_.size(); ++i) {
    const std::string prefix = fmt::format("schedulers.{}.", i);
    StateDict child;
    for (const auto& [key, value] : dict.scalars)
      if (key.rfind(prefix, 0) == 0) child.scalars[key.substr(prefix.size())] = value;
    schedulers_[i]->load_state_dict(child);
  }
}

}  // namespace tutor::optim
