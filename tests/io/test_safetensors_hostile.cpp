// Hostile safetensors files: each one gets a tutor::Error naming the file, the tensor and the
// field, and none crashes (these cases also run under -DTUTOR_SANITIZE=address,undefined).
#include <doctest/doctest.h>

#include <cstdint>

#include "engine/io/safetensors.h"
#include "io/io_test_util.h"

using namespace tutor;
using namespace tutor::io_test;

namespace {

// Writes `bytes` to a file and returns the message of the Error loading it throws.
class Hostile {
 public:
  std::string error(const std::string& bytes) {
    write_file(path(), bytes);
    return error_of([&] { load_safetensors(path()); });
  }
  // A file whose header is `header` and whose data section is `data_size` zero bytes.
  std::string error(const std::string& header, size_t data_size) {
    return error(safetensors_bytes(header, std::string(data_size, '\0')));
  }
  std::string path() const { return dir_.file("hostile.safetensors"); }

 private:
  TempDir dir_;
};

std::string u64_le(uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out += char((v >> (8 * i)) & 0xff);
  return out;
}

// One tensor entry with the given fields spliced in.
std::string entry(const std::string& name, const std::string& fields) {
  return "\"" + name + "\":{" + fields + "}";
}

}  // namespace

TEST_CASE("io: safetensors hostile header length") {
  Hostile h;
  const std::string p = h.path();
  CHECK(h.error("") == p + ": header length: need 8 bytes at offset 0, file has 0");
  CHECK(h.error(std::string("\x10\0\0", 3)) ==
        p + ": header length: need 8 bytes at offset 0, file has 3");
  CHECK(h.error(u64_le(100) + "{}") == p + ": header: need 100 bytes at offset 8, file has 10");
  CHECK(h.error(u64_le(UINT64_MAX) + "{}") ==
        p + ": header length: 18446744073709551615 bytes is over the limit of 100000000 (the "
            "reference reader's)");
  CHECK(contains(h.error(u64_le(100'000'001) + "{}"), "over the limit"));
  CHECK(h.error(u64_le(0)) == p + ": header: must be a JSON object starting with '{' at byte 8");
}

TEST_CASE("io: safetensors hostile header JSON") {
  Hostile h;
  const std::string p = h.path();
  CHECK(h.error("[1, 2]  ", 0) ==
        p + ": header: must be a JSON object starting with '{' at byte 8");
  CHECK(h.error("  {}    ", 0) ==
        p + ": header: must be a JSON object starting with '{' at byte 8");
  CHECK(h.error("{\"a\":", 0) ==
        p + ": header: JSON at byte 5: expected a value but the text ends");
  CHECK(h.error("{} garbage", 0) ==
        p + ": header: JSON at byte 3: unexpected 'g' after the end of the JSON value");
  CHECK(contains(h.error(std::string("{}\0\0\0\0\0\0", 8), 0), "byte 0x00 after the end"));
  std::string deep = "{\"w\":" + std::string(40, '[') + std::string(40, ']') + "}";
  CHECK(contains(h.error(deep, 0), p + ": header: JSON at byte 20: nested deeper than 16 levels"));
  CHECK(contains(h.error("{\"w\":" + std::string(200'000, '['), 0), "nested deeper than"));
  CHECK(contains(h.error("{\"w\xff\":{}}", 0), "invalid UTF-8"));
  CHECK(contains(h.error("{\"w\":1.0}", 0), "only integers"));
}

TEST_CASE("io: safetensors hostile entries name the tensor and the field") {
  Hostile h;
  const std::string p = h.path();
  const std::string dtype = R"("dtype":"F32",)";
  const std::string shape = R"("shape":[2],)";
  auto offsets = [](int b, int e) { return fmt::format(R"("data_offsets":[{},{}])", b, e); };

  CHECK(h.error("{" + entry("w", R"("dtype":"F128","shape":[2],"data_offsets":[0,8])") + "}", 8) ==
        p + ": tensor \"w\": dtype: unknown dtype \"F128\" (the format defines BOOL, U8, I8, "
            "F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64)");
  CHECK(h.error("{" + entry("w", R"("dtype":"f32",)" + shape + offsets(0, 8)) + "}", 8) ==
        p + ": tensor \"w\": dtype: unknown dtype \"f32\" (the format defines BOOL, U8, I8, "
            "F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64)");
  CHECK(h.error("{" + entry("w", R"("dtype":4,)" + shape + offsets(0, 8)) + "}", 8) ==
        p + ": tensor \"w\": dtype: must be string, is integer");
  CHECK(h.error("{" + entry("w", shape + offsets(0, 8)) + "}", 8) ==
        p + ": tensor \"w\": dtype: missing");
  CHECK(h.error("{" + entry("w", dtype + shape + R"("offsets":[0,8])") + "}", 8) ==
        p + ": tensor \"w\": offsets: unknown field (an entry has dtype, shape and data_offsets)");
  CHECK(h.error(R"({"w":[1,2]})", 0) == p + ": tensor \"w\": entry: must be an object, is array");

  // Shapes: negative, not integers, overflowing the byte count.
  CHECK(h.error("{" + entry("w", dtype + R"("shape":[2,-1],)" + offsets(0, 8)) + "}", 8) ==
        p + ": tensor \"w\": shape[1]: is -1, must be >= 0");
  CHECK(h.error("{" + entry("w", dtype + R"("shape":["2"],)" + offsets(0, 8)) + "}", 8) ==
        p + ": tensor \"w\": shape[0]: must be an integer, is string");
  CHECK(h.error("{" + entry("w", dtype + R"("shape":2,)" + offsets(0, 8)) + "}", 8) ==
        p + ": tensor \"w\": shape: must be array, is integer");
  CHECK(
      h.error("{" + entry("w", dtype + R"("shape":[4611686018427387904,4],)" + offsets(0, 8)) + "}",
              8) ==
      p + ": tensor \"w\": shape: [4611686018427387904, 4] of 4-byte elements overflows a "
          "64-bit size");
  CHECK(contains(
      h.error("{" + entry("w", dtype + R"("shape":[2305843009213693952],)" + offsets(0, 8)) + "}",
              8),
      "overflows a 64-bit size"));  // 2^61 elements of 4 bytes
  // A zero dim makes numel 0, but tutor's strides would still overflow.
  CHECK(contains(
      h.error(
          "{" + entry("w", dtype + R"("shape":[0,4294967296,4294967296],)" + offsets(0, 0)) + "}",
          0),
      "shape: [0, 4294967296, 4294967296] of 4-byte elements overflows"));
  CHECK(contains(
      h.error("{" + entry("w", dtype + R"("shape":[9223372036854775808],)" + offsets(0, 8)) + "}",
              8),
      "integer out of the range of int64"));

  // Offsets.
  CHECK(h.error("{" + entry("w", dtype + shape + offsets(0, 400)) + "}", 16) ==
        p + ": tensor \"w\": data_offsets: [0, 400] ends past the data section of 16 bytes");
  CHECK(h.error("{" + entry("w", dtype + shape + offsets(8, 0)) + "}", 8) ==
        p + ": tensor \"w\": data_offsets: [8, 0] has begin after end");
  CHECK(h.error("{" + entry("w", dtype + shape + offsets(0, 12)) + "}", 12) ==
        p + ": tensor \"w\": data_offsets: [0, 12] holds 12 bytes, but shape [2] of F32 needs 8");
  CHECK(h.error("{" + entry("w", dtype + shape + offsets(-8, 0)) + "}", 8) ==
        p + ": tensor \"w\": data_offsets[0]: is -8, must be >= 0");
  CHECK(h.error("{" + entry("w", dtype + shape + R"("data_offsets":[0,8,16])") + "}", 16) ==
        p + ": tensor \"w\": data_offsets: must be [begin, end], has 3 entries");
  CHECK(h.error("{" + entry("w", dtype + shape + R"("data_offsets":[0,"8"])") + "}", 8) ==
        p + ": tensor \"w\": data_offsets[1]: must be an integer, is string");
  CHECK(contains(
      h.error("{" + entry("w", dtype + shape + R"("data_offsets":[0,18446744073709551615])") + "}",
              8),
      "integer out of the range of int64"));
}

TEST_CASE("io: safetensors hostile layouts: overlap, gaps, trailing bytes, duplicates") {
  Hostile h;
  const std::string p = h.path();
  auto f32 = [](const std::string& name, int n, int b, int e) {
    return entry(name,
                 fmt::format(R"("dtype":"F32","shape":[{}],"data_offsets":[{},{}])", n, b, e));
  };
  CHECK(h.error("{" + f32("a", 2, 0, 8) + "," + f32("b", 2, 4, 12) + "}", 12) ==
        p + ": tensor \"b\": data_offsets: [4, 12] overlaps tensor \"a\" at [0, 8]");
  CHECK(h.error("{" + f32("a", 2, 0, 8) + "," + f32("b", 2, 0, 8) + "}", 8) ==
        p + ": tensor \"b\": data_offsets: [0, 8] overlaps tensor \"a\" at [0, 8]");
  CHECK(h.error("{" + f32("a", 1, 0, 4) + "," + f32("b", 1, 8, 12) + "}", 12) ==
        p + ": tensor \"b\": data_offsets: [8, 12] leaves bytes [4, 8) of the data section unused");
  CHECK(h.error("{" + f32("a", 1, 4, 8) + "}", 8) ==
        p + ": tensor \"a\": data_offsets: [4, 8] leaves bytes [0, 4) of the data section unused");
  CHECK(h.error("{" + f32("a", 1, 0, 4) + "}", 8) ==
        p + ": data section: 8 bytes, but the tensors cover only the first 4 (bytes after the "
            "last tensor)");
  CHECK(h.error("{}", 1) == p + ": data section: 1 bytes, but the tensors cover only the first 0 "
                                "(bytes after the last tensor)");
  CHECK(h.error("{" + f32("a", 1, 0, 4) + "," + f32("a", 1, 4, 8) + "}", 8) ==
        p + ": header: JSON at byte 54: duplicate key \"a\"");
  // Empty tensors may share an offset with each other and with a neighbour.
  write_file(p, safetensors_bytes("{" + f32("e", 0, 4, 4) + "," + f32("a", 1, 0, 4) + "," +
                                      f32("z", 0, 4, 4) + "," + f32("b", 1, 4, 8) + "}",
                                  std::string(8, '\0')));
  CHECK(load_safetensors(p).tensors.size() == 4);
}

TEST_CASE("io: safetensors hostile metadata") {
  Hostile h;
  const std::string p = h.path();
  CHECK(h.error(R"({"__metadata__":[1]})", 0) == p + ": __metadata__: must be an object, is array");
  CHECK(h.error(R"({"__metadata__":{"k":1}})", 0) ==
        p + ": __metadata__: value of \"k\" must be a string, is integer");
  CHECK(h.error(R"({"__metadata__":{},"__metadata__":{}})", 0) ==
        p + ": header: JSON at byte 19: duplicate key \"__metadata__\"");
}

TEST_CASE("io: safetensors reader survives every truncation and byte change of a valid file") {
  const std::string valid = read_file(fixture("mixed_dtypes.safetensors"));
  TempDir dir;
  const std::string path = dir.file("mutant.safetensors");
  size_t rejected = 0, loaded = 0;
  auto attempt = [&](const std::string& bytes) {
    write_file(path, bytes);
    try {
      load_safetensors(path);
      ++loaded;
    } catch (const Error&) {  // anything else escapes and fails the test
      ++rejected;
    }
  };
  for (size_t n = 0; n < valid.size(); ++n) attempt(valid.substr(0, n));
  CHECK(rejected == valid.size());  // every proper prefix is invalid

  // Every byte of the length and header replaced by a few values: rejected or loaded, never a
  // crash or a read out of bounds (the sanitizer build checks the latter).
  const size_t header_end = 8 + size_t(uint8_t(valid[0])) + (size_t(uint8_t(valid[1])) << 8);
  for (size_t i = 0; i < header_end; ++i) {
    for (char c : {'\0', '9', '"', '[', '\xff'}) {
      std::string mutant = valid;
      mutant[i] = c;
      attempt(mutant);
    }
  }
  CHECK(loaded > 0);
  CHECK(rejected > valid.size());
}

TEST_CASE("io: safetensors reader refuses what is not a regular file") {
  TempDir dir;
  CHECK(error_of([&] { load_safetensors(dir.path().string()); }) ==
        dir.path().string() + ": not a regular file");
  CHECK(contains(error_of([&] { SafetensorsFile f(dir.file("missing.safetensors")); }),
                 "cannot open for reading"));
}
