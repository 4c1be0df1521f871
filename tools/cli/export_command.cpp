// `tutor export`: re-save a safetensors state dict with metadata.
#include <fmt/format.h>

#include "engine/io/safetensors.h"
#include "tools/cli/command.h"

namespace tutor::cli {

static void run_export(const Args& args, Io& io) {
  for (const char* required : {"weights", "out"})
    if (!args.given(required))
      throw UsageError(fmt::format("tutor export: --{} FILE is required", required));
  SafetensorsContents contents = load_safetensors(args.get_string("weights"));
  for (const auto& [key, value] : args.get_key_values("meta")) contents.metadata[key] = value;
  save_safetensors(args.get_string("out"), contents.tensors, contents.metadata);
  io.out << fmt::format("{}: {} tensors, {} metadata entries\n", args.get_string("out"),
                        contents.tensors.size(), contents.metadata.size());
}

Command export_command() {
  CommandSpec spec{
      {"export"},
      "re-save a safetensors state dict, adding metadata",
      "Copies the tensors of --weights (a safetensors file) to --out with the input's metadata\n"
      "plus each --meta KEY=VALUE. Converting training checkpoints to safetensors arrives with\n"
      "checkpoints; today --weights must already be a safetensors file.",
      {{"weights", FlagType::string, "", "safetensors file to read (required)", "FILE"},
       {"out", FlagType::string, "", "safetensors file to write (required)", "FILE"},
       {"meta", FlagType::key_value, "", "metadata entry to add or replace (repeatable)",
        "KEY=VALUE"}},
      {}};
  return {spec, run_export};
}

}  // namespace tutor::cli
