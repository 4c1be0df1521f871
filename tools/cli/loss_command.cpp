// `tutor loss`: one objective on tensors from a file, for auditors: the loss, its parts and the
// gradient of every floating input and objective parameter, written to a safetensors file that
// another implementation's numbers can be compared with. `tutor loss --list` prints the registry.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "distill/evaluate.h"
#include "distill/objective.h"
#include "engine/core/error.h"
#include "engine/io/safetensors.h"
#include "tools/cli/command.h"

namespace tutor::cli {

namespace {

std::string describe(const distill::ObjectiveSpec& spec) {
  std::string out =
      fmt::format("{}\n  {}\n  source: {}\n  inputs:\n", spec.name, spec.summary, spec.source);
  for (const distill::InputSpec& in : spec.inputs)
    out += fmt::format("    {:<22} {}{}\n", in.name, in.help, in.required ? "" : " (optional)");
  if (spec.params.empty()) {
    out += "  parameters: none\n";
    return out;
  }
  out += "  parameters:\n";
  for (const distill::ParamSpec& p : spec.params)
    out += fmt::format("    {:<22} {}\n",
                       p.name + "=" + (p.default_value.empty() ? "(required)" : p.default_value),
                       p.help);
  return out;
}

void list_objectives(const Args& args, Io& io) {
  if (!args.positionals().empty()) {
    io.out << describe(distill::objective_spec(args.positionals()[0]));
    return;
  }
  bool first = true;
  for (const distill::ObjectiveSpec& spec : distill::objective_specs()) {
    if (!first) io.out << "\n";
    io.out << describe(spec);
    first = false;
  }
}

void run_loss(const Args& args, Io& io) {
  if (args.get_bool("list")) return list_objectives(args, io);
  if (args.positionals().empty())
    throw UsageError(
        "tutor loss: missing argument NAME (the objective; `tutor loss --list` "
        "prints them)");
  for (const char* required : {"inputs", "out"})
    if (!args.given(required))
      throw UsageError(fmt::format("tutor loss: --{} FILE is required", required));
  const int64_t epochs = args.get_int("epochs"), epoch = args.get_int("epoch");
  if (epochs < 1)
    throw UsageError(fmt::format("tutor loss: --epochs must be at least 1, got {}", epochs));
  if (epoch < 0 || epoch >= epochs)
    throw UsageError(fmt::format(
        "tutor loss: --epoch is 0-based and must lie in [0, --epochs), got {} with --epochs {}",
        epoch, epochs));
  if (args.get_int("step") < 0)
    throw UsageError(
        fmt::format("tutor loss: --step must be non-negative, got {}", args.get_int("step")));

  const std::string name = args.positionals()[0];
  std::map<std::string, std::string> values;
  for (const auto& [key, value] : args.get_key_values("set")) values[key] = value;

  // Tensors named param.<name> are the objective's own parameters; every other one is an input.
  const std::string path = args.get_string("inputs");
  SafetensorsContents file = load_safetensors(path);
  distill::Inputs inputs;
  nn::NamedTensors params;
  for (const auto& [key, t] : file.tensors) {
    if (key.starts_with("param."))
      params.emplace_back(key.substr(6), t);
    else
      inputs.set(key, t);
  }

  auto objective = distill::make_objective(name, values, distill::shapes_of(inputs));
  std::vector<std::string> given;
  for (const auto& [key, t] : inputs.tensors()) given.push_back(key);
  for (const std::string& needed : objective->inputs())
    TUTOR_CHECK(inputs.has(needed),
                "{}: no tensor '{}', which objective {} reads (the file has: {})", path, needed,
                name,
                given.empty() ? std::string("none") : fmt::format("{}", fmt::join(given, ", ")));
  // The objective's modules take the dtype of the floating inputs (f64 for an audit in f64).
  for (const auto& [key, t] : inputs.tensors())
    if (t.is_floating_point()) {
      objective->to(t.dtype());
      break;
    }
  if (!params.empty()) {
    nn::LoadReport report = objective->load_state_dict(params, /*strict=*/false);
    TUTOR_CHECK(report.unexpected.empty() && report.mismatched.empty(),
                "{}: the param.* tensors do not fit objective {}: {}", path, name, report.str());
  }

  distill::Context ctx{.epoch = epoch, .epochs = epochs, .step = args.get_int("step")};
  distill::Evaluation ev = distill::evaluate(*objective, inputs, ctx);

  std::map<std::string, Tensor> out;
  out["loss"] = ev.loss.reshape({});
  for (const auto& [part, value] : ev.parts) out["part." + part] = value.reshape({});
  for (const auto& [input, grad] : ev.input_grads) out["grad." + input] = grad;
  for (const auto& [param, grad] : ev.param_grads) out["grad.param." + param] = grad;
  std::map<std::string, std::string> meta = {{"objective", name},
                                             {"inputs", path},
                                             {"context.epoch", std::to_string(epoch)},
                                             {"context.epochs", std::to_string(epochs)},
                                             {"context.step", std::to_string(ctx.step)}};
  for (const auto& [key, value] : values) meta["param." + key] = value;
  save_safetensors(args.get_string("out"), out, meta);

  io.out << fmt::format("{}: loss {:.9g}", name, ev.loss.item<double>());
  for (const auto& [part, value] : ev.parts)
    io.out << fmt::format(", {} {:.9g}", part, value.item<double>());
  io.out << fmt::format("; {} gradients -> {}\n", ev.input_grads.size() + ev.param_grads.size(),
                        args.get_string("out"));
}

}  // namespace

Command loss_command() {
  CommandSpec spec{
      {"loss"},
      "evaluate one distillation objective on tensors from a file, with its gradients",
      "Builds objective NAME with its defaults and each --set key=value, runs it on the tensors\n"
      "of --inputs, named as the objective reads them (student.logits, teacher.logits, labels,\n"
      "student.<tap>, ...; see --list), and writes to --out: 'loss', 'part.<name>' for each\n"
      "part, 'grad.<input>' for every floating input (zeros where the loss does not depend on\n"
      "it) and 'grad.param.<name>' for the objective's own parameters. Tensors named\n"
      "'param.<name>' in --inputs are loaded into those parameters. The objective computes in\n"
      "the dtype of the floating inputs: give f64 tensors for an audit in double precision.\n"
      "`tutor loss --list` prints every objective's inputs and parameter defaults.",
      {{"inputs", FlagType::string, "", "safetensors file with the inputs (required)", "FILE"},
       {"set", FlagType::key_value, "", "objective parameter (repeatable), e.g. T=4", "KEY=VALUE"},
       {"epoch", FlagType::integer, "0",
        "0-based epoch of the context, for epoch-dependent losses"},
       {"epochs", FlagType::integer, "1", "total epochs of the context"},
       {"step", FlagType::integer, "0", "optimizer steps taken, for step-dependent losses"},
       {"out", FlagType::string, "", "safetensors file to write (required)", "FILE"},
       {"list", FlagType::boolean, "", "print every objective (or NAME) with inputs and defaults"}},
      {{"NAME", "the objective, e.g. kd", /*required=*/false}}};
  return {spec, run_loss};
}

}  // namespace tutor::cli
