// Value conversion between the element types, with bf16 going through f32 and anything non-zero
// becoming true.
#pragma once

#include <type_traits>

#include "engine/core/bfloat16.h"

namespace tutor {

template <class To, class From>
inline To convert_value(From v) {
  if constexpr (std::is_same_v<From, BFloat16>) {
    return convert_value<To>(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_same_v<To, BFloat16>) {
    return BFloat16(static_cast<float>(v));
  } else {
    return static_cast<To>(v);
  }
}

}  // namespace tutor
