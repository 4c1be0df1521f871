// JSON text, JSONL files and atomic whole-file writes.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli_test.h"
#include "engine/core/error.h"
#include "tools/cli/json.h"

using namespace tutor::cli;
using namespace tutor::testing;
namespace fs = std::filesystem;

static std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A fresh folder under the system temp dir, removed at the end of the test.
TEST_CASE("cli: JSON strings escape quotes, backslashes and control characters") {
  CHECK(json_string("plain") == "\"plain\"");
  CHECK(json_string("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(json_string("\n\t\r\b\f") == "\"\\n\\t\\r\\b\\f\"");
  CHECK(json_string(std::string("\x01\x1f", 2)) == "\"\\u0001\\u001f\"");
  CHECK(json_string(std::string("nul\0x", 5)) == "\"nul\\u0000x\"");
  CHECK(json_string("caf\xc3\xa9") == "\"caf\xc3\xa9\"");  // UTF-8 passes through
}

TEST_CASE("cli: JSON numbers read back to the same double") {
  CHECK(json_number(0.1) == "0.1");
  CHECK(json_number(1.0) == "1");
  CHECK(json_number(-2.5e-300) == "-2.5e-300");
  CHECK(json_number(1.0 / 0.0) == "null");
  CHECK(json_number(std::nan("")) == "null");
  // Round trip over values that need all 17 significant digits.
  for (double v : {1.0 / 3.0, 2.0 / 3.0 * 1e10, 0.1 + 0.2, 123456.789e-20, 5e-324}) {
    std::string text = json_number(v);
    CHECK(std::strtod(text.c_str(), nullptr) == v);
  }
  CHECK(json_number(0.1 + 0.2) == "0.30000000000000004");
}

TEST_CASE("cli: JSON objects and arrays nest") {
  JsonArray xs;
  xs.push(int64_t(1)).push(2.5).push("three").push(JsonArray());
  JsonObject o;
  o.add("epoch", 3)
      .add("loss", 0.25)
      .add("ok", true)
      .add("name", "r\"1")
      .add("xs", xs)
      .add("inner", JsonObject().add("k", int64_t(-7)));
  CHECK(o.str() ==
        "{\"epoch\":3,\"loss\":0.25,\"ok\":true,\"name\":\"r\\\"1\",\"xs\":[1,2.5,\"three\",[]],"
        "\"inner\":{\"k\":-7}}");
  CHECK(JsonObject().str() == "{}");
}

TEST_CASE("cli: JSONL writes one flushed line per record") {
  ScratchDir dir;
  fs::path path = dir.dir / "log.jsonl";
  {
    JsonlWriter log(path.string());
    log.write(JsonObject().add("step", 1).add("loss", 0.5));
    // Readable before the writer closes: each line is flushed.
    CHECK(read_all(path) == "{\"step\":1,\"loss\":0.5}\n");
    log.write(JsonObject().add("step", 2).add("msg", "a\nb"));
    CHECK(read_all(path) == "{\"step\":1,\"loss\":0.5}\n{\"step\":2,\"msg\":\"a\\nb\"}\n");
  }
  {
    JsonlWriter log(path.string(), JsonlWriter::Mode::append);
    log.write(JsonObject().add("step", 3));
  }
  CHECK(read_all(path) ==
        "{\"step\":1,\"loss\":0.5}\n{\"step\":2,\"msg\":\"a\\nb\"}\n{\"step\":3}\n");
  JsonlWriter fresh(path.string());
  CHECK(read_all(path) == "");
  CHECK_THROWS_WITH_AS(JsonlWriter((dir.dir / "no" / "x.jsonl").string()),
                       doctest::Contains("x.jsonl: cannot open for writing"), tutor::Error);
}

