// Writing safetensors files in the reference writer's layout (safetensors/src/tensor.rs, prepare).
#include <algorithm>
#include <set>
#include <string_view>

#include "engine/io/atomic_file.h"
#include "engine/io/json.h"
#include "engine/io/safetensors.h"

namespace tutor {

namespace {

struct Item {
  const std::string* name;
  const Tensor* tensor;
  SafetensorsDType dtype;
};

SafetensorsDType file_dtype(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return SafetensorsDType::F32;
    case DType::f64:
      return SafetensorsDType::F64;
    case DType::bf16:
      return SafetensorsDType::BF16;
    case DType::i64:
      return SafetensorsDType::I64;
    case DType::b8:
      break;
  }
  return SafetensorsDType::BOOL;
}

void check_utf8(const std::string& path, std::string_view what, const std::string& text) {
  TUTOR_CHECK(is_valid_utf8(text), "save_safetensors: {}: {} \"{}\" is not valid UTF-8", path, what,
              text);
}

std::vector<Item> check_items(const std::string& path, std::vector<Item> items,
                              const SafetensorsMetadata& metadata) {
  std::set<std::string_view> names;
  for (Item& item : items) {
    const std::string& name = *item.name;
    const Tensor& t = *item.tensor;
    check_utf8(path, "tensor name", name);
    TUTOR_CHECK(name != "__metadata__",
                "save_safetensors: {}: \"__metadata__\" is reserved and cannot name a tensor",
                path);
    TUTOR_CHECK(names.insert(name).second, "save_safetensors: {}: duplicate tensor name \"{}\"",
                path, name);
    TUTOR_CHECK(t.defined(), "save_safetensors: {}: tensor \"{}\" is undefined", path, name);
    TUTOR_CHECK(t.device().is_cpu(), "save_safetensors: {}: tensor \"{}\" is on {}, not the CPU",
                path, name, t.device().str());
    item.dtype = file_dtype(t.dtype());
  }
  for (const auto& [key, value] : metadata) {
    check_utf8(path, "metadata key", key);
    check_utf8(path, "metadata value", value);
  }
  // Decreasing alignment, then name: each tensor then starts at a multiple of its element size,
  // because the data section starts at 8 + header length, a multiple of 8.
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (a.dtype != b.dtype) return a.dtype > b.dtype;
    return *a.name < *b.name;
  });
  return items;
}

// Compact JSON as serde_json writes it, padded with spaces to a multiple of 8 bytes.
std::string make_header(const std::vector<Item>& items, const SafetensorsMetadata& metadata) {
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [key, value] : metadata) {
      if (!first) header += ',';
      first = false;
      append_json_string(header, key);
      header += ':';
      append_json_string(header, value);
    }
    header += '}';
  }
  uint64_t offset = 0;
  for (const Item& item : items) {
    if (header.size() > 1) header += ',';
    append_json_string(header, *item.name);
    uint64_t nbytes = uint64_t(item.tensor->numel()) * safetensors_dtype_size(item.dtype);
    header += fmt::format(":{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
                          safetensors_dtype_name(item.dtype), fmt::join(item.tensor->sizes(), ","),
                          offset, offset + nbytes);
    offset += nbytes;
  }
  header += '}';
  header.append((8 - header.size() % 8) % 8, ' ');
  return header;
}

void save_items(const std::string& path, std::vector<Item> unchecked,
                const SafetensorsMetadata& metadata) {
  const std::vector<Item> items = check_items(path, std::move(unchecked), metadata);
  const std::string header = make_header(items, metadata);
  write_file_atomic(path, [&](FileWriter& out) {
    unsigned char length[8];
    for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(header.size() >> (8 * i));
    out.write(length, sizeof length);
    out.write(header);
    for (const Item& item : items) {
      // One tensor at a time, so a strided input costs one tensor's copy, not the whole file's.
      Tensor packed = item.tensor->contiguous_raw();
      out.write(packed.raw_data(), size_t(packed.numel()) * element_size(packed.dtype()));
    }
  });
}

// Both containers hold (name, tensor) pairs.
template <class NamedRange>
std::vector<Item> items_of(const NamedRange& tensors) {
  std::vector<Item> items;
  for (const auto& [name, t] : tensors) items.push_back({&name, &t, SafetensorsDType::BOOL});
  return items;
}

}  // namespace

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const SafetensorsMetadata& metadata) {
  save_items(path, items_of(tensors), metadata);
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const SafetensorsMetadata& metadata) {
  save_items(path, items_of(tensors), metadata);
}

}  // namespace tutor
