#include "tools/cli/training_loop.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::cli {

std::unique_ptr<optim::LRScheduler> make_lr_schedule(optim::Optimizer& optimizer,
                                                     const std::string& name, int64_t epochs,
                                                     int64_t warmup_epochs, int64_t step_size) {
  int64_t main_epochs = epochs - warmup_epochs;
  auto main_schedule = [&]() -> std::unique_ptr<optim::LRScheduler> {
    if (name == "cosine") return std::make_unique<optim::CosineAnnealingLR>(optimizer, main_epochs);
    if (name == "step") return std::make_unique<optim::StepLR>(optimizer, step_size, 0.1);
    TUTOR_CHECK(name == "constant", "unknown lr schedule '{}' (known: cosine, step, constant)",
                name);
    return std::make_unique<optim::LinearLR>(optimizer, 1.0, 1.0, 1);
  };
  if (warmup_epochs == 0) return main_schedule();
  std::vector<std::unique_ptr<optim::LRScheduler>> parts;
  parts.push_back(std::make_unique<optim::LinearLR>(optimizer, 1.0 / double(warmup_epochs + 1), 1.0,
                                                    warmup_epochs));
  parts.push_back(main_schedule());
  return std::make_unique<optim::SequentialLR>(optimizer, std::move(parts),
                                               std::vector<int64_t>{warmup_epochs});
}

void EpochMeans::add(double loss, const Tensor& logits, const Tensor& labels,
                     const std::vector<std::pair<std::string, double>>& parts) {
  int64_t n = logits.size(0), labeled = labels.numel();
  loss_sum_ += loss * double(n);
  if (labeled > 0) {
    Tensor predicted = logits.detach().narrow(0, 0, labeled).argmax(1);
    correct_ += eq(predicted, labels).sum().item<int64_t>();
  }
  for (auto& [name, part] : parts) {
    auto it = std::find_if(sums_.begin(), sums_.end(), [&](auto& p) { return p.first == name; });
    if (it == sums_.end())
      sums_.emplace_back(name, part * double(n));
    else
      it->second += part * double(n);
  }
  rows_ += n;
  labeled_ += labeled;
}

double EpochMeans::loss() const { return rows_ > 0 ? loss_sum_ / double(rows_) : 0; }

double EpochMeans::accuracy() const {
  return labeled_ > 0 ? double(correct_) / double(labeled_) : 0;
}

EpochStats EpochMeans::stats() const {
  EpochStats s;
  s.rows = rows_;
  s.labeled = labeled_;
  s.loss = loss();
  s.accuracy = accuracy();
  if (rows_ > 0)
    for (auto& [name, sum] : sums_) s.parts.emplace_back(name, sum / double(rows_));
  return s;
}

EpochStats train_epoch(data::DataLoader& loader, int64_t epoch, optim::Optimizer& optimizer,
                       int64_t& step, const StepFn& fn, ProgressBar& bar) {
  Stopwatch clock;
  EpochMeans means;
  int64_t batches = loader.batches_per_epoch();
  for (data::Batch& b : loader.epoch(epoch)) {
    optimizer.zero_grad();
    StepResult r = fn(b, step);
    double value = r.loss.item();
    TUTOR_CHECK(std::isfinite(value), "step {} (epoch {}): the loss is {}", step, epoch, value);
    if (r.backward)
      r.backward();
    else
      r.loss.backward();
    optimizer.step();
    ++step;
    means.add(value, r.logits, r.labels, r.parts);
    double seconds = clock.seconds();
    bar.update(
        b.index + 1, batches,
        {{"loss", means.loss()},
         {"acc", means.accuracy(), Metric::Style::percent, 1},
         {"img/s", seconds > 0 ? double(means.rows()) / seconds : 0, Metric::Style::rate, 0}});
  }
  bar.finish();
  EpochStats s = means.stats();
  s.seconds = clock.seconds();
  s.images_per_second = s.seconds > 0 ? double(s.rows) / s.seconds : 0;
  return s;
}

}  // namespace tutor::cli
