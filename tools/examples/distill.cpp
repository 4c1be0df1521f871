// A teacher teaches a student: the Distiller with two objectives from the registry, on one batch.
// Run it: ./build/tools/examples/distill
//
// distill/ knows no model class (DESIGN.md): a Participant is a module plus a forward that fills
// the taps the objectives ask for, which is how any model plugs in.
#include <iostream>

#include "distill/distiller.h"
#include "engine/ops/ops.h"
#include "engine/optim/sgd.h"
#include "models/registry.h"

using namespace tutor;

distill::Participant participant(std::shared_ptr<models::Model> model) {
  auto forward = [model](const Tensor& x, const std::vector<std::string>& requested,
                         std::map<std::string, Tensor>& taps) {
    models::Taps t(requested);
    Tensor logits = model->forward(x, &t);
    taps.insert(t.tensors().begin(), t.tensors().end());
    return logits;
  };
  return {model, forward};
}

int main() {
  manual_seed(0);
  auto teacher = models::create_model("resnet20", {.num_classes = 10, .in_channels = 1});
  auto student = models::create_model("resnet8", {.num_classes = 10, .in_channels = 1});

  // 0.1 CE + 0.9 T^2 KL at T = 4, mdistiller's CIFAR setting; `tutor loss --list` names the rest.
  std::vector<distill::Term> terms = {{distill::make_objective("ce"), 0.1},
                                      {distill::make_objective("kd", {{"T", "4"}}), 0.9}};
  distill::Distiller distiller(participant(student), {participant(teacher)}, terms);
  optim::SGD sgd(distiller.trainable_parameters(), {.lr = 0.05, .momentum = 0.9});

  Tensor x = randn({16, 1, 28, 28});
  Tensor labels = randint(0, 10, {16});
  double first = 0, last = 0;
  for (int64_t step = 0; step < 5; ++step) {
    distill::Distiller::Output out =
        distiller.step(x, labels, {.epoch = 0, .epochs = 1, .step = step});
    sgd.zero_grad();
    out.loss.backward();
    sgd.step();
    std::cout << "step " << step << ": loss " << out.loss.item();
    for (const auto& [name, value] : out.parts) std::cout << ", " << name << " " << value;
    std::cout << "\n";
    (step == 0 ? first : last) = out.loss.item();
  }
  return last < first ? 0 : 1;  // five steps on one batch must lower the loss
}
