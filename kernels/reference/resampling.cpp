#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

void register_resampling() {}

}  // namespace tutor::kernels::reference
