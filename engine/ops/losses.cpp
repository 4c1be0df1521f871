#include "engine/ops/losses.h"

#include "engine/ops/catalog.h"

namespace tutor {

void ops::add_loss_ops(std::vector<OpInfo>&) {}

}  // namespace tutor
