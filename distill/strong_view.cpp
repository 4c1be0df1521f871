#include "distill/strong_view.h"

#include <algorithm>
#include <vector>

#include "engine/core/error.h"

namespace tutor::distill {

Participant with_strong_view(const Participant& model) {
  TUTOR_CHECK(model.module && model.forward, "with_strong_view: no model");
  auto inner = model.forward;
  auto forward = [inner](const Tensor& x, const std::vector<std::string>& requested,
                         std::map<std::string, Tensor>& taps) {
    TUTOR_CHECK(x.dim() >= 1 && x.size(0) % 2 == 0,
                "strong view: expected the rows [weak; strong] (an even count), got {}", x.sizes());
    const int64_t B = x.size(0) / 2;
    std::vector<std::string> weak_taps;
    for (const std::string& r : requested)
      if (r != "logits_strong") weak_taps.push_back(r);
    Tensor logits = inner(x.narrow(0, 0, B), weak_taps, taps);
    if (std::find(requested.begin(), requested.end(), "logits_strong") != requested.end()) {
      std::map<std::string, Tensor> none;
      taps["logits_strong"] = inner(x.narrow(0, B, B), {}, none);
    }
    return logits;
  };
  return {model.module, forward, model.train_mode};
}

namespace {

std::string strong_name(const std::string& input) {
  auto [owner, rest] = split_input_name(input);
  return !owner.empty() && rest == "logits" ? owner + ".logits_strong" : input;
}

class OnStrongView : public Objective {
 public:
  explicit OnStrongView(std::shared_ptr<Objective> inner)
      : Objective(inner->name() + "[strong]"), inner_(std::move(inner)) {
    register_module("objective", inner_);
  }

  std::vector<std::string> inputs() const override {
    std::vector<std::string> out;
    for (const std::string& in : inner_->inputs()) out.push_back(strong_name(in));
    return out;
  }

  Result compute(const Inputs& in, const Context& ctx) override {
    Inputs mapped;
    for (const auto& [name, t] : in.tensors()) mapped.set(name, t);
    for (const std::string& name : inner_->inputs())
      if (strong_name(name) != name) mapped.set(name, in.at(strong_name(name)));
    return inner_->compute(mapped, ctx);
  }

 private:
  std::shared_ptr<Objective> inner_;
};

}  // namespace

std::shared_ptr<Objective> on_strong_view(std::shared_ptr<Objective> objective) {
  TUTOR_CHECK(objective != nullptr, "on_strong_view: no objective");
  return std::make_shared<OnStrongView>(std::move(objective));
}

}  // namespace tutor::distill
