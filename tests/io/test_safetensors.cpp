// safetensors: round trips, the reference writer's exact bytes, fixtures written by
// tools/golden/make_safetensors_fixtures.py, the lazy API, and writer errors.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "io/io_test_util.h"

using namespace tutor;
using namespace tutor::io_test;

namespace {

// Same dtype, shape and bytes (so NaN payloads and -0 count), whatever the strides.
bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.sizes() != b.sizes()) return false;
  Tensor ca = a.contiguous_raw(), cb = b.contiguous_raw();
  return std::memcmp(ca.raw_data(), cb.raw_data(), size_t(a.numel()) * element_size(a.dtype())) ==
         0;
}

void check_loaded(const std::map<std::string, Tensor>& loaded, const NamedTensors& expected) {
  REQUIRE(loaded.size() == expected.size());
  for (const auto& [name, t] : expected) {
    CAPTURE(name);
    REQUIRE(loaded.count(name) == 1);
    const Tensor& got = loaded.at(name);
    CHECK(same_bits(got, t));
    CHECK(got.is_contiguous());
    CHECK(reinterpret_cast<uintptr_t>(got.raw_data()) % kCpuAlignment == 0);
  }
}

}  // namespace

TEST_CASE("io: safetensors round trip of every dtype, 0-dim and empty tensors, metadata") {
  TempDir dir;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  NamedTensors tensors = {
      {"f32",
       from_vector(std::vector<float>{1.5f, -0.0f, float(inf), float(nan), 1e-45f, 3e38f}, {2, 3})},
      {"f64", from_vector(std::vector<double>{1.0 / 3, -1e300, 5e-324, -inf}, {2, 2}, DType::f64)},
      {"bf16",
       from_vector(std::vector<float>{1, -0.5f, 3.140625f, float(nan), 1e-40f}, {5}, DType::bf16)},
      {"i64", from_vector(std::vector<int64_t>{INT64_MIN, -1, 0, INT64_MAX}, {4, 1}, DType::i64)},
      {"mask", tensor({{1, 0, 1}, {0, 0, 1}}, DType::b8)},
      {"scalar", scalar_tensor(7.25)},
      {"scalar_i64", scalar_tensor(-3, DType::i64)},
      {"empty", empty({0, 3})},
      {"empty_i64", empty({4, 0, 2}, DType::i64)},
      {"dotted.name/with slash", tensor({1, 2})},
      {"unicode é ✓ \"q\"", tensor({3})},
  };
  SafetensorsMetadata metadata = {{"format", "pt"},
                                  {"", "empty key"},
                                  {"escapes", std::string("\t\n\"\\/\x01 é ✓ 𝄞") + '\0' + "x"}};
  std::string path = dir.file("all.safetensors");
  save_safetensors(path, tensors, metadata);
  SafetensorsContents back = load_safetensors(path);
  check_loaded(back.tensors, tensors);
  CHECK(back.metadata == metadata);
  CHECK(back.tensors.at("scalar").dim() == 0);
  CHECK(back.tensors.at("empty_i64").sizes() == Shape{4, 0, 2});

  // Without metadata, and from a map: "__metadata__" is left out entirely.
  save_safetensors(path, back.tensors);
  CHECK_FALSE(contains(read_file(path), "__metadata__"));
  check_loaded(load_safetensors(path).tensors, tensors);
  CHECK(load_safetensors(path).metadata.empty());
  CHECK(dir.listing() == std::vector<std::string>{"all.safetensors"});
}

TEST_CASE("io: safetensors saves strided views as their row-major values") {
  TempDir dir;
  Tensor base = arange(24, DType::f32).reshape({2, 3, 4});
  Tensor wide = from_vector(std::vector<double>{1, 2, 3}, {3, 1}, DType::f64);
  NamedTensors views = {
      {"permuted", base.permute({2, 0, 1})},
      {"narrowed", base.narrow(2, 1, 2)},
      {"selected", base.select(1, 2)},
      {"expanded", wide.expand({3, 4})},  // stride 0
      {"bf16_t", base.to(DType::bf16).transpose(0, 2)},
      {"i64_step", arange(10).slice(0, 1, 9, 3)},
  };
  for (const auto& [name, t] : views) REQUIRE_FALSE(t.is_contiguous());
  std::string path = dir.file("views.safetensors");
  save_safetensors(path, views);
  auto back = load_safetensors(path).tensors;
  check_loaded(back, views);
  CHECK(back.at("permuted").sizes() == Shape{4, 2, 3});
  CHECK(back.at("permuted").to_vector<float>()[1] == 4.0f);  // base[0][1][0]
  CHECK(back.at("expanded").to_vector<double>() ==
        std::vector<double>{1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3});
  CHECK(back.at("i64_step").to_vector<int64_t>() == std::vector<int64_t>{1, 4, 7});
  // The file holds exactly the packed bytes: 8 + header + data.
  SafetensorsFile file(path);
  uint64_t data_bytes = 0;
  for (const auto& e : file.entries()) data_bytes += e.end - e.begin;
  CHECK(data_bytes == 4 * (24 + 12 + 8) + 8 * 12 + 2 * 24 + 8 * 3);
}

TEST_CASE("io: safetensors writes the reference implementation's bytes") {
  // Expected bytes from the reference's own tests (safetensors/src/tensor.rs:
  // test_serialization, test_serialization_forced_alignement, test_empty).
  TempDir dir;
  std::string path = dir.file("ref.safetensors");
  auto le_floats = [](std::initializer_list<float> values) {
    std::string out;
    for (float v : values) out.append(reinterpret_cast<const char*>(&v), 4);
    return out;
  };
  Tensor values = arange(6, DType::f32);

  save_safetensors(path, NamedTensors{{"attn.0", values.reshape({1, 2, 3})}});
  CHECK(read_file(path) ==
        std::string("\x40\0\0\0\0\0\0\0", 8) +
            R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})" +
            le_floats({0, 1, 2, 3, 4, 5}));

  save_safetensors(path, NamedTensors{{"attn0", values.reshape({1, 1, 2, 3})}});
  CHECK(read_file(path) ==
        std::string("\x48\0\0\0\0\0\0\0", 8) +
            R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       )" +
            le_floats({0, 1, 2, 3, 4, 5}));

  save_safetensors(path, NamedTensors{});
  CHECK(read_file(path) == std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
  save_safetensors(path, NamedTensors{}, {{"framework", "pt"}});
  CHECK(read_file(path) ==
        std::string("\x28\0\0\0\0\0\0\0", 8) + R"({"__metadata__":{"framework":"pt"}}     )");
  CHECK(load_safetensors(path).metadata == SafetensorsMetadata{{"framework", "pt"}});
}

TEST_CASE("io: safetensors layout matches the reference writer's, byte for byte") {
  // The tensors of reference_layout() in tools/golden/make_safetensors_fixtures.py, given in another
  // order: the writer sorts them by decreasing dtype alignment, then by name.
  TempDir dir;
  NamedTensors tensors = {
      {"keep", tensor({1, 0, 0, 1, 1}, DType::b8)},
      {"none", empty({0})},
      {"half", tensor({0.5, -3, 1}, DType::bf16)},
      {"b.weight", tensor({{0, 0.25, 0.5}, {0.75, 1, 1.25}})},
      {"double", tensor({{1.25}, {-0.125}}, DType::f64)},
      {"steps", scalar_tensor(12345678901.0, DType::i64)},
      {"\u00e9chelle", tensor({2})},  // UTF-8 bytes sort after ASCII, as in the reference
      {"a.bias", tensor({-1, 2})},
  };
  std::string path = dir.file("layout.safetensors");
  save_safetensors(path, tensors, {{"source", "tutor/\"fixture\""}, {"format", "pt"}});
  std::string expected = read_file(fixture("reference_layout.safetensors"));
  CHECK(read_file(path) == expected);

  // Every tensor starts at a multiple of its element size, in a data section that starts at a
  // multiple of 8.
  SafetensorsFile file(path);
  CHECK((expected.size() - file.entries().back().end) % 8 == 0);
  for (const auto& e : file.entries()) CHECK(e.begin % safetensors_dtype_size(e.dtype) == 0);
}

TEST_CASE("io: safetensors reads the fixture written by Python, converting F16 and integers") {
  SafetensorsContents c = load_safetensors(fixture("mixed_dtypes.safetensors"));
  const auto& t = c.tensors;
  REQUIRE(t.size() == 13);
  CHECK(c.metadata ==
        SafetensorsMetadata{{"format", "pt"},
                            {"note", "tab\t quote\" backslash\\ newline\n é ✓ \xf0\x9d\x84\x9e"}});

  CHECK(t.at("f32").sizes() == Shape{2, 3});
  CHECK(t.at("f32").to_vector<float>() == std::vector<float>{-1.5f, 0, 0.25f, 3, 1e-3f, -7.75f});
  CHECK(t.at("f64").dtype() == DType::f64);
  CHECK(t.at("f64").to_vector<double>() == std::vector<double>{1.0 / 3.0, -1e300, 2.5});
  CHECK(t.at("bf16").dtype() == DType::bf16);
  CHECK(t.at("bf16").to_vector<float>() == std::vector<float>{1, -2, 0.5f, 3.140625f});

  const Tensor& f16 = t.at("f16");
  CHECK(f16.dtype() == DType::f32);
  CHECK(f16.sizes() == Shape{2, 5});
  std::vector<float> h = f16.to_vector<float>();
  CHECK(h[0] == 1.0f);
  CHECK(h[1] == -2.5f);
  CHECK(h[2] == 65504.0f);               // largest half
  CHECK(h[3] == std::ldexp(1.0f, -24));  // smallest subnormal half
  CHECK(h[4] == std::ldexp(1.0f, -14));  // smallest normal half
  CHECK((h[5] == 0.0f && std::signbit(h[5])));
  CHECK(h[6] == std::numeric_limits<float>::infinity());
  CHECK(h[7] == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(h[8]));
  CHECK(h[9] == 0.333251953125f);  // 0x3555, the half nearest 1/3

  CHECK(t.at("i64").to_vector<int64_t>() == std::vector<int64_t>{-(int64_t(1) << 40), 7});
  for (const char* name : {"i32", "i16", "i8", "u8"}) CHECK(t.at(name).dtype() == DType::i64);
  CHECK(t.at("i32").to_vector<int64_t>() == std::vector<int64_t>{INT32_MIN, INT32_MAX, -5});
  CHECK(t.at("i16").to_vector<int64_t>() == std::vector<int64_t>{-32768, 32767});
  CHECK(t.at("i8").to_vector<int64_t>() == std::vector<int64_t>{-128, 0, 127});
  CHECK(t.at("u8").to_vector<int64_t>() == std::vector<int64_t>{0, 1, 200, 255});
  CHECK(t.at("mask").dtype() == DType::b8);
  CHECK(t.at("mask").to_vector<bool>() == std::vector<bool>{true, false, true});
  CHECK(t.at("scalar").dim() == 0);
  CHECK(t.at("scalar").item() == 42.5);
  CHECK(t.at("empty").sizes() == Shape{0, 3});
  CHECK(t.at("nested.layer.weight").sizes() == Shape{1, 1, 2});
  CHECK(t.at("nested.layer.weight").to_vector<float>() == std::vector<float>{5, 6});
}

TEST_CASE("io: safetensors lists a file without loading it") {
  SafetensorsFile file(fixture("mixed_dtypes.safetensors"));
  const auto& entries = file.entries();
  REQUIRE(entries.size() == 13);
  // Data order (the header lists the tensors alphabetically): I64 first at offset 0.
  CHECK(entries[0].name == "i64");
  CHECK(entries[0].dtype == SafetensorsDType::I64);
  CHECK(entries[0].begin == 0);
  CHECK(entries[0].end == 16);
  for (size_t i = 1; i < entries.size(); ++i) CHECK(entries[i].begin == entries[i - 1].end);
  const SafetensorsEntry& f16 = file.entry("f16");
  CHECK(safetensors_dtype_name(f16.dtype) == "F16");
  CHECK(f16.shape == Shape{2, 5});
  CHECK(f16.end - f16.begin == 20);
  CHECK(file.contains("u8"));
  CHECK_FALSE(file.contains("nope"));
  CHECK(error_of([&] { file.entry("nope"); }) ==
        file.path() + ": no tensor named \"nope\" (13 tensors in the file)");
  CHECK(file.load("u8").to_vector<int64_t>() == std::vector<int64_t>{0, 1, 200, 255});
  CHECK(file.metadata().at("format") == "pt");
}

TEST_CASE("io: safetensors lists dtypes tutor cannot load, and refuses to load them") {
  TempDir dir;
  std::string path = dir.file("u32.safetensors");
  write_file(path, safetensors_bytes(R"({"u":{"dtype":"U32","shape":[2],"data_offsets":[0,8]},)"
                                     R"("x":{"dtype":"F32","shape":[],"data_offsets":[8,12]}})",
                                     std::string(8, '\1') + std::string("\0\0\x80\x3f", 4)));
  SafetensorsFile file(path);
  CHECK(file.entry("u").dtype == SafetensorsDType::U32);
  CHECK(file.load("x").item() == 1.0);
  std::string message = error_of([&] { file.load("u"); });
  CHECK(message == path +
                       ": tensor \"u\": dtype: U32 cannot be loaded (tutor loads F32, F64, "
                       "BF16, I64 and BOOL, and converts F16 to f32 and I32, I16, I8, U8 to i64)");
  CHECK(error_of([&] { load_safetensors(path); }) == message);
}

TEST_CASE("io: safetensors BOOL bytes other than 0 and 1 load as true") {
  TempDir dir;
  std::string path = dir.file("bool.safetensors");
  write_file(path, safetensors_bytes(R"({"m":{"dtype":"BOOL","shape":[4],"data_offsets":[0,4]}})",
                                     std::string("\0\x01\x02\xff", 4)));
  CHECK(load_safetensors(path).tensors.at("m").to_vector<bool>() ==
        std::vector<bool>{false, true, true, true});
}

TEST_CASE("io: safetensors refuses bad names and tensors, leaving the target untouched") {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  save_safetensors(path, NamedTensors{{"w", tensor({1, 2})}});
  const std::string before = read_file(path);
  auto save_error = [&](const NamedTensors& tensors, const SafetensorsMetadata& metadata = {}) {
    return error_of([&] { save_safetensors(path, tensors, metadata); });
  };

  CHECK(save_error({{"a", tensor({1})}, {"b", tensor({2})}, {"a", tensor({3}, DType::f64)}}) ==
        "save_safetensors: " + path + ": duplicate tensor name \"a\"");
  CHECK(save_error({{"__metadata__", tensor({1})}}) ==
        "save_safetensors: " + path + ": \"__metadata__\" is reserved and cannot name a tensor");
  CHECK(save_error({{"a", tensor({1})}, {"b", Tensor()}}) ==
        "save_safetensors: " + path + ": tensor \"b\" is undefined");
  CHECK(contains(save_error({{"bad\xff", tensor({1})}}),
                 "tensor name \"bad\xff\" is not valid UTF-8"));
  CHECK(contains(save_error({{"a", tensor({1})}}, {{"k", "\xc0\x80"}}), "metadata value"));
  CHECK(contains(save_error({{"a", tensor({1})}}, {{"\xed\xa0\x80", "v"}}), "metadata key"));

  CHECK(read_file(path) == before);
  CHECK(dir.listing() == std::vector<std::string>{"model.safetensors"});
}

TEST_CASE("io: safetensors write failing midway leaves the old file and no temporary file") {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  save_safetensors(path, NamedTensors{{"w", tensor({1, 2})}});
  const std::string before = read_file(path);
  std::string message;
  {
    FileSizeLimit limit(4096);  // the second tensor's bytes hit the limit
    message = error_of([&] {
      save_safetensors(path, NamedTensors{{"a", zeros({100})}, {"b", zeros({64, 64}).t()}});
    });
  }
  CHECK(contains(message, path + ": not written, the file is unchanged: write failed after"));
  CHECK(read_file(path) == before);
  CHECK(dir.listing() == std::vector<std::string>{"model.safetensors"});
}
