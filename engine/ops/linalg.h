#pragma once

#include "engine/core/tensor.h"

namespace tutor {}
