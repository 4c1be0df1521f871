// The strict JSON reader and writer behind safetensors headers.
#include <doctest/doctest.h>

#include <string>

#include "engine/io/json.h"
#include "io/io_test_util.h"

using namespace tutor;
using tutor::io_test::contains;
using tutor::io_test::error_of;

namespace {

std::string parse_error(const std::string& text) {
  return error_of([&] { parse_json(text, "h.json"); });
}

}  // namespace

TEST_CASE("io: json parses objects, arrays, strings and integers") {
  JsonValue v = parse_json(
      " {\"a\": [1, -2, 0, 9223372036854775807, -9223372036854775808],\n"
      "\t\"b\": {\"c\": \"x\", \"d\": []}, \"\": {}}  ",
      "h.json");
  REQUIRE(v.kind == JsonValue::Kind::object);
  REQUIRE(v.object.size() == 3);
  CHECK(v.object[0].first == "a");  // text order is kept
  CHECK(v.object[2].first == "");
  const JsonValue* a = v.find("a");
  REQUIRE(a != nullptr);
  REQUIRE(a->array.size() == 5);
  CHECK(a->array[0].integer == 1);
  CHECK(a->array[1].integer == -2);
  CHECK(a->array[2].integer == 0);
  CHECK(a->array[3].integer == INT64_MAX);
  CHECK(a->array[4].integer == INT64_MIN);
  CHECK(v.find("b")->find("c")->string == "x");
  CHECK(v.find("b")->find("d")->array.empty());
  CHECK(v.find("b")->find("d")->kind == JsonValue::Kind::array);
  CHECK(v.find("missing") == nullptr);
  CHECK(parse_json("-0", "h").integer == 0);
}

TEST_CASE("io: json decodes every escape and keeps UTF-8") {
  JsonValue v = parse_json(R"("q\" b\\ s\/ \b\f\n\r\t \u0041\u00e9\u2713 \ud834\udd1e é✓𝄞")", "h");
  CHECK(v.string ==
        "q\" b\\ s/ \b\f\n\r\t A\xc3\xa9\xe2\x9c\x93 \xf0\x9d\x84\x9e "
        "\xc3\xa9\xe2\x9c\x93\xf0\x9d\x84\x9e");
  CHECK(parse_json(R"("\u0000")", "h").string == std::string(1, '\0'));
}

TEST_CASE("io: json rejects what safetensors headers never contain") {
  CHECK(parse_error("1.5") ==
        "h.json: JSON at byte 0: only integers are allowed in a safetensors "
        "header (found a fraction or exponent)");
  CHECK(contains(parse_error("[1e3]"), "at byte 1: only integers"));
  CHECK(contains(parse_error("true"), "true, false and null are not part"));
  CHECK(contains(parse_error("[null]"), "at byte 1: true, false and null"));
  CHECK(contains(parse_error("01"), "leading zero"));
  CHECK(contains(parse_error("-"), "'-' is not followed by a digit"));
  CHECK(contains(parse_error("+1"), "unexpected '+'"));
  CHECK(contains(parse_error("9223372036854775808"), "out of the range of int64"));
  CHECK(contains(parse_error("-9223372036854775809"), "out of the range of int64"));
  CHECK(contains(parse_error("99999999999999999999999"), "out of the range of int64"));
}

TEST_CASE("io: json rejects malformed text with the byte offset") {
  CHECK(parse_error("") == "h.json: JSON at byte 0: expected a value but the text ends");
  CHECK(parse_error("{\"a\":1,}") == "h.json: JSON at byte 7: expected '\"', found '}'");
  CHECK(contains(parse_error("[1,]"), "at byte 3: unexpected ']'"));
  CHECK(contains(parse_error("[1 2]"), "at byte 3: expected ']', found '2'"));
  CHECK(contains(parse_error("{\"a\" 1}"), "expected ':'"));
  CHECK(contains(parse_error("{\"a\":1"), "expected '}' but the text ends"));
  CHECK(parse_error("{\"a\":1,\"a\":2}") == "h.json: JSON at byte 7: duplicate key \"a\"");
  CHECK(contains(parse_error("{} x"), "at byte 3: unexpected 'x' after the end"));
  CHECK(contains(parse_error(std::string("{}\0", 3)), "byte 0x00 after the end"));
  CHECK(contains(parse_error("{}{}"), "after the end"));
  CHECK(contains(parse_error("\"abc"), "at byte 0: string is not terminated"));
  CHECK(contains(parse_error("\"a\nb\""), "at byte 2: unescaped control character byte 0x0a"));
  CHECK(contains(parse_error(R"("\x")"), "invalid escape \\x"));
  CHECK(contains(parse_error(R"("\u12")"), "needs 4 hex digits"));
  CHECK(contains(parse_error(R"("\u12g4")"), "'g' is not a hex digit"));
  CHECK(contains(parse_error(R"("\ud834")"), "lone high surrogate"));
  CHECK(contains(parse_error(R"("\ud834\u0041")"), "not followed by a low one"));
  CHECK(contains(parse_error(R"("\udd1e")"), "lone low surrogate"));
}

TEST_CASE("io: json rejects invalid UTF-8") {
  for (const char* bad : {"\xc0\x80",          // overlong NUL
                          "\xe0\x80\x80",      // overlong
                          "\xed\xa0\x80",      // encoded surrogate U+D800
                          "\xf4\x90\x80\x80",  // above U+10FFFF
                          "\xf5\x80\x80\x80",  // invalid lead byte
                          "\x80",              // lone continuation
                          "\xc3",              // truncated sequence
                          "\xe2\x9c"}) {
    std::string text = std::string("\"a") + bad + "\"";
    CHECK(contains(parse_error(text), "at byte 2: invalid UTF-8"));
    CHECK_FALSE(is_valid_utf8(bad));
  }
  CHECK(is_valid_utf8("plain \xc3\xa9 \xe2\x9c\x93 \xf0\x9d\x84\x9e \xf4\x8f\xbf\xbf"));
}

TEST_CASE("io: json nesting is limited, so hostile depth cannot exhaust the stack") {
  auto nested = [](int depth) {
    return std::string(size_t(depth), '[') + std::string(size_t(depth), ']');
  };
  CHECK_NOTHROW(parse_json(nested(kJsonMaxDepth), "h"));
  CHECK(parse_error(nested(kJsonMaxDepth + 1)) ==
        fmt::format("h.json: JSON at byte {}: nested deeper than {} levels", kJsonMaxDepth,
                    kJsonMaxDepth));
  CHECK(contains(parse_error(std::string(1'000'000, '[')), "nested deeper than"));
  CHECK(contains(parse_error(std::string(500'000, '{')), "expected '\"'"));
}

TEST_CASE("io: json strings written by append_json_string read back unchanged") {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all += char(c);
  all += "\xc3\xa9\xe2\x9c\x93\xf0\x9d\x84\x9e";
  all += '\0';
  std::string quoted;
  append_json_string(quoted, all);
  CHECK(parse_json(quoted, "h").string == all);

  std::string simple;
  append_json_string(simple, "a\"b\\c/d\n\x01\x7f");
  // serde_json's escaping: '/' and DEL verbatim, \u00xx in lower-case hex.
  CHECK(simple == "\"a\\\"b\\\\c/d\\n\\u0001\x7f\"");
}
