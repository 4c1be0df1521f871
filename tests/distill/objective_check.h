// What every objective's tests share:
//   check_fixture("kd_T4")            the objective against tests/fixtures/distill/kd_T4.safetensors,
//                                     written by tools/golden/objectives/<script>.py from a PyTorch
//                                     transcription of the reference: loss, parts, the gradient of
//                                     every input and objective parameter, 1e-6 abs + 1e-5 rel
//                                     (DESIGN.md's objective bound).
//   check_objective_gradient(...)     f64 finite differences through the objective's loss.
#pragma once

#include <map>
#include <string>

#include "distill/evaluate.h"
#include "distill/objective.h"

namespace tutor::testing {

void check_fixture(const std::string& fixture);

// gradcheck of the loss with respect to each floating input named in `wrt` (all student-side
// floating inputs when empty); the inputs must be f64. Objective parameters are held fixed.
void check_objective_gradient(const std::string& objective,
                              const std::map<std::string, std::string>& params,
                              const distill::Inputs& inputs, const distill::Context& ctx = {},
                              std::vector<std::string> wrt = {});

// student.logits and teacher.logits, and labels when given: the inputs of most logit objectives.
distill::Inputs logit_inputs(const Tensor& zs, const Tensor& zt, const Tensor& labels = {});

// The value of part `name` of an evaluation; fails the test case when there is none.
double part(const distill::Evaluation& ev, const std::string& name);

// Evaluates objective `name` with `params` on `inputs`: the loss as a double.
double objective_loss(const std::string& name, const std::map<std::string, std::string>& params,
                      const distill::Inputs& inputs, const distill::Context& ctx = {});

}  // namespace tutor::testing
