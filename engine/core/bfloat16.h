// bfloat16: the upper 16 bits of an IEEE f32. Conversion from f32 rounds to nearest even, as
// PyTorch and oneDNN do; NaN stays NaN.
#pragma once

#include <bit>
#include <cstdint>

namespace tutor {

struct BFloat16 {
  uint16_t bits = 0;

  BFloat16() = default;
  BFloat16(float value) : bits(round(value)) {}  // NOLINT: implicit like a float
  operator float() const { return std::bit_cast<float>(uint32_t(bits) << 16); }

  static uint16_t round(float value) {
    uint32_t u = std::bit_cast<uint32_t>(value);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
  }
};

}  // namespace tutor
