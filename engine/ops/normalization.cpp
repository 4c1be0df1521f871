#include "engine/ops/normalization.h"

#include "engine/ops/catalog.h"

namespace tutor {

void ops::add_normalization_ops(std::vector<OpInfo>&) {}

}  // namespace tutor
