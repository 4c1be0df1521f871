#include "models/registry.h"

#include <functional>

#include "engine/core/error.h"
#include "models/mixer.h"
#include "models/resnet.h"
#include "models/vit.h"

namespace tutor::models {

namespace {

struct Family {
  std::function<std::vector<std::string>()> names;
  std::function<std::shared_ptr<Model>(const std::string&, const ModelOptions&)> create;
};

const std::vector<Family>& families() {
  static const std::vector<Family> list{
      {resnet_names,
       [](const std::string& name, const ModelOptions& options) -> std::shared_ptr<Model> {
         return std::make_shared<ResNet>(resnet_config(name, options));
       }},
      {vit_names,
       [](const std::string& name, const ModelOptions& options) -> std::shared_ptr<Model> {
         return std::make_shared<VisionTransformer>(vit_config(name, options));
       }},
      {mixer_names,
       [](const std::string& name, const ModelOptions& options) -> std::shared_ptr<Model> {
         return std::make_shared<MlpMixer>(mixer_config(name, options));
       }},
  };
  return list;
}

}  // namespace

std::shared_ptr<Model> create_model(const std::string& name, const ModelOptions& options) {
  for (const Family& family : families())
    for (const std::string& known : family.names())
      if (known == name) return family.create(name, options);
  fail("create_model: unknown model '{}' (known: {})", name, fmt::join(list_models(), ", "));
}

std::vector<std::string> list_models() {
  std::vector<std::string> names;
  for (const Family& family : families())
    for (std::string& n : family.names()) names.push_back(std::move(n));
  return names;
}

}  // namespace tutor::models
