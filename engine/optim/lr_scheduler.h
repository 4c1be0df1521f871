// Learning-rate schedules, as torch.optim.lr_scheduler (PyTorch 1.13), each in closed form of the
// epoch counter `last_epoch` and each group's base lr ("initial_lr"). Constructing a schedule sets
// last_epoch = 0 and the groups' lr to the epoch-0 value, as PyTorch's initial step does; step()
// advances one epoch (or iteration: a schedule does not care which) and sets the groups' lr.
// A schedule keeps a reference to its optimizer, which must outlive it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/optim/optimizer.h"

namespace tutor::optim {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  void step();
  // Jumps to `epoch` and sets the groups' lr to its value.
  virtual void set_epoch(int64_t epoch);
  int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  // The lr of group `group` at `epoch`.
  virtual double lr_at(size_t group, int64_t epoch) const = 0;
  std::vector<double> last_lr() const;

  // "last_epoch" (and a SequentialLR's children as "schedulers.<i>.last_epoch").
  virtual StateDict state_dict() const;
  virtual void load_state_dict(const StateDict& dict);
  const std::string& name() const { return name_; }

 protected:
  // Records each group's "initial_lr" (setting it from "lr" where absent, as PyTorch does).
  LRScheduler(std::string name, Optimizer& optimizer);
  // Sets last_epoch = 0 and the epoch-0 lr; the derived constructor calls it once its own
  // fields are set.
  void initial_step() { set_epoch(0); }
  friend class SequentialLR;  // sets its children's epochs

  Optimizer& optimizer_;
  std::string name_;
  std::vector<double> base_lrs_;
  int64_t last_epoch_ = -1;
};

// lr = base_lr * gamma^floor(epoch / step_size)
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);
  double lr_at(size_t group, int64_t epoch) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

// lr = base_lr * gamma^(number of milestones <= epoch); milestones may repeat, as in PyTorch.
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1);
  double lr_at(size_t group, int64_t epoch) const override;

 private:
  std::vector<int64_t> milestones_;  // sorted
  double gamma_;
};

// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / t_max)) / 2; periodic past t_max,
// as PyTorch's closed form.
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t t_max, double eta_min = 0);
  double lr_at(size_t group, int64_t epoch) const override;

 private:
  int64_t t_max_;
  double eta_min_;
};

// Linear warmup, as torch.optim.lr_scheduler.LinearLR:
// lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters).
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0,
           int64_t total_iters = 5);
  double lr_at(size_t group, int64_t epoch) const override;

 private:
  double start_factor_, end_factor_;
  int64_t total_iters_;
};

// Schedules one after another, as torch.optim.lr_scheduler.SequentialLR: schedulers[i] runs from
// milestones[i - 1] on, restarted at its epoch 0 there (e.g. LinearLR warmup, then cosine).
// The children must be built on the same optimizer; this takes them over.
class SequentialLR : public LRScheduler {
 public:
  SequentialLR(Optimizer& optimizer, std::vector<std::unique_ptr<LRScheduler>> schedulers,
               std::vector<int64_t> milestones);
  void set_epoch(int64_t epoch) override;
  double lr_at(size_t group, int64_t epoch) const override;
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& dict) override;

 private:
  // The index of the child active at `epoch`, and that child's own epoch.
  std::pair<size_t, int64_t> child_at(int64_t epoch) const;

  std::vector<std::unique_ptr<LRScheduler>> schedulers_;
  std::vector<int64_t> milestones_;
};

}  // namespace tutor::optim
