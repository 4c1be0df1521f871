// Where a tensor lives: the host ("cpu") or a CUDA device ("cuda:N"). The CUDA backend is built
// separately; a cuda Device is a valid value even where that backend is absent, and allocating on
// it then fails with an Error that says so.
#pragma once

#include <string>
#include <string_view>

namespace tutor {

enum class DeviceType : unsigned char { cpu, cuda };

struct Device {
  DeviceType type = DeviceType::cpu;
  int index = 0;

  Device() = default;
  Device(DeviceType t, int i = 0) : type(t), index(i) {}  // NOLINT
  explicit Device(std::string_view spec);  // "cpu", "cuda", "cuda:1"

  bool is_cpu() const { return type == DeviceType::cpu; }
  bool is_cuda() const { return type == DeviceType::cuda; }
  std::string str() const;
  friend bool operator==(const Device&, const Device&) = default;
};

inline const Device kCPU{DeviceType::cpu, 0};

}  // namespace tutor

#include <fmt/format.h>
template <>
struct fmt::formatter<tutor::Device> : fmt::formatter<std::string> {
  auto format(const tutor::Device& d, format_context& ctx) const {
    return fmt::formatter<std::string>::format(d.str(), ctx);
  }
};
