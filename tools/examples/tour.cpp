// A first tour of tutor's C++ API: tensors, autograd, a few steps of gradient descent.
// Build: part of the default build (build/tools/examples/tour). Run it: ./build/tools/examples/tour
#include <iostream>

#include "engine/ops/ops.h"

using namespace tutor;

int main() {
  manual_seed(0);
  // Fit w in y = x @ w to targets made with w_true = [[2], [-1]], by gradient descent on the MSE.
  Tensor x = randn({64, 2});
  Tensor y = x.matmul(tensor({{2}, {-1}}));
  Tensor w = zeros({2, 1}).requires_grad_();  // a leaf that collects gradients
  for (int step = 0; step < 50; ++step) {
    Tensor loss = mse_loss(x.matmul(w), y);  // records the tape as it runs
    w.mutable_grad() = Tensor();
    loss.backward();                         // w.grad() = d loss / d w
    {
      NoGradGuard no_grad;                   // updates are not part of the graph
      w.sub_(w.grad() * 0.2);
    }
    if (step % 10 == 0) std::cout << "step " << step << " loss " << loss.item() << "\n";
  }
  std::cout << "w = " << w.detach() << "\n";
  double error = (w.detach() - tensor({{2}, {-1}})).abs().amax().item();
  return error < 1e-3 ? 0 : 1;
}
