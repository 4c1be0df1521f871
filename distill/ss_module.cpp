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

class WithHead : public nn::Module {
 public:
  WithHead(std::shared_ptr<nn::Module> model, std::shared_ptr<nn::Module> head,
           const std::string& head_name)
      : Module("WithHead") {
    register_module("model", std::move(model));
    register_module(head_name, std::move(head));
  }
};

}  // namespace

Participant with_head(const Participant& model, std::shared_ptr<nn::Module> head,
                      const std::string& tap, const std::string& head_name,
                      const std::string& source) {
  TUTOR_CHECK(model.module && model.forward && head, "with_head: no model or head");
  auto inner = model.forward;
  auto forward = [inner, head, tap, source](const Tensor& x,
                                            const std::vector<std::string>& requested,
                                            std::map<std::string, Tensor>& taps) {
    if (std::find(requested.begin(), requested.end(), tap) == requested.end())
      return inner(x, requested, taps);
    std::vector<std::string> asked;
    for (const std::string& r : requested)
      if (r != tap) asked.push_back(r);
    bool source_asked = std::find(asked.begin(), asked.end(), source) != asked.end();
    if (!source_asked) asked.push_back(source);
    Tensor logits = inner(x, asked, taps);
    auto it = taps.find(source);
    TUTOR_CHECK(it != taps.end(), "{}: the model gave no '{}' tap", tap, source);
    taps[tap] = head->forward(it->second.flatten(1));
    if (!source_asked) taps.erase(source);
    return logits;
  };
  return {std::make_shared<WithHead>(model.module, std::move(head), head_name), forward,
          model.train_mode};
}

Participant with_ss_module(const Participant& model, std::shared_ptr<nn::Module> ss_module,
                           const std::string& source) {
  return with_head(model, std::move(ss_module), "ss_feat", "ss_module", source);
}

}  // namespace tutor::distill
