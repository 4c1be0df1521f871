// `tutor export`: a model's state dict, under PyTorch's key names, as a plain safetensors file,
// from a training checkpoint or from another safetensors file, with metadata added.
#include <fmt/format.h>

#include "engine/io/checkpoint.h"
#include "engine/io/safetensors.h"
#include "tools/cli/command.h"

namespace tutor::cli {

static void run_export(const Args& args, Io& io) {
  if (!args.given("out")) throw UsageError("tutor export: --out FILE is required");
  if (args.given("weights") == args.given("checkpoint"))
    throw UsageError("tutor export: give exactly one of --checkpoint FILE and --weights FILE");
  SafetensorsContents contents;
  if (args.given("checkpoint")) {
    // The checkpoint's "model.<key>" tensors are the model's state_dict(); the optimizer, schedule
    // and generator states stay behind.
    const std::string path = args.get_string("checkpoint");
    Checkpoint c = load_checkpoint(path);
    for (const auto& [key, t] : c.model) contents.tensors[key] = t;
    if (auto model = c.extra.find("model"); model != c.extra.end())
      contents.metadata["model"] = model->second;
    contents.metadata["epoch"] = std::to_string(c.epoch);
    contents.metadata["step"] = std::to_string(c.step);
  } else {
    contents = load_safetensors(args.get_string("weights"));
  }
  for (const auto& [key, value] : args.get_key_values("meta")) contents.metadata[key] = value;
  save_safetensors(args.get_string("out"), contents.tensors, contents.metadata);
  io.out << fmt::format("{}: {} tensors, {} metadata entries\n", args.get_string("out"),
                        contents.tensors.size(), contents.metadata.size());
}

Command export_command() {
  CommandSpec spec{
      {"export"},
      "write a model's state dict from a checkpoint or weights file as safetensors",
      "With --checkpoint (OUT/checkpoint.safetensors of `tutor train`), writes the model's state\n"
      "dict under PyTorch's key names (what load_state_dict reads, in tutor or in PyTorch),\n"
      "without the optimizer, schedule and generator states, with metadata 'model', 'epoch' (the\n"
      "epochs completed) and 'step'. With --weights, copies the tensors and metadata of a\n"
      "safetensors file. Either way each --meta KEY=VALUE is added or replaced.",
      {{"checkpoint", FlagType::string, "", "training checkpoint to read", "FILE"},
       {"weights", FlagType::string, "", "safetensors file to read instead", "FILE"},
       {"out", FlagType::string, "", "safetensors file to write (required)", "FILE"},
       {"meta", FlagType::key_value, "", "metadata entry to add or replace (repeatable)",
        "KEY=VALUE"}},
      {}};
  return {spec, run_export};
}

}  // namespace tutor::cli
