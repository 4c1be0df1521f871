// One model's SGD training step on random images, timed: how the activation layout (channels-last,
// what the models run on the CPU, or NCHW under ops::ContiguousOnlyGuard) changes a step.
//   bench_train_step [--model resnet20] [--batch 128] [--size 28] [--channels 1] [--steps 20]
//                    [--threads 2] [--layout channels_last|nchw]
// Prints the median and every step's milliseconds (after 3 warm-up steps). With DNNL_VERBOSE=1,
// oneDNN's log of the timed steps shows the reorders each step runs.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/random.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/ops.h"
#include "engine/optim/sgd.h"
#include "kernels/cpu/threads.h"
#include "models/registry.h"

using namespace tutor;

int main(int argc, char** argv) {
  std::string model = "resnet20", layout = "channels_last";
  int64_t batch = 128, size = 28, channels = 1, steps = 20, threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--model")
      model = value;
    else if (flag == "--layout")
      layout = value;
    else if (flag == "--batch")
      batch = std::stoll(value);
    else if (flag == "--size")
      size = std::stoll(value);
    else if (flag == "--channels")
      channels = std::stoll(value);
    else if (flag == "--steps")
      steps = std::stoll(value);
    else if (flag == "--threads")
      threads = std::stoll(value);
    else {
      fmt::print(stderr, "bench_train_step: unknown flag {}\n", flag);
      return 2;
    }
  }
  if (layout != "channels_last" && layout != "nchw") {
    fmt::print(stderr, "bench_train_step: --layout is channels_last or nchw, not {}\n", layout);
    return 2;
  }
  kernels::cpu::set_num_threads(int(threads));
  std::optional<ops::ContiguousOnlyGuard> nchw;
  if (layout == "nchw") nchw.emplace();

  auto m = models::create_model(model, {.num_classes = 10, .in_channels = channels});
  optim::SGD opt(m->parameters(), {.lr = 0.01, .momentum = 0.9});
  Generator gen(1);
  const Tensor x = randn({batch, channels, size, size}, DType::f32, &gen);
  const Tensor target = randint(0, 10, {batch}, DType::i64, &gen);
  std::vector<double> ms;
  for (int64_t s = 0; s < steps + 3; ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    opt.zero_grad();
    cross_entropy(m->forward(x), target).backward();
    opt.step();
    const auto t1 = std::chrono::steady_clock::now();
    if (s >= 3) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  fmt::print("{} {} batch {} {}x{}x{} threads {}: median {:.1f} ms/step over {} steps\n", model,
             layout, batch, channels, size, size, threads, sorted[sorted.size() / 2], ms.size());
  fmt::print("steps ms: {:.1f}\n", fmt::join(ms, " "));
  return 0;
}
