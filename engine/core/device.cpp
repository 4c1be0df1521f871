#include "engine/core/device.h"

#include <charconv>

#include "engine/core/error.h"

namespace tutor {

Device::Device(std::string_view spec) {
  if (spec == "cpu") {
    *this = Device(DeviceType::cpu, 0);
    return;
  }
  if (spec.starts_with("cuda")) {
    std::string_view rest = spec.substr(4);
    int n = 0;
    if (!rest.empty()) {
      auto [end, ec] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), n);
      TUTOR_CHECK(rest[0] == ':' && ec == std::errc() && end == rest.data() + rest.size() && n >= 0,
                  "Device: cannot parse '{}' (expected 'cpu', 'cuda' or 'cuda:N')", spec);
    }
    *this = Device(DeviceType::cuda, n);
    return;
  }
  fail("Device: cannot parse '{}' (expected 'cpu', 'cuda' or 'cuda:N')", spec);
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : fmt::format("cuda:{}", index);
}

}  // namespace tutor
