// Models by name, for the CLI and recipes: create_model("resnet8", {.num_classes = 10,
// .in_channels = 1}). Each family lists its names in registry.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/model.h"

namespace tutor::models {

// A new model with the reference initialization; an Error listing the known names when `name`
// is not one of them.
std::shared_ptr<Model> create_model(const std::string& name, const ModelOptions& options = {});

// Every name create_model accepts, in a stable order (family by family).
std::vector<std::string> list_models();

}  // namespace tutor::models
