// Reading safetensors files: header validation and loading with dtype conversion.
#include "engine/io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <tuple>

#include "engine/io/byte_cursor.h"
#include "engine/io/json.h"

namespace tutor {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; tutor copies it without byte swapping");

namespace {

// The reference reader's MAX_HEADER_SIZE: larger headers are refused before parsing.
constexpr uint64_t kMaxHeaderSize = 100'000'000;

struct DTypeInfo {
  SafetensorsDType dtype;
  std::string_view name;
  size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {SafetensorsDType::BOOL, "BOOL", 1},       {SafetensorsDType::U8, "U8", 1},
    {SafetensorsDType::I8, "I8", 1},           {SafetensorsDType::F8_E5M2, "F8_E5M2", 1},
    {SafetensorsDType::F8_E4M3, "F8_E4M3", 1}, {SafetensorsDType::I16, "I16", 2},
    {SafetensorsDType::U16, "U16", 2},         {SafetensorsDType::F16, "F16", 2},
    {SafetensorsDType::BF16, "BF16", 2},       {SafetensorsDType::I32, "I32", 4},
    {SafetensorsDType::U32, "U32", 4},         {SafetensorsDType::F32, "F32", 4},
    {SafetensorsDType::F64, "F64", 8},         {SafetensorsDType::I64, "I64", 8},
    {SafetensorsDType::U64, "U64", 8},
};

std::optional<SafetensorsDType> find_dtype(std::string_view name) {
  for (const DTypeInfo& info : kDTypes)
    if (info.name == name) return info.dtype;
  return std::nullopt;
}

[[noreturn]] void entry_error(const std::string& file, const std::string& name,
                              std::string_view field, const std::string& problem) {
  fail("{}: tensor \"{}\": {}: {}", file, name, field, problem);
}

const JsonValue& require_member(const std::string& file, const std::string& name,
                                const JsonValue& entry, std::string_view field,
                                JsonValue::Kind kind) {
  const JsonValue* v = entry.find(field);
  if (!v) entry_error(file, name, field, "missing");
  if (v->kind != kind)
    entry_error(file, name, field,
                fmt::format("must be {}, is {}", json_kind_name(kind), json_kind_name(v->kind)));
  return *v;
}

int64_t non_negative_integer(const std::string& file, const std::string& name,
                             const std::string& field, const JsonValue& v) {
  if (v.kind != JsonValue::Kind::integer)
    entry_error(file, name, field,
                fmt::format("must be an integer, is {}", json_kind_name(v.kind)));
  if (v.integer < 0) entry_error(file, name, field, fmt::format("is {}, must be >= 0", v.integer));
  return v.integer;
}

SafetensorsEntry parse_entry(const std::string& file, const std::string& name,
                             const JsonValue& value, uint64_t data_size) {
  if (value.kind != JsonValue::Kind::object)
    entry_error(file, name, "entry",
                fmt::format("must be an object, is {}", json_kind_name(value.kind)));
  for (const auto& [key, member] : value.object)
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      entry_error(file, name, key, "unknown field (an entry has dtype, shape and data_offsets)");

  SafetensorsEntry entry;
  entry.name = name;
  const std::string& dtype_name =
      require_member(file, name, value, "dtype", JsonValue::Kind::string).string;
  std::optional<SafetensorsDType> dtype = find_dtype(dtype_name);
  if (!dtype)
    entry_error(file, name, "dtype",
                fmt::format("unknown dtype \"{}\" (the format defines BOOL, U8, I8, F8_E5M2, "
                            "F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64)",
                            dtype_name));
  entry.dtype = *dtype;
  const uint64_t element = safetensors_dtype_size(entry.dtype);

  const JsonValue& shape = require_member(file, name, value, "shape", JsonValue::Kind::array);
  for (size_t i = 0; i < shape.array.size(); ++i)
    entry.shape.push_back(
        non_negative_integer(file, name, fmt::format("shape[{}]", i), shape.array[i]));
  // The product of the non-zero dims times the element size must fit in int64 even when a zero
  // dim makes numel 0: tutor's contiguous strides are such products.
  uint64_t product = 1, numel = 1;
  for (int64_t d : entry.shape) {
    uint64_t dim = uint64_t(d);
    if (dim > 1 && product > uint64_t(std::numeric_limits<int64_t>::max()) / element / dim)
      entry_error(file, name, "shape",
                  fmt::format("{} of {}-byte elements overflows a 64-bit size",
                              shape_str(entry.shape), element));
    product *= std::max<uint64_t>(dim, 1);
    numel *= dim;
  }
  const uint64_t nbytes = numel * element;

  const JsonValue& offsets =
      require_member(file, name, value, "data_offsets", JsonValue::Kind::array);
  if (offsets.array.size() != 2)
    entry_error(file, name, "data_offsets",
                fmt::format("must be [begin, end], has {} entries", offsets.array.size()));
  entry.begin = uint64_t(non_negative_integer(file, name, "data_offsets[0]", offsets.array[0]));
  entry.end = uint64_t(non_negative_integer(file, name, "data_offsets[1]", offsets.array[1]));
  if (entry.begin > entry.end)
    entry_error(file, name, "data_offsets",
                fmt::format("[{}, {}] has begin after end", entry.begin, entry.end));
  if (entry.end > data_size)
    entry_error(file, name, "data_offsets",
                fmt::format("[{}, {}] ends past the data section of {} bytes", entry.begin,
                            entry.end, data_size));
  if (entry.end - entry.begin != nbytes)
    entry_error(
        file, name, "data_offsets",
        fmt::format("[{}, {}] holds {} bytes, but shape {} of {} needs {}", entry.begin, entry.end,
                    entry.end - entry.begin, shape_str(entry.shape), dtype_name, nbytes));
  return entry;
}

SafetensorsMetadata parse_metadata(const std::string& file, const JsonValue& value) {
  TUTOR_CHECK(value.kind == JsonValue::Kind::object, "{}: __metadata__: must be an object, is {}",
              file, json_kind_name(value.kind));
  SafetensorsMetadata metadata;
  for (const auto& [key, v] : value.object) {
    TUTOR_CHECK(v.kind == JsonValue::Kind::string,
                "{}: __metadata__: value of \"{}\" must be a string, is {}", file, key,
                json_kind_name(v.kind));
    metadata.emplace(key, v.string);
  }
  return metadata;
}

// The entries, sorted by offset, must tile [0, data_size) exactly; the reference reader refuses
// overlaps, gaps and trailing bytes the same way (Metadata::validate, MetadataIncompleteBuffer).
void check_tiling(const std::string& file, std::vector<SafetensorsEntry>& entries,
                  uint64_t data_size) {
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  uint64_t covered = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const SafetensorsEntry& e : entries) {
    if (e.begin < covered)
      entry_error(file, e.name, "data_offsets",
                  fmt::format("[{}, {}] overlaps tensor \"{}\" at [{}, {}]", e.begin, e.end,
                              previous->name, previous->begin, previous->end));
    if (e.begin > covered)
      entry_error(file, e.name, "data_offsets",
                  fmt::format("[{}, {}] leaves bytes [{}, {}) of the data section unused", e.begin,
                              e.end, covered, e.begin));
    covered = e.end;
    previous = &e;
  }
  TUTOR_CHECK(covered == data_size,
              "{}: data section: {} bytes, but the tensors cover only the first {} "
              "(bytes after the last tensor)",
              file, data_size, covered);
}

// IEEE binary16 to binary32, exact: every half value is a float.
float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h >> 15) << 31;
  const uint32_t exponent = (h >> 10) & 0x1f;
  const uint32_t mantissa = h & 0x3ff;
  if (exponent == 0) {  // zero or subnormal: mantissa * 2^-24
    float magnitude = std::ldexp(float(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31)  // inf, or NaN with its payload kept
    return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

// Converts `numel` little-endian elements of type `From` at `src` into `dst`.
template <class From, class To, class Convert>
void convert_elements(const std::byte* src, To* dst, int64_t numel, Convert convert) {
  for (int64_t i = 0; i < numel; ++i) {
    From value;
    std::memcpy(&value, src + size_t(i) * sizeof(From), sizeof(From));
    dst[i] = convert(value);
  }
}

}  // namespace

std::string_view safetensors_dtype_name(SafetensorsDType dtype) {
  return kDTypes[size_t(dtype)].name;
}

size_t safetensors_dtype_size(SafetensorsDType dtype) { return kDTypes[size_t(dtype)].size; }

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(path) {
  ByteCursor reader(file_.bytes(), path);
  const uint64_t header_size = reader.read_le<uint64_t>("header length");
  TUTOR_CHECK(header_size <= kMaxHeaderSize,
              "{}: header length: {} bytes is over the limit of {} (the reference reader's)", path,
              header_size, kMaxHeaderSize);
  std::span<const std::byte> header_bytes = reader.take(size_t(header_size), "header");
  data_start_ = 8 + header_size;
  const uint64_t data_size = reader.remaining();

  std::string_view header(reinterpret_cast<const char*>(header_bytes.data()), header_bytes.size());
  TUTOR_CHECK(!header.empty() && header[0] == '{',
              "{}: header: must be a JSON object starting with '{{' at byte 8", path);
  JsonValue root = parse_json(header, fmt::format("{}: header", path));
  TUTOR_CHECK(root.kind == JsonValue::Kind::object, "{}: header: must be a JSON object, is {}",
              path, json_kind_name(root.kind));

  for (const auto& [name, value] : root.object) {
    if (name == "__metadata__") {
      metadata_ = parse_metadata(path, value);
    } else {
      entries_.push_back(parse_entry(path, name, value, data_size));
    }
  }
  check_tiling(path, entries_, data_size);
  for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].name, i);
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  auto it = index_.find(name);
  TUTOR_CHECK(it != index_.end(), "{}: no tensor named \"{}\" ({} tensors in the file)", path(),
              name, entries_.size());
  return entries_[it->second];
}

Tensor SafetensorsFile::load(const std::string& name) const { return load(entry(name)); }

Tensor SafetensorsFile::load(const SafetensorsEntry& e) const {
  const std::byte* src = file_.bytes().data() + data_start_ + e.begin;
  const int64_t numel = shape_numel(e.shape);
  auto widen = [](auto v) { return int64_t(v); };
  Tensor out;
  switch (e.dtype) {
    case SafetensorsDType::F32:
    case SafetensorsDType::F64:
    case SafetensorsDType::BF16:
    case SafetensorsDType::I64: {
      const DType dtype = e.dtype == SafetensorsDType::F32    ? DType::f32
                          : e.dtype == SafetensorsDType::F64  ? DType::f64
                          : e.dtype == SafetensorsDType::BF16 ? DType::bf16
                                                              : DType::i64;
      out = empty(e.shape, dtype);
      if (numel > 0) std::memcpy(out.raw_data(), src, size_t(e.end - e.begin));
      return out;
    }
    case SafetensorsDType::BOOL:
      // Copied byte by byte: a bool holding anything but 0 or 1 is undefined behaviour in C++.
      out = empty(e.shape, DType::b8);
      convert_elements<uint8_t>(src, out.data<bool>(), numel, [](uint8_t v) { return v != 0; });
      return out;
    case SafetensorsDType::F16:
      out = empty(e.shape, DType::f32);
      convert_elements<uint16_t>(src, out.data<float>(), numel, half_to_float);
      return out;
    case SafetensorsDType::I32:
      out = empty(e.shape, DType::i64);
      convert_elements<int32_t>(src, out.data<int64_t>(), numel, widen);
      return out;
    case SafetensorsDType::I16:
      out = empty(e.shape, DType::i64);
      convert_elements<int16_t>(src, out.data<int64_t>(), numel, widen);
      return out;
    case SafetensorsDType::I8:
      out = empty(e.shape, DType::i64);
      convert_elements<int8_t>(src, out.data<int64_t>(), numel, widen);
      return out;
    case SafetensorsDType::U8:
      out = empty(e.shape, DType::i64);
      convert_elements<uint8_t>(src, out.data<int64_t>(), numel, widen);
      return out;
    default:
      break;
  }
  fail(
      "{}: tensor \"{}\": dtype: {} cannot be loaded (tutor loads F32, F64, BF16, I64 and BOOL, "
      "and converts F16 to f32 and I32, I16, I8, U8 to i64)",
      path(), e.name, safetensors_dtype_name(e.dtype));
}

std::map<std::string, Tensor> SafetensorsFile::load_all() const {
  std::map<std::string, Tensor> tensors;
  for (const SafetensorsEntry& e : entries_) tensors.emplace(e.name, load(e));
  return tensors;
}

SafetensorsContents load_safetensors(const std::string& path) {
  SafetensorsFile file(path);
  return {file.load_all(), file.metadata()};
}

}  // namespace tutor
