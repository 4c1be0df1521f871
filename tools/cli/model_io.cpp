#include "tools/cli/model_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <optional>

#include "distill/lelp.h"
#include "engine/autograd/grad_mode.h"
#include "engine/core/error.h"
#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "kernels/cpu/threads.h"
#include "models/registry.h"

namespace tutor::cli {

std::vector<FlagSpec> model_flags() {
  return {
      {"model", FlagType::string, "", "model name (required), e.g. resnet20", "NAME"},
      {"num-classes", FlagType::integer, "", "classes of the model's head (default: the data's)"},
      {"in-channels", FlagType::integer, "", "input channels (default: the data's)"},
  };
}

std::vector<FlagSpec> data_flags() {
  return {
      {"data", FlagType::string, "fashion-mnist", "dataset: fashion-mnist", "NAME"},
      {"data-dir", FlagType::string, data::kFashionMnistDir,
       "directory of the gzip IDX files ({train,t10k}-{images-idx3,labels-idx1}-ubyte.gz)", "DIR"},
      {"batch-size", FlagType::integer, "128", "samples per batch"},
      {"threads", FlagType::integer, "0", "CPU kernel threads (0: the library default)"},
  };
}

void apply_threads_flag(const Args& args) {
  int64_t threads = args.get_int("threads");
  if (threads < 0)
    throw UsageError(fmt::format("tutor {}: --threads must be >= 0, got {}",
                                 args.spec().full_name(), threads));
  if (threads > 0) kernels::cpu::set_num_threads(int(threads));
}

FlagSpec no_fuse_flag() {
  return {"no-fuse", FlagType::boolean, "",
          "keep the BatchNorms apart (default: folded into the convs before them)"};
}

void prepare_for_inference(const Args& args, models::Model& model) {
  model.eval();
  if (!args.get_bool("no-fuse")) models::fuse_for_inference(model);
}

static std::optional<int64_t> positive_flag(const Args& args, const std::string& name) {
  if (!args.given(name)) return std::nullopt;
  int64_t v = args.get_int(name);
  if (v <= 0)
    throw UsageError(
        fmt::format("tutor {}: --{} must be positive, got {}", args.spec().full_name(), name, v));
  return v;
}

std::shared_ptr<models::Model> model_from_args(const Args& args,
                                               const models::ModelOptions& defaults) {
  if (!args.given("model"))
    throw UsageError(fmt::format("tutor {}: --model is required (one of: {})",
                                 args.spec().full_name(),
                                 fmt::join(models::list_models(), ", ")));
  models::ModelOptions options = defaults;
  if (auto k = positive_flag(args, "num-classes")) options.num_classes = k;
  if (auto c = positive_flag(args, "in-channels")) options.in_channels = c;
  return models::create_model(args.get_string("model"), options);
}

void load_weights(models::Model& model, const std::string& path) {
  SafetensorsContents contents = load_safetensors(path);
  NamedTensors state(contents.tensors.begin(), contents.tensors.end());
  nn::LoadReport report = model.load_state_dict(state, /*strict=*/false);
  TUTOR_CHECK(report.ok(), "{}: the weights do not fit model {}: {}", path, model.name(),
              report.str());
}

void save_weights(const models::Model& model, const std::string& path,
                  const std::map<std::string, std::string>& metadata) {
  save_safetensors(path, model.state_dict(), metadata);
}

// The first `n` rows of `dataset` as a dataset of their own.
static std::shared_ptr<data::TensorDataset> first_rows(const data::TensorDataset& dataset,
                                                       int64_t n) {
  std::vector<int64_t> rows(size_t(std::min(n, dataset.size())));
  std::iota(rows.begin(), rows.end(), int64_t(0));
  data::Batch b = dataset.get(rows);
  auto subset = std::make_shared<data::TensorDataset>(b.images, b.labels, dataset.num_classes());
  subset->set_class_names(dataset.class_names());
  return subset;
}

std::shared_ptr<data::TensorDataset> load_split(const Args& args, const std::string& split,
                                                int64_t limit) {
  std::string name = args.get_string("data");
  if (name != "fashion-mnist")
    throw UsageError(fmt::format("tutor {}: --data must be fashion-mnist, got '{}'",
                                 args.spec().full_name(), name));
  auto full = std::make_shared<data::TensorDataset>(
      data::fashion_mnist(split, args.get_string("data-dir")));
  return limit > 0 && limit < full->size() ? first_rows(*full, limit) : full;
}

std::unique_ptr<data::DataLoader> eval_loader(std::shared_ptr<const data::TensorDataset> dataset,
                                              int64_t batch_size) {
  data::LoaderOptions options;
  options.batch_size = batch_size;
  options.transforms = {data::Normalize{{kFashionMnistMean}, {kFashionMnistStd}}};
  return std::make_unique<data::DataLoader>(std::move(dataset), options);
}

EvalResult evaluate(models::Model& model, data::DataLoader& loader, int64_t num_classes,
                    ProgressBar* bar, int64_t subclasses) {
  bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  EvalResult r;
  r.confusion.assign(size_t(num_classes), std::vector<int64_t>(size_t(num_classes), 0));
  double loss_sum = 0;
  int64_t& correct = r.correct;
  int64_t batches = loader.batches_per_epoch();
  for (data::Batch& b : loader.epoch(0)) {
    Tensor logits =
        distill::class_logits_of_subclasses(model.forward(b.images, nullptr), subclasses);
    loss_sum += cross_entropy(logits, b.labels, {}, -100, Reduction::sum).item();
    std::vector<int64_t> predicted = logits.argmax(1).to_vector<int64_t>();
    std::vector<int64_t> labels = b.labels.to_vector<int64_t>();
    for (size_t i = 0; i < labels.size(); ++i) {
      TUTOR_CHECK(labels[i] >= 0 && labels[i] < num_classes && predicted[i] < num_classes,
                  "evaluate: label {} or prediction {} outside the model's {} classes", labels[i],
                  predicted[i], num_classes);
      ++r.confusion[size_t(labels[i])][size_t(predicted[i])];
      correct += predicted[i] == labels[i];
    }
    r.count += int64_t(labels.size());
    if (bar)
      bar->update(b.index + 1, batches,
                  {{"loss", loss_sum / double(r.count)},
                   {"acc", double(correct) / double(r.count), Metric::Style::percent, 1}});
  }
  if (bar) bar->finish();
  model.train(was_training);
  r.loss = r.count ? loss_sum / double(r.count) : 0;
  r.accuracy = r.count ? double(correct) / double(r.count) : 0;
  return r;
}

}  // namespace tutor::cli
