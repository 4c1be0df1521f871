// Python's spelling of the values in a module's extra_repr, so str() prints as print(model):
// floats as Python's repr (0.1, 1e-05, 0.0), tuples as "(3, 3)" and "(8,)", booleans as True/False.
#pragma once

#include <string>

#include "engine/core/shape.h"

namespace tutor::nn {

std::string py_float(double v);
std::string py_tuple(const Shape& values);
inline const char* py_bool(bool b) { return b ? "True" : "False"; }

}  // namespace tutor::nn
