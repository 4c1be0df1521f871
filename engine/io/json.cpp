#include "engine/io/json.h"

#include <limits>
#include <unordered_set>

#include "engine/core/error.h"

namespace tutor {

namespace {

// Length of the valid UTF-8 sequence at s[0..n), or 0 if it is not one. Ranges from RFC 3629's
// table: the second byte's range excludes overlong forms (E0, F0), surrogates (ED) and code
// points above U+10FFFF (F4).
size_t utf8_sequence_length(const unsigned char* s, size_t n) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; ++i)
    if (s[i] < 0x80 || s[i] > 0xBF) return 0;
  return len;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// A character for an error message: itself when printable ASCII, else its hex byte value.
std::string describe_byte(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7F) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", u);
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view source, int max_depth)
      : text_(text), source_(source), max_depth_(max_depth) {}

  JsonValue parse_document() {
    skip_whitespace();
    JsonValue value = parse_value(0);
    skip_whitespace();
    if (pos_ != text_.size())
      error(pos_, fmt::format("unexpected {} after the end of the JSON value",
                              describe_byte(text_[pos_])));
    return value;
  }

 private:
  [[noreturn]] void error(size_t at, const std::string& problem) const {
    fail("{}: JSON at byte {}: {}", source_, at, problem);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  void skip_whitespace() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
      ++pos_;
  }

  void expect(char c) {
    if (at_end()) error(pos_, fmt::format("expected '{}' but the text ends", c));
    if (peek() != c) error(pos_, fmt::format("expected '{}', found {}", c, describe_byte(peek())));
    ++pos_;
  }

  JsonValue parse_value(int depth) {
    if (at_end()) error(pos_, "expected a value but the text ends");
    char c = peek();
    if (c == '{' || c == '[') {
      if (depth >= max_depth_) error(pos_, fmt::format("nested deeper than {} levels", max_depth_));
      return c == '{' ? parse_object(depth + 1) : parse_array(depth + 1);
    }
    if (c == '"') {
      JsonValue v;
      v.kind = JsonValue::Kind::string;
      v.offset = pos_;
      v.string = parse_string();
      return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_integer();
    if (c == 't' || c == 'f' || c == 'n')
      error(pos_,
            "true, false and null are not part of a safetensors header "
            "(only objects, arrays, strings and integers are)");
    error(pos_, fmt::format("unexpected {} where a value should start", describe_byte(c)));
  }

  JsonValue parse_object(int depth) {
    JsonValue v;
    v.kind = JsonValue::Kind::object;
    v.offset = pos_;
    expect('{');
    skip_whitespace();
    if (!at_end() && peek() == '}') {
      ++pos_;
      return v;
    }
    std::unordered_set<std::string> keys;
    while (true) {
      skip_whitespace();
      size_t key_at = pos_;
      if (at_end() || peek() != '"') expect('"');
      std::string key = parse_string();
      if (!keys.insert(key).second) error(key_at, fmt::format("duplicate key \"{}\"", key));
      skip_whitespace();
      expect(':');
      skip_whitespace();
      JsonValue member = parse_value(depth);
      v.object.emplace_back(std::move(key), std::move(member));
      skip_whitespace();
      if (!at_end() && peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}');
      return v;
    }
  }

  JsonValue parse_array(int depth) {
    JsonValue v;
    v.kind = JsonValue::Kind::array;
    v.offset = pos_;
    expect('[');
    skip_whitespace();
    if (!at_end() && peek() == ']') {
      ++pos_;
      return v;
    }
    while (true) {
      skip_whitespace();
      v.array.push_back(parse_value(depth));
      skip_whitespace();
      if (!at_end() && peek() == ',') {
        ++pos_;
        continue;
      }
      expect(']');
      return v;
    }
  }

  uint32_t parse_hex4() {
    if (text_.size() - pos_ < 4) error(pos_, "\\u escape needs 4 hex digits but the text ends");
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_ + size_t(i)];
      uint32_t digit;
      if (c >= '0' && c <= '9')
        digit = uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f')
        digit = uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        digit = uint32_t(c - 'A' + 10);
      else
        error(pos_ + size_t(i),
              fmt::format("{} is not a hex digit in a \\u escape", describe_byte(c)));
      value = value * 16 + digit;
    }
    pos_ += 4;
    return value;
  }

  std::string parse_string() {
    size_t start = pos_;
    expect('"');
    std::string out;
    while (true) {
      if (at_end()) error(start, "string is not terminated");
      char c = peek();
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20)
        error(pos_, fmt::format("unescaped control character {} in a string", describe_byte(c)));
      if (c != '\\') {
        size_t len = utf8_sequence_length(
            reinterpret_cast<const unsigned char*>(text_.data() + pos_), text_.size() - pos_);
        if (len == 0) error(pos_, fmt::format("invalid UTF-8 ({}) in a string", describe_byte(c)));
        out.append(text_.substr(pos_, len));
        pos_ += len;
        continue;
      }
      size_t escape_at = pos_;
      ++pos_;
      if (at_end()) error(escape_at, "string ends inside an escape");
      char e = peek();
      ++pos_;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp = parse_hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) error(escape_at, "lone low surrogate in a \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            // A high surrogate must be followed by \u and a low surrogate (RFC 8259, section 7).
            if (text_.substr(pos_, 2) != "\\u")
              error(escape_at, "lone high surrogate in a \\u escape");
            pos_ += 2;
            uint32_t low = parse_hex4();
            if (low < 0xDC00 || low > 0xDFFF)
              error(escape_at, "high surrogate not followed by a low one");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default:
          error(escape_at, fmt::format("invalid escape \\{}", e));
      }
    }
  }

  JsonValue parse_integer() {
    JsonValue v;
    v.kind = JsonValue::Kind::integer;
    v.offset = pos_;
    bool negative = false;
    if (peek() == '-') {
      negative = true;
      ++pos_;
    }
    if (at_end() || peek() < '0' || peek() > '9') error(v.offset, "'-' is not followed by a digit");
    if (peek() == '0' && pos_ + 1 < text_.size() && text_[pos_ + 1] >= '0' &&
        text_[pos_ + 1] <= '9')
      error(v.offset, "integer with a leading zero");
    // The magnitude may reach 2^63 for a negative number; anything past that is out of range.
    const uint64_t limit =
        negative ? uint64_t(1) << 63 : uint64_t(std::numeric_limits<int64_t>::max());
    uint64_t magnitude = 0;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      uint64_t digit = uint64_t(peek() - '0');
      if (magnitude > (limit - digit) / 10) error(v.offset, "integer out of the range of int64");
      magnitude = magnitude * 10 + digit;
      ++pos_;
    }
    if (!at_end() && (peek() == '.' || peek() == 'e' || peek() == 'E'))
      error(v.offset,
            "only integers are allowed in a safetensors header (found a fraction or exponent)");
    v.integer = negative ? int64_t(0 - magnitude) : int64_t(magnitude);
    return v;
  }

  std::string_view text_;
  std::string_view source_;
  int max_depth_;
  size_t pos_ = 0;
};

}  // namespace

const JsonValue* JsonValue::find(std::string_view key) const {
  for (const auto& [k, v] : object)
    if (k == key) return &v;
  return nullptr;
}

std::string_view json_kind_name(JsonValue::Kind kind) {
  switch (kind) {
    case JsonValue::Kind::object:
      return "object";
    case JsonValue::Kind::array:
      return "array";
    case JsonValue::Kind::string:
      return "string";
    case JsonValue::Kind::integer:
      return "integer";
  }
  return "?";
}

JsonValue parse_json(std::string_view text, std::string_view source, int max_depth) {
  return Parser(text, source, max_depth).parse_document();
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        else
          out += c;
    }
  }
  out += '"';
}

bool is_valid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i < text.size();) {
    size_t len = utf8_sequence_length(s + i, text.size() - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

}  // namespace tutor
