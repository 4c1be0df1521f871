// The training epoch that `tutor train` and `tutor distill` share: for every batch of the loader,
// zero the gradients, run the caller's step (forward and loss), backpropagate (loss.backward(), or
// the step's own backward), step the optimizer, and keep running means for the progress line and
// the epoch's record.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/data/data.h"
#include "engine/optim/lr_scheduler.h"
#include "engine/optim/optimizer.h"
#include "tools/cli/progress.h"

namespace tutor::cli {

struct StepResult {
  Tensor loss;    // scalar with the graph to backpropagate
  Tensor logits;  // [B, C]; its first labels.numel() rows count for the training accuracy
  Tensor labels;  // i64 [L], L <= B
  // Named scalar components to average over the epoch (a distiller's objectives and parts).
  std::vector<std::pair<std::string, double>> parts;
  // Sets the parameters' gradients instead of loss.backward() when given (gradient alignment).
  std::function<void()> backward = {};
};

// The per-epoch lr schedule `name`: cosine (CosineAnnealingLR over the epochs after warmup),
// step (StepLR(step_size, 0.1)) or constant; warmup_epochs K > 0 puts LinearLR from lr / (K + 1)
// to lr over K epochs first (SequentialLR), as PyTorch composes them. Arguments are checked by
// the caller (0 <= K < epochs, step_size > 0).
std::unique_ptr<optim::LRScheduler> make_lr_schedule(optim::Optimizer& optimizer,
                                                     const std::string& name, int64_t epochs,
                                                     int64_t warmup_epochs, int64_t step_size);

// One step's forward and loss on batch `b`; `step` counts optimizer steps taken before it.
using StepFn = std::function<StepResult(data::Batch& b, int64_t step)>;

struct EpochStats {
  double loss = 0;      // mean of the step losses weighted by the batch's rows
  double accuracy = 0;  // argmax == label over the labeled rows
  int64_t rows = 0;     // rows the student saw
  int64_t labeled = 0;  // rows with a label
  double seconds = 0;
  double images_per_second = 0;
  std::vector<std::pair<std::string, double>> parts;  // means weighted like the loss, in order
};

// Running means over an epoch's steps, each step weighted by its batch's rows: what train_epoch
// reports for the step's loss, and what a caller training several models in one step keeps for
// each of them (tutor distill with several students).
class EpochMeans {
 public:
  // One step: its loss, logits [B, C] (their first labels.numel() rows count for the accuracy),
  // labels i64 [L] and named parts.
  void add(double loss, const Tensor& logits, const Tensor& labels,
           const std::vector<std::pair<std::string, double>>& parts);
  int64_t rows() const { return rows_; }
  int64_t labeled() const { return labeled_; }
  double loss() const;
  double accuracy() const;
  // loss, accuracy, rows, labeled and parts (timings are the caller's).
  EpochStats stats() const;

 private:
  double loss_sum_ = 0;
  int64_t correct_ = 0, rows_ = 0, labeled_ = 0;
  std::vector<std::pair<std::string, double>> sums_;
};

// Trains one epoch of `loader` (epoch number `epoch`, 0-based); `step` advances by the number of
// optimizer steps. The bar shows loss, accuracy and images per second.
EpochStats train_epoch(data::DataLoader& loader, int64_t epoch, optim::Optimizer& optimizer,
                       int64_t& step, const StepFn& fn, ProgressBar& bar);

}  // namespace tutor::cli
