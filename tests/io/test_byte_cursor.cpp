// ByteCursor: integers in both byte orders and bounds checks that name the file and the field.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <limits>

#include "engine/io/byte_cursor.h"
#include "io/io_test_util.h"

using namespace tutor;
using tutor::io_test::error_of;

namespace {

std::array<std::byte, 10> sample() {
  std::array<std::byte, 10> b{};
  const uint8_t values[10] = {0x01, 0x02, 0x03, 0x04, 0xff, 0xfe, 0x00, 0x00, 0x08, 0x03};
  for (size_t i = 0; i < b.size(); ++i) b[i] = std::byte(values[i]);
  return b;
}

}  // namespace

TEST_CASE("io: byte cursor reads little- and big-endian integers") {
  auto bytes = sample();
  ByteCursor le(bytes, "f.bin");
  CHECK(le.read_le<uint32_t>("a") == 0x04030201u);
  CHECK(le.read_le<int16_t>("b") == int16_t(-257));  // 0xfeff
  CHECK(le.offset() == 6);
  CHECK(le.remaining() == 4);

  ByteCursor be(bytes, "f.bin");
  CHECK(be.read_be<uint32_t>("magic") == 0x01020304u);
  CHECK(be.read_be<int16_t>("b") == int16_t(-2));  // 0xfffe
  CHECK(be.read_be<uint32_t>("count") == 0x00000803u);
  CHECK(be.at_end());

  ByteCursor all(bytes, "f.bin");
  all.seek(2, "seek");
  CHECK(all.read_le<uint8_t>("x") == 0x03);
  CHECK(all.take(3, "span")[2] == std::byte(0xfe));
}

TEST_CASE("io: byte cursor refuses to read past the end") {
  auto bytes = sample();
  ByteCursor r(bytes, "f.bin");
  r.skip(6, "header");
  CHECK(error_of([&] { r.read_le<uint64_t>("count"); }) ==
        "f.bin: count: need 8 bytes at offset 6, file has 10");
  CHECK(r.offset() == 6);  // a failed read does not move the cursor
  // A size near SIZE_MAX must not wrap around offset + n.
  CHECK(error_of([&] { r.take(std::numeric_limits<size_t>::max(), "data"); }) ==
        fmt::format("f.bin: data: need {} bytes at offset 6, file has 10",
                    std::numeric_limits<size_t>::max()));
  CHECK(error_of([&] { r.seek(11, "table"); }) ==
        "f.bin: table: offset 11 is past the end, file has 10 bytes");
  r.seek(10, "end");
  CHECK(r.at_end());
  CHECK(r.take(0, "nothing").empty());

  ByteCursor empty_reader(std::span<const std::byte>(), "empty.bin");
  CHECK(error_of([&] { empty_reader.read_be<uint32_t>("magic"); }) ==
        "empty.bin: magic: need 4 bytes at offset 0, file has 0");
}
