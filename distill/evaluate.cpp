#include "distill/evaluate.h"

#include "engine/autograd/grad_mode.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

Evaluation evaluate(Objective& objective, const Inputs& inputs, const Context& ctx) {
  EnableGradGuard grad_on;
  Inputs leaves;
  for (const auto& [name, t] : inputs.tensors()) {
    Tensor leaf = t.detach();
    if (leaf.is_floating_point()) leaf = leaf.clone().requires_grad_();
    leaves.set(name, leaf);
  }
  for (Tensor& p : objective.parameters()) p.mutable_grad() = Tensor();

  Evaluation out;
  try {
    Result r = objective.compute(leaves, ctx);
    TUTOR_CHECK(r.loss.defined() && r.loss.numel() == 1, "the loss must be a scalar, got {}",
                r.loss.defined() ? fmt::format("{}", r.loss.sizes()) : "nothing");
    out.loss = r.loss.detach();
    for (auto& [name, part] : r.parts) out.parts.emplace_back(name, part.detach());
    if (r.loss.requires_grad()) r.loss.backward();
  } catch (const Error& e) {
    throw Error(fmt::format("objective {}: {}", objective.name(), e.what()));
  }
  for (const auto& [name, leaf] : leaves.tensors()) {
    if (!leaf.is_floating_point()) continue;
    out.input_grads[name] = leaf.grad().defined() ? leaf.grad() : zeros_like(leaf);
  }
  for (const auto& [name, p] : objective.named_parameters())
    out.param_grads[name] = p.grad().defined() ? p.grad() : zeros_like(p);
  return out;
}

Shapes shapes_of(const Inputs& inputs) {
  Shapes shapes;
  for (const auto& [name, t] : inputs.tensors()) shapes[name] = t.sizes();
  return shapes;
}

}  // namespace tutor::distill
