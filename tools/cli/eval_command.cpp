// `tutor eval`: accuracy, loss and confusion matrix of saved weights on the test split.
#include <fmt/format.h>

#include "engine/io/atomic_file.h"
#include "tools/cli/command.h"
#include "tools/cli/json.h"
#include "tools/cli/model_io.h"

namespace tutor::cli {

// Rows: true class; columns: predicted class.
static std::string confusion_table(const std::vector<std::vector<int64_t>>& confusion) {
  std::string out = "true\\pred";
  for (size_t j = 0; j < confusion.size(); ++j) out += fmt::format(" {:>6}", j);
  out += "\n";
  for (size_t i = 0; i < confusion.size(); ++i) {
    out += fmt::format("{:>9}", i);
    for (int64_t v : confusion[i]) out += fmt::format(" {:>6}", v);
    out += "\n";
  }
  return out;
}

static void run_eval(const Args& args, Io& io) {
  if (!args.given("weights")) throw UsageError("tutor eval: --weights FILE is required");
  int64_t batch_size = args.get_int("batch-size");
  if (batch_size <= 0)
    throw UsageError(fmt::format("tutor eval: --batch-size must be positive, got {}", batch_size));
  apply_threads_flag(args);
  auto test_set = load_split(args, args.get_string("split"), args.get_int("limit"));
  auto model = model_from_args(
      args, {.num_classes = test_set->num_classes(), .in_channels = test_set->sample_shape()[0]});
  std::string weights = args.get_string("weights");
  load_weights(*model, weights);
  prepare_for_inference(args, *model);
  auto loader = eval_loader(test_set, batch_size);
  ProgressBar bar("eval");
  int64_t num_classes = test_set->num_classes();
  EvalResult r = evaluate(*model, *loader, num_classes, &bar);

  io.out << fmt::format("{} on {} {} images: accuracy {:.2f}% ({} / {}), loss {:.4f}\n",
                        model->name(), r.count, args.get_string("split"), 100 * r.accuracy,
                        r.correct, r.count, r.loss);
  io.out << confusion_table(r.confusion);
  if (args.given("json")) {
    JsonArray rows;
    for (const auto& row : r.confusion) {
      JsonArray cells;
      for (int64_t v : row) cells.push(v);
      rows.push(cells);
    }
    JsonObject json;
    json.add("model", model->name())
        .add("weights", weights)
        .add("split", args.get_string("split"))
        .add("count", r.count)
        .add("accuracy", r.accuracy)
        .add("loss", r.loss)
        .add("confusion", rows);
    write_file_atomic(args.get_string("json"), json.str() + "\n");
  }
}

Command eval_command() {
  std::vector<FlagSpec> flags = model_flags();
  for (FlagSpec& f : data_flags()) flags.push_back(f);
  std::vector<FlagSpec> own = {
      {"weights", FlagType::string, "", "safetensors state dict to evaluate (required)", "FILE"},
      {"split", FlagType::string, "test", "which split: test or train", "NAME"},
      {"limit", FlagType::integer, "0", "use the first N images of the split (0: all)", "N"},
      {"json", FlagType::string, "", "also write the results as JSON to FILE (atomically)",
       "FILE"},
      no_fuse_flag(),
  };
  for (FlagSpec& f : own) flags.push_back(f);
  CommandSpec spec{
      {"eval"},
      "accuracy, loss and confusion matrix of weights on Fashion-MNIST",
      "Loads --weights into --model and evaluates it in eval mode without gradients on the test\n"
      "split (inputs x / 255 normalized with mean 0.2860, std 0.3530). Prints the accuracy, the\n"
      "mean cross-entropy and the confusion matrix (rows: true class, columns: predicted).\n"
      "Each BatchNorm that follows a conv is folded into it first, unless --no-fuse.",
      flags,
      {}};
  return {spec, run_eval};
}

}  // namespace tutor::cli
