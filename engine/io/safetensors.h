// safetensors files (https://github.com/huggingface/safetensors, "Format"): the weights format
// PyTorch users already have.
//
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   a JSON object: {"NAME": {"dtype": "F32", "shape": [2, 3], "data_offsets": [B, E]},
//             ..., "__metadata__": {"key": "value", ...}}, padded with spaces
//   the rest  the data section; tensor NAME is the row-major bytes [B, E) of it
//
// Reading checks everything the reference implementation (safetensors/src/tensor.rs) checks,
// and a little more, before any data is used: the header length lies within the file (and under
// the reference's 100 MB limit), the header is strict JSON starting with '{', names are unique,
// each entry has exactly dtype, shape and data_offsets, the dtype is one the format defines, shape
// entries are non-negative and their product times the element size does not overflow,
// B <= E <= data size, E - B equals that byte count, and the tensors, ordered by offset, tile the
// data section exactly (no overlap, no gap, nothing after the last). Errors name the file, the
// tensor and the field.
//
// dtypes: F32, F64, BF16, I64 and BOOL load as tutor's f32, f64, bf16, i64 and bool (BOOL bytes
// other than 0 become true). F16 is converted exactly to f32; I32, I16, I8 and U8 are widened to
// i64. U16, U32, U64, F8_E5M2 and F8_E4M3 are valid in a file (SafetensorsFile lists them) but
// loading one throws naming the dtype. dtypes added by later versions of the format (F8_E8M0,
// F4, F6_E2M3, F6_E3M2, C64, ...) are rejected as unknown when the file is opened.
//
// Tensors are copied out of the mapping into tutor's 64-byte aligned storage (offsets in a file
// need not be aligned). The host must be little-endian, as the format is.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/io/mapped_file.h"

namespace tutor {

// The format's element types, in the reference's order (increasing alignment).
enum class SafetensorsDType : uint8_t {
  BOOL,
  U8,
  I8,
  F8_E5M2,
  F8_E4M3,
  I16,
  U16,
  F16,
  BF16,
  I32,
  U32,
  F32,
  F64,
  I64,
  U64
};
std::string_view safetensors_dtype_name(SafetensorsDType dtype);  // "F32", ...
size_t safetensors_dtype_size(SafetensorsDType dtype);

struct SafetensorsEntry {
  std::string name;
  SafetensorsDType dtype;
  Shape shape;
  uint64_t begin = 0;  // byte offsets [begin, end) in the data section
  uint64_t end = 0;
};

using SafetensorsMetadata = std::map<std::string, std::string>;

// An open, validated file. The header is parsed and checked in the constructor; tensor data is
// read only by load(), so listing names, shapes and dtypes of a large file is cheap.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);

  const std::string& path() const { return file_.path(); }
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }  // in data order
  const SafetensorsMetadata& metadata() const { return metadata_; }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  const SafetensorsEntry& entry(const std::string& name) const;  // throws when absent

  // Copies one tensor into new tutor storage, converting as described above.
  Tensor load(const std::string& name) const;
  std::map<std::string, Tensor> load_all() const;

 private:
  Tensor load(const SafetensorsEntry& entry) const;

  MappedFile file_;
  uint64_t data_start_ = 0;  // 8 + N
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, size_t> index_;
  SafetensorsMetadata metadata_;
};

struct SafetensorsContents {
  std::map<std::string, Tensor> tensors;  // ordered by name
  SafetensorsMetadata metadata;
};

SafetensorsContents load_safetensors(const std::string& path);

// Writes `tensors` (any strides; made contiguous on the way out) and `metadata` atomically
// (write_file_atomic). Layout as the reference writer's: tensors sorted by decreasing dtype
// alignment, then by name, so every tensor starts at a multiple of its element size; the header
// is compact JSON with "__metadata__" first (omitted when empty, keys sorted) and padded with
// spaces to a multiple of 8 bytes. Names must be unique, valid UTF-8 and not "__metadata__";
// tensors must be defined and on the CPU. safetensors.torch.save_file writes the same bytes for
// the same tensors when the metadata has at most one key (the reference keeps metadata in a hash
// map, so the order of several keys is arbitrary there).
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const SafetensorsMetadata& metadata = {});
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const SafetensorsMetadata& metadata = {});

}  // namespace tutor
