#include "distill/objective_check.h"

#include <doctest/doctest.h>

#include <filesystem>

#include "engine/autograd/gradcheck.h"
#include "engine/io/safetensors.h"
#include "support/op_test.h"

namespace tutor::testing {

namespace {

// The dtype the objective's own modules take: that of the floating inputs (f64 when none).
DType floating_dtype(const distill::Inputs& inputs) {
  for (const auto& [key, t] : inputs.tensors())
    if (t.is_floating_point()) return t.dtype();
  return DType::f64;
}

}  // namespace

void check_fixture(const std::string& fixture) {
  const auto path = fixture_path("distill") / (fixture + ".safetensors");
  INFO("fixture ", path.string());
  SafetensorsContents file = load_safetensors(path.string());
  const std::string& name = file.metadata.at("objective");
  std::map<std::string, std::string> params;
  distill::Context ctx;
  for (const auto& [key, value] : file.metadata) {
    if (key.rfind("param.", 0) == 0) params[key.substr(6)] = value;
    if (key == "context.epoch") ctx.epoch = std::stoll(value);
    if (key == "context.epochs") ctx.epochs = std::stoll(value);
    if (key == "context.step") ctx.step = std::stoll(value);
  }
  distill::Inputs inputs;
  NamedTensors module_params;
  for (const auto& [key, t] : file.tensors) {
    if (key.rfind("input.", 0) == 0) inputs.set(key.substr(6), t);
    if (key.rfind("param.", 0) == 0) module_params.emplace_back(key.substr(6), t);
  }
  auto objective = distill::make_objective(name, params, distill::shapes_of(inputs));
  objective->to(floating_dtype(inputs));
  if (!module_params.empty()) {
    nn::LoadReport report = objective->load_state_dict(module_params, /*strict=*/false);
    INFO(report.str());
    CHECK(report.unexpected.empty());
    CHECK(report.mismatched.empty());
  }
  distill::Evaluation ev = distill::evaluate(*objective, inputs, ctx);
  check_close(ev.loss.reshape({}), file.tensors.at("loss").reshape({}), 1e-6, 1e-5);
  for (const auto& [part, value] : ev.parts) {
    auto it = file.tensors.find("part." + part);
    if (it == file.tensors.end()) continue;
    INFO("part ", part);
    check_close(value.reshape({}), it->second.reshape({}), 1e-6, 1e-5);
  }
  for (const auto& [key, expected] : file.tensors) {
    if (key.rfind("grad.param.", 0) == 0) {
      INFO("gradient of objective parameter ", key.substr(11));
      REQUIRE(ev.param_grads.count(key.substr(11)));
      check_close(ev.param_grads.at(key.substr(11)), expected, 1e-6, 1e-5);
    } else if (key.rfind("grad.", 0) == 0) {
      INFO("gradient of input ", key.substr(5));
      REQUIRE(ev.input_grads.count(key.substr(5)));
      check_close(ev.input_grads.at(key.substr(5)), expected, 1e-6, 1e-5);
    }
  }
}

void check_objective_gradient(const std::string& name,
                              const std::map<std::string, std::string>& params,
                              const distill::Inputs& inputs, const distill::Context& ctx,
                              std::vector<std::string> wrt) {
  if (wrt.empty())
    for (const auto& [key, t] : inputs.tensors())
      if (t.is_floating_point() && distill::split_input_name(key).first == "student")
        wrt.push_back(key);
  REQUIRE(!wrt.empty());
  auto objective = distill::make_objective(name, params, distill::shapes_of(inputs));
  objective->to(DType::f64);
  TensorList leaves;
  for (const std::string& key : wrt) {
    REQUIRE(inputs.at(key).dtype() == DType::f64);
    leaves.push_back(inputs.at(key).detach().clone().requires_grad_());
  }
  auto fn = [&](const TensorList& xs) -> TensorList {
    distill::Inputs in = inputs;
    for (size_t i = 0; i < wrt.size(); ++i) in.set(wrt[i], xs[i]);
    return {objective->compute(in, ctx).loss};
  };
  check_gradient(fn, leaves);
}

double objective_loss(const std::string& name, const std::map<std::string, std::string>& params,
                      const distill::Inputs& inputs, const distill::Context& ctx) {
  auto objective = distill::make_objective(name, params, distill::shapes_of(inputs));
  objective->to(floating_dtype(inputs));
  return distill::evaluate(*objective, inputs, ctx).loss.item();
}

distill::Inputs logit_inputs(const Tensor& zs, const Tensor& zt, const Tensor& labels) {
  distill::Inputs in({{"student.logits", zs}, {"teacher.logits", zt}});
  if (labels.defined()) in.set("labels", labels);
  return in;
}

double part(const distill::Evaluation& ev, const std::string& name) {
  for (const auto& [key, value] : ev.parts)
    if (key == name) return value.item();
  FAIL("no part ", name);
  return 0;
}

}  // namespace tutor::testing
