// `tutor forward`: one forward pass of saved weights on a tensor from a file, with taps.
#include <fmt/format.h>

#include <map>

#include "engine/autograd/grad_mode.h"
#include "engine/core/error.h"
#include "engine/io/safetensors.h"
#include "tools/cli/command.h"
#include "tools/cli/model_io.h"

namespace tutor::cli {

static void run_forward(const Args& args, Io& io) {
  for (const char* required : {"weights", "input", "out"})
    if (!args.given(required))
      throw UsageError(fmt::format("tutor forward: --{} FILE is required", required));
  apply_threads_flag(args);
  auto model = model_from_args(args);
  load_weights(*model, args.get_string("weights"));
  prepare_for_inference(args, *model);

  std::string input_path = args.get_string("input");
  SafetensorsFile input_file(input_path);
  TUTOR_CHECK(input_file.contains("input"),
              "{}: no tensor named 'input' (the tensor tutor forward runs the model on)",
              input_path);
  Tensor x = input_file.load("input");

  std::vector<std::string> requested;
  if (args.given("taps")) requested = args.get_list("taps");
  models::Taps taps(requested);
  NoGradGuard no_grad;
  Tensor logits = model->forward(x, &taps);

  std::map<std::string, Tensor> outputs = taps.tensors();
  outputs["logits"] = logits;
  save_safetensors(args.get_string("out"), outputs, {{"model", model->name()}});
  io.out << fmt::format("{}: input {} -> logits {}", model->name(), x.sizes(), logits.sizes());
  for (const auto& [name, t] : taps.tensors())
    if (name != "logits") io.out << fmt::format(", {} {}", name, t.sizes());
  io.out << "\n";
}

Command forward_command() {
  std::vector<FlagSpec> flags = model_flags();
  std::vector<FlagSpec> own = {
      {"weights", FlagType::string, "", "safetensors state dict (required)", "FILE"},
      {"input", FlagType::string, "", "safetensors file with a tensor named 'input' (required)",
       "FILE"},
      {"taps", FlagType::list, "", "intermediate tensors to save as well, e.g. layer3,pooled",
       "A,B"},
      {"out", FlagType::string, "", "safetensors file to write (required)", "FILE"},
      {"threads", FlagType::integer, "0", "CPU kernel threads (0: the library default)"},
      no_fuse_flag(),
  };
  for (FlagSpec& f : own) flags.push_back(f);
  CommandSpec spec{
      {"forward"},
      "run a model on a tensor file and save the logits and taps",
      "Loads --weights into --model (with the model's default classes and channels unless\n"
      "--num-classes / --in-channels say otherwise), runs it in eval mode without gradients on\n"
      "the tensor named 'input' in --input, used as it is (no normalization), and writes\n"
      "'logits' and every requested tap under its own name to --out. Each BatchNorm that follows\n"
      "a conv is folded into it first (the same function as one conv), unless --no-fuse.",
      flags,
      {}};
  return {spec, run_forward};
}

}  // namespace tutor::cli
