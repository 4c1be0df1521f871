// A strict JSON reader and a string writer for exactly the JSON that safetensors headers use:
// objects, arrays, strings (with every RFC 8259 escape) and integers. Anything else (fractions,
// exponents, true/false/null, duplicate keys, invalid UTF-8, lone surrogates, trailing bytes
// other than whitespace, nesting deeper than a limit) is rejected with the byte offset, so a
// hostile header cannot exhaust the stack or be read two ways.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tutor {

struct JsonValue {
  enum class Kind : uint8_t { object, array, string, integer };

  Kind kind = Kind::integer;
  int64_t integer = 0;
  std::string string;
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;  // in text order; keys are unique
  size_t offset = 0;                                      // where the value starts in the text

  const JsonValue* find(std::string_view key) const;  // nullptr when absent
};

std::string_view json_kind_name(JsonValue::Kind kind);  // "object", "array", "string", "integer"

// Parses `text` as one JSON value with optional surrounding whitespace. Errors read
// "SOURCE: JSON at byte OFFSET: PROBLEM". Integers must fit in int64.
inline constexpr int kJsonMaxDepth = 16;
JsonValue parse_json(std::string_view text, std::string_view source, int max_depth = kJsonMaxDepth);

// Appends `text` as a quoted JSON string the way serde_json (the reference safetensors writer)
// escapes it: '"' and '\\' with a backslash, \b \f \n \r \t by name, other control characters as
// \u00xx, everything else (including '/' and non-ASCII UTF-8) verbatim.
// `text` must be valid UTF-8 (see is_valid_utf8); the caller checks, naming what `text` is.
void append_json_string(std::string& out, std::string_view text);

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view text);

}  // namespace tutor
