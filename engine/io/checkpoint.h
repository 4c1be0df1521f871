// Training checkpoints: everything a run needs to continue exactly where it stopped (model,
// optimizer, LR schedule, the default RNG, the data loader's position, the step counter) in ONE
// safetensors file, written atomically, so any safetensors tool can inspect it.
//
// Tensors:   "model.<name>"          the model's state_dict()
//            "optimizer.<name>"      the optimizer's state tensors (state.<i>.momentum_buffer, ...)
//            "scheduler.<name>"      the LR schedule's tensors, if it has any
//            "state.<s>.<name>"      tensors of extra named state dicts (an EMA, ...)
// __metadata__ (all values strings):
//            "checkpoint.format_version"  kCheckpointFormatVersion, in decimal
//            "checkpoint.epoch", "checkpoint.batch"  the loader position to resume at (epoch e,
//                                         next batch k: DataLoader::begin_epoch(e, k))
//            "checkpoint.step"            global optimizer steps taken
//            "checkpoint.has_scheduler"   "0" or "1"
//            "checkpoint.states"          the extra state names, comma-separated (may be empty)
//            "rng.seed", "rng.counter", "rng.index"  the default generator's Generator::State
//            "optimizer.<key>", "scheduler.<key>", "state.<s>.<key>"  scalars, printed as the
//                                         shortest decimal that reads back to the same double
//            "extra.<key>"                free-form user metadata (the recipe, a git hash, ...)
// Integers are decimal. Loading checks everything: a missing key, an unknown format version, an
// unparsable or out-of-range number and a tensor under no known prefix are each a tutor::Error
// naming the file and the key.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "engine/core/rng.h"
#include "engine/core/tensor.h"
#include "engine/optim/state_dict.h"

namespace tutor {

namespace nn {
class Module;
}
namespace optim {
class Optimizer;
class LRScheduler;
}  // namespace optim
namespace data {
class DataLoader;
}

inline constexpr int64_t kCheckpointFormatVersion = 1;

struct Checkpoint {
  NamedTensors model;
  optim::StateDict optimizer;
  std::optional<optim::StateDict> scheduler;
  // Further state dicts by name (letters, digits, '_' and '-'; no '.' or ','), e.g. "ema".
  std::map<std::string, optim::StateDict> states;
  Generator::State rng{};  // the default generator's
  int64_t epoch = 0;       // resume with DataLoader::begin_epoch(epoch, batch)
  int64_t batch = 0;
  int64_t step = 0;
  std::map<std::string, std::string> extra;  // user metadata, stored as "extra.<key>"
};

// Writes `checkpoint` to `path` atomically (save_safetensors). Tensors must be on the CPU.
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);
// Reads and validates a file save_checkpoint wrote (see the format above).
Checkpoint load_checkpoint(const std::string& path);

// The state of a training run: the model's and optimizer's state dicts, the schedule's (when
// given), the default generator, and the loader's (current_epoch(), position()) when given
// (otherwise epoch and batch are 0 and the caller may set them).
Checkpoint capture_checkpoint(const nn::Module& model, const optim::Optimizer& optimizer,
                              const optim::LRScheduler* scheduler, const data::DataLoader* loader,
                              int64_t step);
// Loads `checkpoint` into freshly built objects of the same architecture: model (strict),
// optimizer, schedule, the default generator, and the loader, which begins epoch `epoch` at
// batch `batch`. A schedule in the checkpoint without one given, or the reverse, is an Error.
void restore_checkpoint(const Checkpoint& checkpoint, nn::Module& model,
                        optim::Optimizer& optimizer, optim::LRScheduler* scheduler,
                        data::DataLoader* loader);

}  // namespace tutor
