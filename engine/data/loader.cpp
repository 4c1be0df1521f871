#include "engine/data/loader.h"

#include <algorithm>

#include "engine/core/random.h"

namespace tutor::data {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

uint64_t mix_seed(uint64_t a, uint64_t b) { return splitmix64(a ^ splitmix64(b)); }

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  TUTOR_CHECK(dataset_ != nullptr, "DataLoader: dataset is null");
  TUTOR_CHECK(options_.batch_size > 0, "DataLoader: batch_size must be positive, got {}",
              options_.batch_size);
  TUTOR_CHECK(options_.prefetch >= 0, "DataLoader: prefetch must be non-negative, got {}",
              options_.prefetch);
  for (size_t i = 0; i < options_.transforms.size(); ++i)
    TUTOR_CHECK(bool(options_.transforms[i]), "DataLoader: transform {} is empty", i);
}

DataLoader::~DataLoader() { stop_worker(); }

int64_t DataLoader::batches_per_epoch() const {
  const int64_t n = dataset_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<int64_t> DataLoader::order(int64_t epoch) const {
  const int64_t n = dataset_->size();
  if (!options_.shuffle) {
    std::vector<int64_t> identity(size_t(n), 0);
    for (int64_t i = 0; i < n; ++i) identity[size_t(i)] = i;
    return identity;
  }
  Generator gen(mix_seed(options_.seed, uint64_t(epoch)));
  return randperm(n, DType::i64, &gen).to_vector<int64_t>();
}

Batch DataLoader::make_batch(const std::vector<int64_t>& order, int64_t epoch,
                             int64_t index) const {
  TUTOR_CHECK(index >= 0 && index < batches_per_epoch(), "DataLoader: batch {} is outside [0, {})",
              index, batches_per_epoch());
  const int64_t first = index * options_.batch_size;
  const int64_t last = std::min(first + options_.batch_size, int64_t(order.size()));
  Batch batch = dataset_->get(std::vector<int64_t>(order.begin() + first, order.begin() + last));
  batch.epoch = epoch;
  batch.index = index;
  Generator gen(
      mix_seed(mix_seed(options_.seed ^ kTransformStream, uint64_t(epoch)), uint64_t(index)));
  for (const Transform& t : options_.transforms) t(batch, gen);
  return batch;
}

Batch DataLoader::batch(int64_t epoch, int64_t index) const {
  return make_batch(order(epoch), epoch, index);
}

void DataLoader::stop_worker() {
  if (worker_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    worker_.join();
  }
  queue_.clear();
  stop_ = false;
}

void DataLoader::begin_epoch(int64_t epoch, int64_t start_batch) {
  stop_worker();
  const int64_t total = batches_per_epoch();
  TUTOR_CHECK(start_batch >= 0 && start_batch <= total,
              "DataLoader::begin_epoch: start batch {} is outside [0, {}]", start_batch, total);
  if (!order_ || epoch != epoch_)
    order_ = std::make_shared<const std::vector<int64_t>>(order(epoch));
  epoch_ = epoch;
  cursor_ = start_batch;
  end_ = total;
  if (options_.prefetch > 0 && cursor_ < end_)
    worker_ = std::thread(&DataLoader::produce, this, order_, epoch_, cursor_, end_);
}

void DataLoader::produce(std::shared_ptr<const std::vector<int64_t>> order, int64_t epoch,
                         int64_t first, int64_t end) {
  for (int64_t k = first; k < end; ++k) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || int64_t(queue_.size()) < options_.prefetch; });
      if (stop_) return;
    }
    Item item;
    try {
      item.batch = make_batch(*order, epoch, k);
    } catch (...) {
      item.error = std::current_exception();
    }
    const bool failed = item.error != nullptr;
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(item));
    }
    changed_.notify_all();
    if (failed) return;  // the consumer rethrows it; nothing after it is produced
  }
}

std::optional<Batch> DataLoader::next() {
  TUTOR_CHECK(order_ != nullptr, "DataLoader::next: no epoch started (call begin_epoch first)");
  if (cursor_ >= end_) return std::nullopt;
  if (options_.prefetch == 0) {
    Batch b = make_batch(*order_, epoch_, cursor_);
    ++cursor_;
    return b;
  }
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !queue_.empty(); });
  if (queue_.front().error) std::rethrow_exception(queue_.front().error);  // kept for later calls
  Batch b = std::move(*queue_.front().batch);
  queue_.pop_front();
  ++cursor_;
  lock.unlock();
  changed_.notify_all();
  return b;
}

DataLoader::EpochRange DataLoader::epoch(int64_t epoch, int64_t start_batch) {
  return EpochRange(this, epoch, start_batch);
}

}  // namespace tutor::data
