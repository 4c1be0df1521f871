#include "tools/cli/json.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "engine/core/error.h"
#include "engine/io/json.h"

namespace tutor::cli {

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }

JsonObject& JsonObject::add_raw(std::string_view key, const std::string& json) {
  if (!body_.empty()) body_ += ',';
  body_ += json_string(key) + ":" + json;
  return *this;
}

JsonObject& JsonObject::add(std::string_view key, std::string_view value) {
  return add_raw(key, json_string(value));
}
JsonObject& JsonObject::add(std::string_view key, double value) {
  return add_raw(key, json_number(value));
}
JsonObject& JsonObject::add(std::string_view key, int64_t value) {
  return add_raw(key, fmt::format("{}", value));
}
JsonObject& JsonObject::add(std::string_view key, bool value) {
  return add_raw(key, value ? "true" : "false");
}
JsonObject& JsonObject::add(std::string_view key, const JsonObject& value) {
  return add_raw(key, value.str());
}
JsonObject& JsonObject::add(std::string_view key, const JsonArray& value) {
  return add_raw(key, value.str());
}

JsonArray& JsonArray::push_raw(const std::string& json) {
  if (!body_.empty()) body_ += ',';
  body_ += json;
  return *this;
}

JsonArray& JsonArray::push(std::string_view value) { return push_raw(json_string(value)); }
JsonArray& JsonArray::push(double value) { return push_raw(json_number(value)); }
JsonArray& JsonArray::push(int64_t value) { return push_raw(fmt::format("{}", value)); }
JsonArray& JsonArray::push(const JsonObject& value) { return push_raw(value.str()); }
JsonArray& JsonArray::push(const JsonArray& value) { return push_raw(value.str()); }

JsonlWriter::JsonlWriter(const std::string& path, Mode mode)
    : path_(path), file_(std::fopen(path.c_str(), mode == Mode::append ? "ab" : "wb")) {
  TUTOR_CHECK(file_ != nullptr, "{}: cannot open for writing ({})", path, std::strerror(errno));
}

JsonlWriter::~JsonlWriter() { std::fclose(file_); }

void JsonlWriter::write(const JsonObject& record) {
  std::string line = record.str() + "\n";
  bool ok = std::fwrite(line.data(), 1, line.size(), file_) == line.size();
  ok = std::fflush(file_) == 0 && ok;
  TUTOR_CHECK(ok, "{}: write failed ({})", path_, std::strerror(errno));
}

}  // namespace tutor::cli
