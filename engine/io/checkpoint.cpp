#include "engine/io/checkpoint.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>
#include <set>
#include <system_error>
#include <vector>

#include "engine/core/error.h"
#include "engine/data/loader.h"
#include "engine/io/safetensors.h"
#include "engine/nn/module.h"
#include "engine/optim/lr_scheduler.h"
#include "engine/optim/optimizer.h"

namespace tutor {
namespace {

bool valid_state_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Adds a state dict's tensors and scalars under `prefix` (e.g. "optimizer.").
void put_state(const std::string& prefix, const optim::StateDict& dict,
               std::map<std::string, Tensor>& tensors, SafetensorsMetadata& metadata) {
  for (const auto& [key, t] : dict.tensors) tensors.emplace(prefix + key, t);
  // fmt's "{}" prints the shortest decimal that reads back to the same double (Ryu-like).
  for (const auto& [key, v] : dict.scalars) metadata.emplace(prefix + key, fmt::format("{}", v));
}

// The metadata and tensors of one file, with the checks that name the file and the key.
class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path), contents_(load_safetensors(path)) {}

  const std::string& text(const std::string& key) const {
    auto it = contents_.metadata.find(key);
    if (it == contents_.metadata.end())
      fail("checkpoint {}: missing metadata key '{}' (not a tutor checkpoint?)", path_, key);
    return it->second;
  }

  template <class Int>
  Int integer(const std::string& key, Int lo = std::numeric_limits<Int>::min()) const {
    const std::string& s = text(key);
    Int value{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty() || value < lo)
      fail("checkpoint {}: metadata key '{}' = '{}' is not an integer >= {}", path_, key, s, lo);
    return value;
  }

  double real(const std::string& key) const {
    const std::string& s = text(key);
    double value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty())
      fail("checkpoint {}: metadata key '{}' = '{}' is not a number", path_, key, s);
    return value;
  }

  // Everything stored under `prefix`, the prefix removed; each key is marked as used.
  optim::StateDict state(const std::string& prefix) {
    optim::StateDict dict;
    for (const auto& [name, t] : contents_.tensors)
      if (name.starts_with(prefix)) {
        dict.tensors.emplace(name.substr(prefix.size()), t);
        used_tensors_.insert(name);
      }
    for (const auto& [key, value] : contents_.metadata)
      if (key.starts_with(prefix)) dict.scalars.emplace(key.substr(prefix.size()), real(key));
    return dict;
  }

  NamedTensors tensors(const std::string& prefix) {
    NamedTensors out;
    for (const auto& [name, t] : contents_.tensors)
      if (name.starts_with(prefix)) {
        out.emplace_back(name.substr(prefix.size()), t);
        used_tensors_.insert(name);
      }
    return out;
  }

  std::map<std::string, std::string> strings(const std::string& prefix) const {
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : contents_.metadata)
      if (key.starts_with(prefix)) out.emplace(key.substr(prefix.size()), value);
    return out;
  }

  void check_all_tensors_used() const {
    for (const auto& [name, t] : contents_.tensors)
      if (!used_tensors_.count(name))
        fail(
            "checkpoint {}: tensor '{}' is under no known prefix (model., optimizer., "
            "scheduler., state.<name>.)",
            path_, name);
  }

 private:
  std::string path_;
  SafetensorsContents contents_;
  std::set<std::string> used_tensors_;
};

std::vector<std::string> split_names(const std::string& list) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start < list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    names.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return names;
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  std::map<std::string, Tensor> tensors;
  SafetensorsMetadata metadata;
  for (const auto& [name, t] : checkpoint.model) {
    TUTOR_CHECK(tensors.emplace("model." + name, t).second,
                "save_checkpoint {}: model tensor '{}' appears twice", path, name);
  }
  put_state("optimizer.", checkpoint.optimizer, tensors, metadata);
  if (checkpoint.scheduler) put_state("scheduler.", *checkpoint.scheduler, tensors, metadata);
  std::string state_names;
  for (const auto& [name, dict] : checkpoint.states) {
    TUTOR_CHECK(valid_state_name(name),
                "save_checkpoint {}: state name '{}' must be letters, digits, '_' or '-'", path,
                name);
    put_state("state." + name + ".", dict, tensors, metadata);
    state_names += (state_names.empty() ? "" : ",") + name;
  }
  metadata["checkpoint.format_version"] = std::to_string(kCheckpointFormatVersion);
  metadata["checkpoint.epoch"] = std::to_string(checkpoint.epoch);
  metadata["checkpoint.batch"] = std::to_string(checkpoint.batch);
  metadata["checkpoint.step"] = std::to_string(checkpoint.step);
  metadata["checkpoint.has_scheduler"] = std::to_string(int(checkpoint.scheduler.has_value()));
  metadata["checkpoint.states"] = state_names;
  metadata["rng.seed"] = std::to_string(checkpoint.rng.seed);
  metadata["rng.counter"] = std::to_string(checkpoint.rng.counter);
  metadata["rng.index"] = std::to_string(checkpoint.rng.index);
  for (const auto& [key, value] : checkpoint.extra) metadata["extra." + key] = value;
  save_safetensors(path, tensors, metadata);
}

Checkpoint load_checkpoint(const std::string& path) {
  Reader in(path);
  const auto version = in.integer<int64_t>("checkpoint.format_version");
  TUTOR_CHECK(version == kCheckpointFormatVersion,
              "checkpoint {}: metadata key 'checkpoint.format_version' is {}; this build reads "
              "version {}",
              path, version, kCheckpointFormatVersion);
  Checkpoint c;
  c.epoch = in.integer<int64_t>("checkpoint.epoch", 0);
  c.batch = in.integer<int64_t>("checkpoint.batch", 0);
  c.step = in.integer<int64_t>("checkpoint.step", 0);
  const auto has_scheduler = in.integer<int>("checkpoint.has_scheduler", 0);
  TUTOR_CHECK(has_scheduler <= 1,
              "checkpoint {}: metadata key 'checkpoint.has_scheduler' is {}, "
              "not 0 or 1",
              path, has_scheduler);
  c.rng.seed = in.integer<uint64_t>("rng.seed");
  c.rng.counter = in.integer<uint64_t>("rng.counter");
  c.rng.index = in.integer<uint32_t>("rng.index");
  TUTOR_CHECK(c.rng.index <= 4, "checkpoint {}: metadata key 'rng.index' is {}, not in [0, 4]",
              path, c.rng.index);

  c.model = in.tensors("model.");
  c.optimizer = in.state("optimizer.");
  if (has_scheduler) c.scheduler = in.state("scheduler.");
  for (const std::string& name : split_names(in.text("checkpoint.states"))) {
    TUTOR_CHECK(valid_state_name(name),
                "checkpoint {}: metadata key 'checkpoint.states' names an invalid state '{}'", path,
                name);
    c.states.emplace(name, in.state("state." + name + "."));
  }
  in.check_all_tensors_used();
  c.extra = in.strings("extra.");
  return c;
}

Checkpoint capture_checkpoint(const nn::Module& model, const optim::Optimizer& optimizer,
                              const optim::LRScheduler* scheduler, const data::DataLoader* loader,
                              int64_t step) {
  Checkpoint c;
  c.model = model.state_dict();
  c.optimizer = optimizer.state_dict();
  if (scheduler) c.scheduler = scheduler->state_dict();
  c.rng = default_generator().state();
  if (loader) {
    c.epoch = loader->current_epoch();
    c.batch = loader->position();
  }
  c.step = step;
  return c;
}

void restore_checkpoint(const Checkpoint& checkpoint, nn::Module& model,
                        optim::Optimizer& optimizer, optim::LRScheduler* scheduler,
                        data::DataLoader* loader) {
  TUTOR_CHECK(!checkpoint.scheduler || scheduler,
              "restore_checkpoint: the checkpoint holds an LR schedule's state but no scheduler "
              "was given");
  TUTOR_CHECK(checkpoint.scheduler || !scheduler,
              "restore_checkpoint: a scheduler was given but the checkpoint holds no LR schedule "
              "state");
  model.load_state_dict(checkpoint.model, /*strict=*/true);
  optimizer.load_state_dict(checkpoint.optimizer);
  if (scheduler) scheduler->load_state_dict(*checkpoint.scheduler);
  default_generator().set_state(checkpoint.rng);
  if (loader) loader->begin_epoch(checkpoint.epoch, checkpoint.batch);
}

}  // namespace tutor
