// Writing JSON: a builder for one object or array as compact text, and a JSONL log that appends
// one object per line and flushes it, so a crashed or running training leaves a readable log.
//
// Numbers: integers exactly; doubles in the shortest form that reads back to the same double
// (fmt's "{}"); NaN and infinities are not JSON numbers and are written as null. Strings: '"',
// '\\' and control characters are escaped (\n, \t, ... or \u00XX); other bytes, UTF-8 included,
// pass through unchanged.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace tutor::cli {

std::string json_string(std::string_view s);  // quoted and escaped
std::string json_number(double v);            // shortest round-trip form; null if not finite

class JsonArray;

class JsonObject {
 public:
  JsonObject& add(std::string_view key, std::string_view value);
  JsonObject& add(std::string_view key, const char* value) {
    return add(key, std::string_view(value));
  }
  JsonObject& add(std::string_view key, double value);
  JsonObject& add(std::string_view key, int64_t value);
  JsonObject& add(std::string_view key, int value) { return add(key, int64_t(value)); }
  JsonObject& add(std::string_view key, bool value);
  JsonObject& add(std::string_view key, const JsonObject& value);
  JsonObject& add(std::string_view key, const JsonArray& value);
  std::string str() const { return "{" + body_ + "}"; }

 private:
  JsonObject& add_raw(std::string_view key, const std::string& json);
  std::string body_;
};

class JsonArray {
 public:
  JsonArray& push(std::string_view value);
  JsonArray& push(double value);
  JsonArray& push(int64_t value);
  JsonArray& push(const JsonObject& value);
  JsonArray& push(const JsonArray& value);
  std::string str() const { return "[" + body_ + "]"; }

 private:
  JsonArray& push_raw(const std::string& json);
  std::string body_;
};

// A JSON Lines file: each write() is one line, flushed before it returns.
class JsonlWriter {
 public:
  enum class Mode { truncate, append };
  explicit JsonlWriter(const std::string& path, Mode mode = Mode::truncate);
  ~JsonlWriter();
  JsonlWriter(const JsonlWriter&) = delete;
  JsonlWriter& operator=(const JsonlWriter&) = delete;

  void write(const JsonObject& record);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_;
};

}  // namespace tutor::cli
