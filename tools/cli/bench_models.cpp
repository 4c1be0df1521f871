#include "tools/cli/bench_models.h"

#include <fmt/format.h>

#include "engine/core/error.h"
#include "tools/cli/args.h"
#include "tools/cli/json.h"

namespace tutor::cli {

const char* step_kind_name(StepKind kind) {
  switch (kind) {
    case StepKind::forward:
      return "forward";
    case StepKind::train:
      return "train";
    case StepKind::kd:
      return "kd";
  }
  return "?";
}

const std::vector<ModelWorkload>& model_workloads() {
  static const std::vector<ModelWorkload> list = [] {
    const ModelInput small{128, 1, 28, 10}, large{16, 3, 224, 1000}, single{1, 3, 224, 1000};
    auto row = [](std::string name, StepKind kind, std::string model, std::string teacher,
                  ModelInput input) {
      std::string suite = name.substr(0, name.find('/'));
      return ModelWorkload{std::move(name),  std::move(suite),   kind,
                           std::move(model), std::move(teacher), input};
    };
    using K = StepKind;
    return std::vector<ModelWorkload>{
        row("small/resnet20_teacher_fwd", K::forward, "resnet20", "", small),
        row("small/resnet20_train", K::train, "resnet20", "", small),
        row("small/resnet8_train", K::train, "resnet8", "", small),
        row("small/resnet8_kd_from_resnet20", K::kd, "resnet8", "resnet20", small),
        row("small/vit_train", K::train, "vit_small28", "", small),
        row("small/vit_kd_from_resnet20", K::kd, "vit_small28", "resnet20", small),
        row("small/mixer_train", K::train, "mixer_small28", "", small),
        row("small/mixer_kd_from_resnet20", K::kd, "mixer_small28", "resnet20", small),
        row("large/resnet18_train", K::train, "resnet18", "", large),
        row("large/resnet50_teacher_fwd", K::forward, "resnet50", "", large),
        row("large/resnet18_kd_from_resnet50", K::kd, "resnet18", "resnet50", large),
        row("large/deit_tiny_train", K::train, "deit_tiny", "", large),
        row("large/mixer_s16_train", K::train, "mixer_s16", "", large),
        row("large/resnet18_infer_bs1", K::forward, "resnet18", "", single),
        row("large/deit_tiny_infer_bs1", K::forward, "deit_tiny", "", single),
    };
  }();
  return list;
}

std::vector<ModelWorkload> select_model_workloads(const std::string& suite,
                                                  const std::string& only) {
  if (suite != "small" && suite != "large" && suite != "all")
    throw UsageError(
        fmt::format("tutor bench: --suite must be small, large or all, got '{}'", suite));
  std::vector<ModelWorkload> out;
  for (const ModelWorkload& w : model_workloads())
    if ((suite == "all" || w.suite == suite) && w.name.find(only) != std::string::npos)
      out.push_back(w);
  return out;
}

const ModelWorkload& find_model_workload(const std::string& name) {
  std::vector<std::string> names;
  for (const ModelWorkload& w : model_workloads()) {
    if (w.name == name) return w;
    names.push_back(w.name);
  }
  fail("bench: unknown workload '{}' (known: {})", name, fmt::join(names, ", "));
}

double step_flops(const ModelWorkload& w) {
  double student = model_forward_flops(w.model, w.input);
  switch (w.kind) {
    case StepKind::forward:
      return student;
    case StepKind::train:
      return 3 * student;
    case StepKind::kd:
      return model_forward_flops(w.teacher, w.input) + 3 * student;
  }
  return 0;
}

std::string model_workload_json(const ModelWorkload& w) {
  return JsonObject()
      .add("name", w.name)
      .add("step", step_kind_name(w.kind))
      .add("model", w.model)
      .add("teacher", w.teacher)
      .add("batch", w.input.batch)
      .add("channels", w.input.channels)
      .add("size", w.input.size)
      .add("classes", w.input.classes)
      .str();
}

}  // namespace tutor::cli
