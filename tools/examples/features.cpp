// Models by name, weights through safetensors, and named feature taps: what a distillation
// objective consumes. Run it: ./build/tools/examples/features
#include <cstdio>
#include <iostream>

#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "models/registry.h"

using namespace tutor;

int main() {
  manual_seed(0);
  auto teacher = models::create_model("resnet20", {.num_classes = 10, .in_channels = 1});
  teacher->eval();

  // Weights move by PyTorch's state-dict names, so this file also loads in PyTorch.
  std::string path = "/tmp/tutor-example-resnet20.safetensors";
  save_safetensors(path, teacher->state_dict());
  auto copy = models::create_model("resnet20", {.num_classes = 10, .in_channels = 1});
  SafetensorsContents file = load_safetensors(path);
  copy->load_state_dict(NamedTensors(file.tensors.begin(), file.tensors.end()));
  copy->eval();
  std::remove(path.c_str());

  Tensor x = randn({4, 1, 28, 28});
  models::Taps taps{"layer3", "pooled"};
  Tensor logits;
  {
    NoGradGuard no_grad;  // a frozen teacher
    logits = copy->forward(x, &taps);
  }
  std::cout << "logits " << shape_str(logits.sizes()) << ", layer3 "
            << shape_str(taps.at("layer3").sizes()) << ", pooled "
            << shape_str(taps.at("pooled").sizes()) << "\n";
  NoGradGuard no_grad;
  double diff = (logits - teacher->forward(x)).abs().amax().item();
  std::cout << "max |difference| after the round trip: " << diff << "\n";
  return diff == 0 ? 0 : 1;
}
