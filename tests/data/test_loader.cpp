// DataLoader: coverage of each epoch, determinism in (seed, epoch, batch) with and without
// prefetching, drop_last, resuming mid-epoch, and errors from the worker thread.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <numeric>

#include "engine/core/random.h"
#include "engine/data/loader.h"
#include "engine/data/mixing.h"
#include "tests/data/data_test.h"

using namespace tutor;
using namespace tutor::data;
using namespace tutor::data::test;

// n samples [1, h, h]; sample i holds i + 1 (plus the pixel's position / 1000) everywhere.
static std::shared_ptr<TensorDataset> numbered(int64_t n, int64_t h = 1) {
  std::vector<float> px;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t p = 0; p < h * h; ++p) px.push_back(float(i + 1) + float(p) / 1000.0f);
    labels.push_back(i % 3);
  }
  return std::make_shared<TensorDataset>(from_vector(px, {n, 1, h, h}),
                                         from_vector(labels, {n}, DType::i64), 3);
}

static std::vector<Batch> run_epoch(DataLoader& loader, int64_t epoch, int64_t start = 0) {
  std::vector<Batch> out;
  loader.begin_epoch(epoch, start);
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

static bool same(const Batch& a, const Batch& b) {
  return a.indices == b.indices && a.epoch == b.epoch && a.index == b.index &&
         a.images.sizes() == b.images.sizes() &&
         a.images.to_vector<float>() == b.images.to_vector<float>() &&
         a.labels.to_vector<int64_t>() == b.labels.to_vector<int64_t>() &&
         a.targets.defined() == b.targets.defined() &&
         (!a.targets.defined() || a.targets.to_vector<float>() == b.targets.to_vector<float>());
}

static bool same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!same(a[i], b[i])) return false;
  return true;
}

TEST_CASE("data: loader visits every sample once per epoch, in batches") {
  for (int64_t prefetch : {0, 2}) {
    CAPTURE(prefetch);
    DataLoader loader(numbered(10),
                      {.batch_size = 3, .shuffle = true, .seed = 5, .prefetch = prefetch});
    CHECK(loader.batches_per_epoch() == 4);
    for (int64_t epoch : {0, 1, 7}) {
      std::vector<Batch> batches = run_epoch(loader, epoch);
      REQUIRE(batches.size() == 4);
      std::vector<int64_t> seen;
      for (size_t k = 0; k < batches.size(); ++k) {
        const Batch& b = batches[k];
        CHECK(b.index == int64_t(k));
        CHECK(b.epoch == epoch);
        CHECK(b.images.size(0) == (k < 3 ? 3 : 1));
        std::vector<float> px = b.images.to_vector<float>();
        std::vector<int64_t> labels = b.labels.to_vector<int64_t>();
        for (size_t i = 0; i < b.indices.size(); ++i) {
          CHECK(px[i] == float(b.indices[i] + 1));  // the row gathered is the row named
          CHECK(labels[i] == b.indices[i] % 3);
          seen.push_back(b.indices[i]);
        }
      }
      // The epoch's order is the batches' rows in sequence, and a permutation of 0..9.
      CHECK(seen == loader.order(epoch));
      std::sort(seen.begin(), seen.end());
      CHECK(seen == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
      CHECK(!loader.next());
    }
  }
}

TEST_CASE("data: the order depends only on seed and epoch") {
  auto ds = numbered(50);
  DataLoader a(ds, {.batch_size = 4, .shuffle = true, .seed = 42});
  DataLoader b(ds, {.batch_size = 7, .shuffle = true, .seed = 42, .prefetch = 0});
  DataLoader c(ds, {.batch_size = 4, .shuffle = true, .seed = 43});
  for (int64_t e = 0; e < 4; ++e) {
    CHECK(a.order(e) == b.order(e));
    CHECK(a.order(e) != c.order(e));
    CHECK(a.order(e) != a.order(e + 1));
    // The documented formula: randperm from Generator(mix_seed(seed, epoch)).
    Generator g(mix_seed(42, uint64_t(e)));
    CHECK(a.order(e) == randperm(50, DType::i64, &g).to_vector<int64_t>());
  }
  DataLoader plain(ds, {.batch_size = 4});
  std::vector<int64_t> identity(50);
  std::iota(identity.begin(), identity.end(), int64_t(0));
  CHECK(plain.order(3) == identity);
}

static LoaderOptions augmenting(int64_t prefetch) {
  return {.batch_size = 8,
          .shuffle = true,
          .seed = 2024,
          .prefetch = prefetch,
          .transforms = {RandomCrop{2}, HorizontalFlip{}, RandomErasing{}, Mixup{0.4, 3},
                         Normalize{{0.5}, {2.0}}}};
}

TEST_CASE("data: augmented batches are the same with and without prefetching") {
  auto ds = numbered(37, 6);
  DataLoader sync(ds, augmenting(0));
  std::vector<Batch> reference = run_epoch(sync, 3);
  REQUIRE(reference.size() == 5);
  CHECK(reference[0].targets.sizes() == Shape{8, 3});
  for (int64_t prefetch : {1, 2, 8}) {
    CAPTURE(prefetch);
    DataLoader loader(ds, augmenting(prefetch));
    CHECK(same(run_epoch(loader, 3), reference));
    CHECK(same(run_epoch(loader, 3), reference));  // and again on the same loader
  }
  for (int64_t k = 0; k < 5; ++k) CHECK(same(sync.batch(3, k), reference[size_t(k)]));
  // Another epoch: another order and other augmentations.
  std::vector<Batch> next = run_epoch(sync, 4);
  CHECK(next[0].indices != reference[0].indices);
  CHECK(next[0].images.to_vector<float>() != reference[0].images.to_vector<float>());
}

TEST_CASE("data: each batch of an epoch draws its own augmentations") {
  // Every sample identical, no shuffling: only the per-batch generator can tell batches apart.
  auto ds = std::make_shared<TensorDataset>(ones({16, 1, 8, 8}), zeros({16}, DType::i64), 1);
  DataLoader loader(ds, {.batch_size = 4, .transforms = {RandomCrop{3}}});
  std::vector<Batch> batches = run_epoch(loader, 0);
  for (size_t k = 1; k < batches.size(); ++k)
    CHECK(batches[k].images.to_vector<float>() != batches[0].images.to_vector<float>());
}

TEST_CASE("data: drop_last") {
  auto ten = numbered(10), nine = numbered(9);
  CHECK(DataLoader(ten, {.batch_size = 3, .drop_last = true}).batches_per_epoch() == 3);
  CHECK(DataLoader(ten, {.batch_size = 3}).batches_per_epoch() == 4);
  CHECK(DataLoader(nine, {.batch_size = 3, .drop_last = true}).batches_per_epoch() == 3);
  CHECK(DataLoader(nine, {.batch_size = 3}).batches_per_epoch() == 3);
  CHECK(DataLoader(ten, {.batch_size = 20, .drop_last = true}).batches_per_epoch() == 0);
  DataLoader loader(ten, {.batch_size = 3, .shuffle = true, .seed = 1, .drop_last = true});
  std::vector<Batch> batches = run_epoch(loader, 2);
  REQUIRE(batches.size() == 3);
  for (const Batch& b : batches) CHECK(b.images.size(0) == 3);
  // The dropped sample is the last one of the epoch's order.
  std::vector<int64_t> order = loader.order(2);
  for (const Batch& b : batches)
    CHECK(std::find(b.indices.begin(), b.indices.end(), order.back()) == b.indices.end());
  DataLoader empty(ten, {.batch_size = 20, .drop_last = true});
  CHECK(run_epoch(empty, 0).empty());
}

TEST_CASE("data: resuming mid-epoch gives the batches of an uninterrupted run") {
  auto ds = numbered(37, 6);
  DataLoader full(ds, augmenting(2));
  std::vector<Batch> reference = run_epoch(full, 1);
  for (int64_t prefetch : {0, 3}) {
    for (int64_t start : {0, 2, 4, 5}) {
      CAPTURE(prefetch);
      CAPTURE(start);
      DataLoader resumed(ds, augmenting(prefetch));
      resumed.begin_epoch(0);  // a different epoch first, abandoned part way
      REQUIRE(resumed.next());
      std::vector<Batch> tail = run_epoch(resumed, 1, start);
      CHECK(same(tail, std::vector<Batch>(reference.begin() + start, reference.end())));
    }
  }
  // Stop after two batches, note the position, resume in a new loader.
  DataLoader first(ds, augmenting(2));
  first.begin_epoch(1);
  first.next();
  first.next();
  CHECK(first.position() == 2);
  CHECK(first.current_epoch() == 1);
  DataLoader second(ds, augmenting(2));
  std::vector<Batch> rest;
  for (Batch& b : second.epoch(first.current_epoch(), first.position())) rest.push_back(b);
  CHECK(same(rest, std::vector<Batch>(reference.begin() + 2, reference.end())));
  check_error([&] { second.begin_epoch(1, 6); },
              {"begin_epoch", "start batch 6 is outside [0, 5]"});
}

TEST_CASE("data: an error while preparing a batch reaches the consumer") {
  auto ds = numbered(20);
  Transform fail_on_2 = [](Batch& b, Generator&) {
    if (b.index == 2) throw Error(fmt::format("test transform: batch {} is broken", b.index));
  };
  for (int64_t prefetch : {0, 1, 4}) {
    CAPTURE(prefetch);
    DataLoader loader(ds, {.batch_size = 4, .prefetch = prefetch, .transforms = {fail_on_2}});
    loader.begin_epoch(0);
    CHECK(loader.next()->index == 0);
    CHECK(loader.next()->index == 1);
    check_error([&] { loader.next(); }, {"batch 2 is broken"});
    check_error([&] { loader.next(); }, {"batch 2 is broken"});  // and stays failed
    CHECK(loader.position() == 2);
    // A new epoch starting after the broken batch runs normally.
    loader.begin_epoch(0, 3);
    CHECK(loader.next()->index == 3);
  }
  // A dataset that throws (not a tutor::Error) inside the worker.
  struct Broken : Dataset {
    int64_t size() const override { return 5; }
    Batch get(const std::vector<int64_t>&) const override { throw std::out_of_range("disk gone"); }
  };
  DataLoader loader(std::make_shared<Broken>(), {.batch_size = 2});
  loader.begin_epoch(0);
  CHECK_THROWS_WITH_AS(loader.next(), "disk gone", std::out_of_range);
}

TEST_CASE("data: destroying a loader mid-epoch stops its worker") {
  std::atomic<int> made{0};
  auto ds = numbered(100);
  {
    Transform count = [&made](Batch&, Generator&) { ++made; };
    DataLoader loader(ds, {.batch_size = 1, .prefetch = 3, .transforms = {count}});
    loader.begin_epoch(0);
    CHECK(loader.next());
  }  // the worker is blocked on the full queue here; the destructor must wake and join it
  // One batch consumed, at most 3 ahead plus one in preparation.
  CHECK(made.load() <= 5);
  check_error([&] { DataLoader(ds, {.batch_size = 0}); }, {"DataLoader", "batch_size"});
  check_error([&] { DataLoader(ds, {}).next(); }, {"DataLoader::next", "begin_epoch"});
  check_error([&] { DataLoader(ds, {.transforms = {Transform()}}); },
              {"DataLoader", "transform 0 is empty"});
}
