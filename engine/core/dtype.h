// Element types. f32 is the default; f64 serves audits and gradient checks; bf16 is a storage
// type for mixed precision; i64 holds indices and labels; bool holds masks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/core/bfloat16.h"

namespace tutor {

enum class DType : uint8_t { f32, f64, bf16, i64, b8 };
inline constexpr int kNumDTypes = 5;

size_t element_size(DType dtype);
std::string_view dtype_name(DType dtype);  // "f32", "f64", "bf16", "i64", "bool"
bool is_floating(DType dtype);

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <> struct dtype_of<BFloat16> { static constexpr DType value = DType::bf16; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::i64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::b8; };
template <class T> inline constexpr DType dtype_v = dtype_of<T>::value;

// Calls f(T{}) with T the C++ type of `dtype`.
template <class F>
decltype(auto) visit_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    case DType::bf16: return f(BFloat16{});
    case DType::i64: return f(int64_t{});
    case DType::b8: break;
  }
  return f(bool{});
}

}  // namespace tutor

#include <fmt/format.h>
template <>
struct fmt::formatter<tutor::DType> : fmt::formatter<std::string_view> {
  auto format(tutor::DType d, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(tutor::dtype_name(d), ctx);
  }
};
