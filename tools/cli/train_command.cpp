// `tutor train`: supervised training of a registry model on Fashion-MNIST with SGD.
#include <fmt/format.h>

#include <filesystem>

#include "engine/core/error.h"
#include "engine/core/rng.h"
#include "engine/io/checkpoint.h"
#include "engine/ops/ops.h"
#include "engine/optim/lr_scheduler.h"
#include "engine/optim/sgd.h"
#include "tools/cli/command.h"
#include "tools/cli/json.h"
#include "tools/cli/model_io.h"
#include "tools/cli/training_loop.h"

namespace tutor::cli {

namespace {

std::unique_ptr<optim::LRScheduler> make_schedule(const Args& args, optim::Optimizer& optimizer,
                                                  int64_t epochs) {
  int64_t warmup = args.get_int("warmup-epochs");
  std::string command = args.spec().full_name();
  if (warmup < 0 || warmup >= epochs)
    throw UsageError(fmt::format("tutor {}: --warmup-epochs must be in [0, epochs = {}), got {}",
                                 command, epochs, warmup));
  int64_t step = args.get_int("step-size");
  if (args.get_string("schedule") == "step" && step <= 0)
    throw UsageError(fmt::format("tutor {}: --step-size must be positive, got {}", command, step));
  return make_lr_schedule(optimizer, args.get_string("schedule"), epochs, warmup, step);
}

int64_t positive(const Args& args, const std::string& flag) {
  int64_t v = args.get_int(flag);
  if (v <= 0)
    throw UsageError(fmt::format("tutor {}: --{} must be positive, got {}",
                                 args.spec().full_name(), flag, v));
  return v;
}

void run_train(const Args& args, Io& io) {
  int64_t epochs = positive(args, "epochs");
  int64_t batch_size = positive(args, "batch-size");
  double lr = args.get_double("lr");
  if (!(lr > 0))
    throw UsageError(fmt::format("tutor train: --lr must be positive, got {}", lr));
  int64_t padding = args.get_int("crop-padding");
  if (padding < 0)
    throw UsageError(fmt::format("tutor train: --crop-padding must be >= 0, got {}", padding));
  if (!args.given("out")) throw UsageError("tutor train: --out DIR is required");
  std::string schedule_name = args.get_string("schedule");
  if (schedule_name != "cosine" && schedule_name != "step" && schedule_name != "constant")
    throw UsageError(fmt::format(
        "tutor train: --schedule must be cosine, step or constant, got '{}'", schedule_name));
  apply_threads_flag(args);
  uint64_t seed = uint64_t(args.get_int("seed"));

  auto train_set = load_split(args, "train", args.get_int("limit-train"));
  auto test_set = load_split(args, "test", args.get_int("limit-test"));
  int64_t num_classes = train_set->num_classes();
  manual_seed(seed);  // the model's initialization
  auto model = model_from_args(
      args, {.num_classes = num_classes, .in_channels = train_set->sample_shape()[0]});
  model->train();

  // Validate every flag before touching the output directory.
  optim::SGD optimizer(model->parameters(),
                       {.lr = lr,
                        .momentum = args.get_double("momentum"),
                        .weight_decay = args.get_double("weight-decay")});
  auto schedule = make_schedule(args, optimizer, epochs);

  data::LoaderOptions options;
  options.batch_size = batch_size;
  options.shuffle = true;
  options.seed = seed;
  if (padding > 0) options.transforms.push_back(data::RandomCrop{padding});
  options.transforms.push_back(data::Normalize{{kFashionMnistMean}, {kFashionMnistStd}});
  data::DataLoader train_loader(train_set, options);
  auto test_loader = eval_loader(test_set, batch_size);

  // Resuming restores the model, optimizer, schedule and generator as they were after epoch
  // `start`; the loader's order depends only on (seed, epoch), so the run continues exactly.
  int64_t start = 0, step = 0, best_epoch = 0;
  double best_acc = -1, total_seconds = 0;
  std::string resume = args.given("resume") ? args.get_string("resume") : std::string();
  if (!resume.empty()) {
    Checkpoint c = load_checkpoint(resume);
    auto extra = [&](const char* key) -> const std::string& {
      auto it = c.extra.find(key);
      TUTOR_CHECK(it != c.extra.end(), "{}: not a tutor train checkpoint (no extra.{})", resume,
                  key);
      return it->second;
    };
    TUTOR_CHECK(extra("model") == model->name(), "{}: the checkpoint is of model {}, not {}",
                resume, extra("model"), model->name());
    restore_checkpoint(c, *model, optimizer, schedule.get(), nullptr);
    start = c.epoch;
    step = c.step;
    best_acc = std::stod(extra("best_acc"));
    best_epoch = std::stoll(extra("best_epoch"));
    total_seconds = std::stod(extra("seconds"));
    TUTOR_CHECK(start <= epochs, "{}: the checkpoint is after epoch {}, but --epochs is {}", resume,
                start, epochs);
  }
  int64_t stop = args.get_int("stop-after-epoch");
  stop = stop > 0 ? std::min(stop, epochs) : epochs;

  std::filesystem::path out = args.get_string("out");
  std::error_code failed;
  std::filesystem::create_directories(out, failed);
  TUTOR_CHECK(!failed, "{}: cannot create the output directory: {}", out.string(),
              failed.message());
  JsonlWriter metrics((out / "metrics.jsonl").string(),
                      resume.empty() ? JsonlWriter::Mode::truncate : JsonlWriter::Mode::append);
  io.err << fmt::format("tutor train: {} ({} parameters), {} train / {} test images, {} epochs\n",
                        model->name(), model->num_parameters(), train_set->size(),
                        test_set->size(), epochs);

  ProgressBar bar("");
  EvalResult last;
  for (int64_t epoch = start; epoch < stop; ++epoch) {
    double epoch_lr = optimizer.param_groups()[0].lr();
    Stopwatch clock;
    bar.set_label(fmt::format("epoch {}/{}", epoch + 1, epochs));
    EpochStats stats = train_epoch(
        train_loader, epoch, optimizer, step, [&](data::Batch& b, int64_t) -> StepResult {
          Tensor logits = model->forward(b.images, nullptr);
          return {cross_entropy(logits, b.labels), logits, b.labels, {}};
        },
        bar);
    schedule->step();

    bar.set_label(fmt::format("test {}/{}", epoch + 1, epochs));
    last = evaluate(*model, *test_loader, num_classes, &bar);
    double seconds = clock.seconds();
    total_seconds += seconds;
    double train_loss = stats.loss, train_acc = stats.accuracy;
    metrics.write(JsonObject()
                      .add("epoch", epoch + 1)
                      .add("train_loss", train_loss)
                      .add("train_acc", train_acc)
                      .add("test_loss", last.loss)
                      .add("test_acc", last.accuracy)
                      .add("lr", epoch_lr)
                      .add("seconds", seconds)
                      .add("images_per_second", stats.images_per_second));
    std::map<std::string, std::string> meta = {{"model", model->name()},
                                               {"epoch", std::to_string(epoch + 1)},
                                               {"test_acc", json_number(last.accuracy)}};
    save_weights(*model, (out / "last.safetensors").string(), meta);
    if (last.accuracy > best_acc) {
      best_acc = last.accuracy;
      best_epoch = epoch + 1;
      save_weights(*model, (out / "best.safetensors").string(), meta);
    }
    Checkpoint c = capture_checkpoint(*model, optimizer, schedule.get(), nullptr, step);
    c.epoch = epoch + 1;
    c.extra = {{"model", model->name()},
               {"best_acc", json_number(best_acc)},
               {"best_epoch", std::to_string(best_epoch)},
               {"seconds", json_number(total_seconds)}};
    save_checkpoint((out / "checkpoint.safetensors").string(), c);
    io.err << fmt::format(
        "epoch {}/{}: train loss {:.4f} acc {:.2f}%, test loss {:.4f} acc {:.2f}%, lr {:.4g}, "
        "{:.1f} s\n",
        epoch + 1, epochs, train_loss, 100 * train_acc, last.loss, 100 * last.accuracy, epoch_lr,
        seconds);
  }
  if (stop == start) {
    io.out << fmt::format("{}: nothing to do, the run is already past epoch {}\n", model->name(),
                          stop);
    return;
  }
  io.out << fmt::format(
      "{}: {} epochs in {:.1f} s ({:.1f} s/epoch); test acc {:.2f}% (last), {:.2f}% (best, epoch "
      "{}); weights in {}\n",
      model->name(), stop, total_seconds, total_seconds / double(stop), 100 * last.accuracy,
      100 * best_acc, best_epoch, out.string());
}

}  // namespace

Command train_command() {
  std::vector<FlagSpec> flags = model_flags();
  for (FlagSpec& f : data_flags()) flags.push_back(f);
  std::vector<FlagSpec> own = {
      {"epochs", FlagType::integer, "15", "training epochs"},
      {"lr", FlagType::real, "0.05", "base learning rate of SGD"},
      {"momentum", FlagType::real, "0.9", "SGD momentum"},
      {"weight-decay", FlagType::real, "5e-4", "L2 weight decay (added to the gradient)"},
      {"schedule", FlagType::string, "cosine", "lr schedule per epoch: cosine, step or constant",
       "NAME"},
      {"step-size", FlagType::integer, "5", "epochs between x0.1 steps of --schedule step"},
      {"warmup-epochs", FlagType::integer, "0", "linear warmup epochs from lr / (K + 1) to lr",
       "K"},
      {"crop-padding", FlagType::integer, "2", "RandomCrop padding in pixels (0: no crop)"},
      {"seed", FlagType::integer, "0", "seed of the initialization, shuffling and augmentation"},
      {"limit-train", FlagType::integer, "0", "use the first N training images (0: all)", "N"},
      {"limit-test", FlagType::integer, "0", "use the first N test images (0: all)", "N"},
      {"out", FlagType::string, "", "output directory (required)", "DIR"},
      {"resume", FlagType::string, "", "continue from OUT/checkpoint.safetensors of an earlier run",
       "FILE"},
      {"stop-after-epoch", FlagType::integer, "0",
       "end this run after epoch K (0: after --epochs); --resume continues it", "K"},
  };
  for (FlagSpec& f : own) flags.push_back(f);
  CommandSpec spec{
      {"train"},
      "train a model on Fashion-MNIST with SGD",
      "Trains --model from its reference initialization with SGD (momentum, weight decay) and\n"
      "cross-entropy, evaluating on the test split after every epoch (eval mode, no gradients).\n"
      "Inputs are x / 255 normalized with the Fashion-MNIST mean 0.2860 and std 0.3530; training\n"
      "batches are first randomly cropped with --crop-padding zeros. Writes to OUT:\n"
      "  metrics.jsonl     one line per epoch: epoch, train_loss, train_acc, test_loss, test_acc,\n"
      "                    lr, seconds, images_per_second\n"
      "  last.safetensors  the weights after the last epoch (PyTorch state_dict names)\n"
      "  best.safetensors  the weights of the epoch with the best test accuracy\n"
      "  checkpoint.safetensors  model, optimizer, schedule and generator after the last epoch;\n"
      "                    --resume continues from it with the same losses as an unbroken run\n"
      "and prints a summary line on stdout.",
      flags,
      {}};
  return {spec, run_train};
}

}  // namespace tutor::cli
