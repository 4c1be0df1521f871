// DataLoader: batches of a Dataset in an order and with augmentations that depend only on
// (seed, epoch, batch index), optionally prepared ahead on a background thread.
//
// Determinism contract (what checkpoints and distillation rely on):
//   order(e)        = identity, or randperm(N) drawn from Generator(mix(seed, e)) when shuffling
//   batch k of e    = dataset rows order(e)[k B, min((k + 1) B, N)), then each transform in turn
//                     with one Generator(mix(mix(seed ^ kTransformStream, e), k)) for the batch
//   mix(a, b)       = splitmix64(a ^ splitmix64(b))   (Steele et al., "Fast splittable PRNGs")
// so a batch is the same with or without prefetching, whatever the thread timing, and an epoch
// can resume at any batch k (begin_epoch(e, k)) with the batches an uninterrupted run would get.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/data/transforms.h"

namespace tutor::data {

uint64_t splitmix64(uint64_t x);
uint64_t mix_seed(uint64_t a, uint64_t b);
inline constexpr uint64_t kTransformStream = 0x7472616e73666f72;  // "transfor"

struct LoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  uint64_t seed = 0;
  bool drop_last = false;  // drop the last batch when it has fewer than batch_size samples
  // Batches prepared ahead on one background thread; 0 prepares each in next() on the caller's.
  int64_t prefetch = 2;
  // Applied in order to each batch. They may run on the background thread while the caller uses
  // the loader, so they must not share mutable state.
  std::vector<Transform> transforms = {};
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  int64_t batches_per_epoch() const;
  const LoaderOptions& options() const { return options_; }
  const Dataset& dataset() const { return *dataset_; }

  // The sample order of epoch `epoch` (see the contract above).
  std::vector<int64_t> order(int64_t epoch) const;
  // Batch `index` of `epoch`, computed on the calling thread.
  Batch batch(int64_t epoch, int64_t index) const;

  // Starts epoch `epoch` at batch `start_batch` (0 for a fresh epoch, k to resume), stopping any
  // prefetching still running for the previous one.
  void begin_epoch(int64_t epoch, int64_t start_batch = 0);
  // The next batch of the current epoch, or nothing at its end; begin_epoch comes first. An exception thrown while
  // preparing a batch (on whichever thread) is rethrown here, and again on later calls.
  std::optional<Batch> next();
  // Index of the batch next() returns next: a checkpoint saves (epoch, position) to resume.
  int64_t position() const { return cursor_; }
  int64_t current_epoch() const { return epoch_; }

  // for (Batch& b : loader.epoch(e)) { ... }
  class EpochRange;
  EpochRange epoch(int64_t epoch, int64_t start_batch = 0);

 private:
  Batch make_batch(const std::vector<int64_t>& order, int64_t epoch, int64_t index) const;
  void produce(std::shared_ptr<const std::vector<int64_t>> order, int64_t epoch, int64_t first,
               int64_t end);
  void stop_worker();

  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  int64_t epoch_ = 0, cursor_ = 0, end_ = 0;
  std::shared_ptr<const std::vector<int64_t>> order_;

  struct Item {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> queue_;  // batches cursor_, cursor_ + 1, ... in order
  bool stop_ = false;
};

class DataLoader::EpochRange {
 public:
  struct End {};
  class Iterator {
   public:
    Iterator(DataLoader* loader, std::optional<Batch> batch)
        : loader_(loader), batch_(std::move(batch)) {}
    Batch& operator*() { return *batch_; }
    Iterator& operator++() {
      batch_ = loader_->next();
      return *this;
    }
    bool operator!=(End) const { return batch_.has_value(); }

   private:
    DataLoader* loader_;
    std::optional<Batch> batch_;
  };

  EpochRange(DataLoader* loader, int64_t epoch, int64_t start)
      : loader_(loader), epoch_(epoch), start_(start) {}
  Iterator begin() {
    loader_->begin_epoch(epoch_, start_);
    return Iterator(loader_, loader_->next());
  }
  End end() { return {}; }

 private:
  DataLoader* loader_;
  int64_t epoch_, start_;
};

}  // namespace tutor::data
