#include "distill/ss_module.h"

#include <algorithm>
#include <vector>

#include "engine/core/error.h"
#include "engine/nn/activation.h"
#include "engine/nn/linear.h"

namespace tutor::distill {

std::shared_ptr<nn::Sequential> make_ss_module(int64_t features) {
  TUTOR_CHECK(features > 0, "ss module: features must be positive, got {}", features);
  return std::make_shared<nn::Sequential>(std::initializer_list<nn::ModulePtr>{
      std::make_shared<nn::Linear>(features, features), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(features, features)});
}

namespace {

class WithSSModule : public nn::Module {
 public:
  WithSSModule(std::shared_ptr<nn::Module> model, std::shared_ptr<nn::Module> ss)
      : Module("WithSSModule") {
    register_module("model", std::move(model));
    register_module("ss_module", std::move(ss));
  }
};

}  // namespace

Participant with_ss_module(const Participant& model, std::shared_ptr<nn::Module> ss_module,
                           const std::string& source) {
  TUTOR_CHECK(model.module && model.forward && ss_module, "with_ss_module: no model or module");
  auto inner = model.forward;
  auto forward = [inner, ss_module, source](const Tensor& x,
                                            const std::vector<std::string>& requested,
                                            std::map<std::string, Tensor>& taps) {
    if (std::find(requested.begin(), requested.end(), "ss_feat") == requested.end())
      return inner(x, requested, taps);
    std::vector<std::string> asked;
    for (const std::string& r : requested)
      if (r != "ss_feat") asked.push_back(r);
    bool source_asked = std::find(asked.begin(), asked.end(), source) != asked.end();
    if (!source_asked) asked.push_back(source);
    Tensor logits = inner(x, asked, taps);
    auto it = taps.find(source);
    TUTOR_CHECK(it != taps.end(), "ss module: the model gave no '{}' tap", source);
    taps["ss_feat"] = ss_module->forward(it->second.flatten(1));
    if (!source_asked) taps.erase(source);
    return logits;
  };
  return {std::make_shared<WithSSModule>(model.module, std::move(ss_module)), forward,
          model.train_mode};
}

}  // namespace tutor::distill
