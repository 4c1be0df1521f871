// One objective on given tensors, with the gradient of its loss with respect to every floating
// input and every parameter of the objective's own modules: what `tutor loss` writes and what
// the parity tests compare with PyTorch.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "distill/objective.h"

namespace tutor::distill {

struct Evaluation {
  Tensor loss;
  std::vector<std::pair<std::string, Tensor>> parts;
  std::map<std::string, Tensor> input_grads;  // input name -> d loss / d input (zeros if unused)
  std::map<std::string, Tensor> param_grads;  // objective parameter name -> d loss / d parameter
};

// Runs `objective` on detached copies of `inputs` (floating ones made leaves that require
// grad), then backpropagates the loss. An Error from the objective is rethrown prefixed with
// "objective <name>: ".
Evaluation evaluate(Objective& objective, const Inputs& inputs, const Context& ctx = {});

// The shapes of the inputs, for make_objective.
Shapes shapes_of(const Inputs& inputs);

}  // namespace tutor::distill
