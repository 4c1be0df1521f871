// The shared training epoch (tools/cli/training_loop.h): a step's own backward replaces
// loss.backward(), as `tutor distill` uses it for gradient alignment.
#include <doctest/doctest.h>

#include <cstdio>

#include "engine/core/random.h"
#include "engine/data/data.h"
#include "engine/nn/linear.h"
#include "engine/ops/ops.h"
#include "engine/optim/sgd.h"
#include "support/op_test.h"
#include "tools/cli/training_loop.h"

using namespace tutor;
using namespace tutor::cli;

TEST_CASE("training loop: a step's own backward sets the gradients the optimizer applies") {
  manual_seed(2);
  auto data = std::make_shared<data::TensorDataset>(randn({4, 1, 2, 2}),
                                                    tensor({0, 1, 0, 1}).to(DType::i64), 2);
  data::DataLoader loader(data, {.batch_size = 4});
  auto model = std::make_shared<nn::Linear>(4, 2);
  optim::SGD sgd(model->parameters(), {.lr = 0.5});
  Tensor before = model->weight.detach().clone(), bias = model->bias.detach().clone();
  std::FILE* sink = std::tmpfile();
  ProgressBar bar("", sink, 0);
  int64_t step = 0;
  int backwards = 0;
  train_epoch(
      loader, 0, sgd, step,
      [&](data::Batch& b, int64_t) {
        Tensor logits = model->forward(b.images.flatten(1));
        StepResult r{cross_entropy(logits, b.labels), logits, b.labels, {}};
        // A gradient the loss would never give: ones on the weight, nothing on the bias.
        r.backward = [&] {
          ++backwards;
          model->weight.mutable_grad() = ones_like(model->weight);
          model->bias.mutable_grad() = zeros_like(model->bias);
        };
        return r;
      },
      bar);
  std::fclose(sink);
  CHECK(step == 1);
  CHECK(backwards == 1);
  tutor::testing::check_close(model->weight.detach(), before - 0.5, 1e-7, 0);
  tutor::testing::check_close(model->bias.detach(), bias, 0, 0);
}
