// What train, eval, forward and export share: the model and data flags, building a model from
// them, loading weights into it, the Fashion-MNIST input pipeline and one evaluation pass.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/data/data.h"
#include "models/model.h"
#include "tools/cli/args.h"
#include "tools/cli/progress.h"

namespace tutor::cli {

// Per-channel statistics of the Fashion-MNIST training images (x / 255), as commonly used with
// torchvision's Normalize.
inline constexpr double kFashionMnistMean = 0.2860;
inline constexpr double kFashionMnistStd = 0.3530;

// --model, --num-classes, --in-channels.
std::vector<FlagSpec> model_flags();
// --data, --data-dir, --batch-size, --threads.
std::vector<FlagSpec> data_flags();

// Sets the kernel thread count from --threads when it is given (> 0).
void apply_threads_flag(const Args& args);

// --no-fuse, for the inference commands (forward, eval).
FlagSpec no_fuse_flag();
// Puts `model` in eval mode and, unless --no-fuse is given, folds its BatchNorms into their convs
// (models::fuse_for_inference). For commands that only run inference on the loaded weights.
void prepare_for_inference(const Args& args, models::Model& model);

// A model named by --model; --num-classes / --in-channels override `defaults`.
std::shared_ptr<models::Model> model_from_args(const Args& args,
                                               const models::ModelOptions& defaults = {});

// Loads a safetensors state dict into `model`, strictly; an Error naming the file and the
// missing, unexpected or mismatched names otherwise.
void load_weights(models::Model& model, const std::string& path);
// Writes the model's state dict (PyTorch key names) atomically.
void save_weights(const models::Model& model, const std::string& path,
                  const std::map<std::string, std::string>& metadata = {});

// Split "train" or "test" of --data from --data-dir, cut to its first `limit` rows when limit > 0.
std::shared_ptr<data::TensorDataset> load_split(const Args& args, const std::string& split,
                                                int64_t limit);

// Batches in order, normalized with the Fashion-MNIST mean and std.
std::unique_ptr<data::DataLoader> eval_loader(std::shared_ptr<const data::TensorDataset> dataset,
                                              int64_t batch_size);

struct EvalResult {
  int64_t count = 0;
  int64_t correct = 0;  // samples whose argmax logit is the label
  double loss = 0;      // mean cross-entropy over the samples
  double accuracy = 0;  // correct / count
  std::vector<std::vector<int64_t>> confusion;  // [true label][predicted label]
};

// One pass in eval mode without gradients; the model's train/eval mode is restored afterwards.
// `bar` (may be null) shows progress. With subclasses = k > 1 the model has a C*k-way subclass
// head (lelp), scored by its class logits (distill/lelp.h class_logits_of_subclasses).
EvalResult evaluate(models::Model& model, data::DataLoader& loader, int64_t num_classes,
                    ProgressBar* bar, int64_t subclasses = 1);

}  // namespace tutor::cli
