#include "tools/cli/bench_model_tutor.h"

#include <fstream>
#include <string>

#include "distill/distiller.h"
#include "engine/autograd/grad_mode.h"
#include "engine/core/random.h"
#include "engine/ops/ops.h"
#include "engine/optim/sgd.h"
#include "models/registry.h"
#include "tools/cli/bench_tutor.h"
#include "tools/cli/participant.h"

namespace tutor::cli {

// benchmarks.md's optimizer for every train and KD step.
static const optim::SGDOptions kSgd{.lr = 0.05, .momentum = 0.9, .weight_decay = 5e-4};
// KD step: 0.1 CE + 0.9 T^2 KL with T = 4 (benchmarks.md).
static constexpr double kCeWeight = 0.1, kKdWeight = 0.9;
static constexpr const char* kTemperature = "4";

ModelTiming time_model_workload(const ModelWorkload& w, const ModelRunOptions& o) {
  ModelTiming timing;
  std::vector<ops::KernelTime>* kernels = o.profile ? &timing.kernels : nullptr;
  manual_seed(0);
  const models::ModelOptions options{.num_classes = w.input.classes,
                                     .in_channels = w.input.channels};
  std::shared_ptr<models::Model> model = models::create_model(w.model, options);
  Generator gen(1);
  const ModelInput& in = w.input;
  Tensor x = randn({in.batch, in.channels, in.size, in.size}, {}, &gen);
  Tensor labels = randint(0, in.classes, {in.batch}, DType::i64, &gen);

  if (w.kind == StepKind::forward) {
    model->eval();
    if (o.fuse) models::fuse_for_inference(*model);
    NoGradGuard no_grad;
    timing.ms = time_runs([&] { model->forward(x); }, o.warmup, o.steps, kernels);
    return timing;
  }
  model->train();
  if (w.kind == StepKind::train) {
    optim::SGD sgd(model->parameters(), kSgd);
    timing.ms = time_runs(
        [&] {
          Tensor loss = cross_entropy(model->forward(x), labels);
          sgd.zero_grad();
          loss.backward();
          sgd.step();
        },
        o.warmup, o.steps, kernels);
    return timing;
  }
  std::shared_ptr<models::Model> teacher = models::create_model(w.teacher, options);
  teacher->eval();
  if (o.fuse) models::fuse_for_inference(*teacher);
  std::vector<distill::Term> terms{
      {distill::make_objective("ce"), kCeWeight},
      {distill::make_objective("kd", {{"T", kTemperature}}), kKdWeight},
  };
  distill::Distiller distiller(participant(model, false), {participant(teacher, false)}, terms);
  optim::SGD sgd(distiller.trainable_parameters(), kSgd);
  int64_t step = 0;
  timing.ms = time_runs(
      [&] {
        distill::Distiller::Output out = distiller.step(x, labels, {.step = step++});
        sgd.zero_grad();
        distiller.backward(out, {});
        sgd.step();
      },
      o.warmup, o.steps, kernels);
  return timing;
}

int64_t peak_rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("VmHWM:")) return std::stoll(line.substr(6));  // "VmHWM:  1234 kB"
  return 0;
}

}  // namespace tutor::cli
