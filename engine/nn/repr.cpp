#include "engine/nn/repr.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tutor::nn {

// fmt's shortest round-trip form equals Python's repr except that Python keeps ".0" on integral
// values (1.0, not 1) and spells the non-finite ones inf / nan.
std::string py_float(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eni") == std::string::npos) s += ".0";
  return s;
}

std::string py_tuple(const Shape& values) {
  if (values.size() == 1) return fmt::format("({},)", values[0]);
  return fmt::format("({})", fmt::join(values, ", "));
}

}  // namespace tutor::nn
