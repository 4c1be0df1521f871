// tutor::Error and the checks that throw it. Every message names the op (or file) and the
// values involved, so a user can tell what was wrong without a debugger.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>

namespace tutor {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace tutor

// TUTOR_CHECK(cond, "op: expected ... got {}", x) throws tutor::Error with the formatted message.
#define TUTOR_CHECK(cond, ...)          \
  do {                                  \
    if (!(cond)) ::tutor::fail(__VA_ARGS__); \
  } while (0)
