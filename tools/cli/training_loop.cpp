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

EpochStats train_epoch(data::DataLoader& loader, int64_t epoch, optim::Optimizer& optimizer,
                       int64_t& step, const StepFn& fn, ProgressBar& bar) {
  Stopwatch clock;
  EpochStats s;
  double loss_sum = 0;
  int64_t correct = 0, batches = loader.batches_per_epoch();
  std::vector<std::pair<std::string, double>> sums;
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
    int64_t n = r.logits.size(0), labeled = r.labels.numel();
    loss_sum += value * double(n);
    if (labeled > 0) {
      Tensor predicted = r.logits.detach().narrow(0, 0, labeled).argmax(1);
      correct += eq(predicted, r.labels).sum().item<int64_t>();
    }
    for (auto& [name, part] : r.parts) {
      auto it = std::find_if(sums.begin(), sums.end(), [&](auto& p) { return p.first == name; });
      if (it == sums.end())
        sums.emplace_back(name, part * double(n));
      else
        it->second += part * double(n);
    }
    s.rows += n;
    s.labeled += labeled;
    double seconds = clock.seconds();
    bar.update(
        b.index + 1, batches,
        {{"loss", loss_sum / double(s.rows)},
         {"acc", s.labeled ? double(correct) / double(s.labeled) : 0, Metric::Style::percent, 1},
         {"img/s", seconds > 0 ? double(s.rows) / seconds : 0, Metric::Style::rate, 0}});
  }
  bar.finish();
  s.seconds = clock.seconds();
  if (s.rows > 0) {
    s.loss = loss_sum / double(s.rows);
    for (auto& [name, sum] : sums) s.parts.emplace_back(name, sum / double(s.rows));
  }
  s.accuracy = s.labeled ? double(correct) / double(s.labeled) : 0;
  s.images_per_second = s.seconds > 0 ? double(s.rows) / s.seconds : 0;
  return s;
}

}  // namespace tutor::cli
