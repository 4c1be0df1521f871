// What the model tests share: PyTorch's state-dict listings (tests/fixtures/models/*.txt) and the
// whole-model parity check against a golden file of tools/golden/parity_golden.py (DESIGN.md,
// numerics: step-0 logits 1e-4, parameter gradients 1e-4 abs + 1e-3 rel, 10-step SGD losses
// 1e-4).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/random.h"
#include "engine/core/rng.h"
#include "engine/nn/module.h"
#include "models/model.h"

namespace tutor::testing {

// A standard-normal model input, reproducible by seed.
inline Tensor randn_input(const Shape& shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, {}, &gen);
}

using FileTensors = std::map<std::string, Tensor>;

// ---- state-dict listings ----

struct Listing {
  int64_t num_parameters = 0;
  std::vector<std::string> lines;  // "key [shape] dtype"
};

// The "## NAME COUNT" headers of tests/fixtures/models/<file>, each with its model's lines.
std::map<std::string, Listing> pytorch_listings(const std::string& file);
// The same lines for a tutor module.
std::vector<std::string> listing(const nn::Module& m);
// `model`'s state dict and parameter count equal the listing's, line by line.
void check_listing(const nn::Module& model, const Listing& expected);

// Saves `from`'s state dict to a temporary safetensors file, loads it strictly into `into` (a
// model of the same architecture with other weights) and checks every entry and the eval-mode
// forward on x are bit-identical.
void check_safetensors_round_trip(models::Model& from, models::Model& into, const Tensor& x);

// ---- golden files ----

// The tensors under "prefix." with the prefix dropped, in file-name order.
nn::NamedTensors with_prefix(const FileTensors& file, const std::string& prefix);
// The named tensor; fails the test case when absent.
const Tensor& get(const FileTensors& file, const std::string& name);

// mix32(mix32(i) ^ fnv1a32(key)): the integer hash of tools/golden/make_resnet_fixtures.py
// (formula_hash), which picks the sampled gradient elements and the closed-form weights.
uint64_t formula_hash(const std::string& key, uint64_t i);

struct ParityOptions {
  // The initial state dict from the model and the file; the file's init.* when null.
  std::function<nn::NamedTensors(const nn::Module&, const FileTensors&)> initial_state = nullptr;
  // The train-mode loss from the forward's logits and taps (loss_taps requested); the mean
  // cross-entropy against the file's labels when null.
  std::vector<std::string> loss_taps = {};
  std::function<Tensor(const Tensor& logits, const models::Taps& taps, const FileTensors& file)>
      loss = nullptr;
};

// Subcases: eval-mode logits and every tap but logits; train-mode logits, loss, every parameter
// gradient (in full, or at sampled elements and as L1 / L2 norms) and the running statistics
// after; the losses of 10 SGD steps (lr 0.01, momentum 0.9). `make` builds a fresh model.
void check_parity(const std::filesystem::path& fixture,
                  const std::function<std::shared_ptr<models::Model>()>& make,
                  const ParityOptions& options = {});

}  // namespace tutor::testing
