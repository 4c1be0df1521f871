#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

void register_losses() {}

}  // namespace tutor::kernels::reference
