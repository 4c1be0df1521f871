// A models::Model as the Distiller sees it (distill/distiller.h): the module and a forward that
// fills the taps an objective asked for. `tutor distill` and `tutor bench` build their teachers
// and students with it; distill/ itself knows no model class (DESIGN.md).
#pragma once

#include <memory>

#include "distill/distiller.h"
#include "models/model.h"

namespace tutor::cli {

distill::Participant participant(const std::shared_ptr<models::Model>& model, bool train_mode);

}  // namespace tutor::cli
