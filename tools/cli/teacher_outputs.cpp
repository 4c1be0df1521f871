#include "tools/cli/teacher_outputs.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>

#include "engine/core/error.h"
#include "engine/io/safetensors.h"
#include "engine/ops/indexing.h"

namespace tutor::cli {

namespace {

// FNV-1a, 64 bits (http://www.isthe.com/chongo/tech/comp/fnv/): an identity check, not security.
class Fnv1a {
 public:
  void add(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) h_ = (h_ ^ p[i]) * 0x100000001b3ULL;
  }
  void add(const std::string& s) { add(s.data(), s.size() + 1); }  // with its terminator
  void add(const Tensor& t) {
    Tensor c = t.contiguous();
    add(fmt::format("{}", t.dtype()));
    int64_t dims = t.dim();
    add(&dims, sizeof dims);
    add(t.sizes().data(), sizeof(int64_t) * t.sizes().size());
    add(c.raw_data(), size_t(c.numel()) * element_size(c.dtype()));
  }
  std::string hex() const { return fmt::format("fnv1a64:{:016x}", h_); }

 private:
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

std::string shape_text(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

}  // namespace

std::string hash_state_dict(const nn::Module& module) {
  Fnv1a h;
  for (const auto& [name, t] : module.state_dict()) {
    h.add(name);
    h.add(t);
  }
  return h.hex();
}

std::string hash_dataset(const data::TensorDataset& dataset) {
  Fnv1a h;
  constexpr int64_t kChunk = 1024;
  for (int64_t begin = 0; begin < dataset.size(); begin += kChunk) {
    std::vector<int64_t> rows;
    for (int64_t i = begin; i < std::min(begin + kChunk, dataset.size()); ++i) rows.push_back(i);
    data::Batch b = dataset.get(rows);
    h.add(b.images);
    h.add(b.labels);
  }
  return h.hex();
}

TeacherOutputs::TeacherOutputs(TeacherOutputsKey key, std::map<std::string, Tensor> tensors)
    : key_(std::move(key)), tensors_(std::move(tensors)) {
  for (const auto& [name, t] : tensors_)
    TUTOR_CHECK(t.dtype() == DType::f32 && t.dim() >= 1 && t.size(0) == key_.rows,
                "teacher outputs: {} must be f32 [{}, ...], got {} {}", name, key_.rows,
                t.dtype(), shape_text(t.sizes()));
}

void TeacherOutputs::write(const std::string& path) const {
  SafetensorsMetadata meta{{"format", kTeacherOutputsFormat},
                           {"dataset", key_.dataset},
                           {"split", key_.split},
                           {"rows", std::to_string(key_.rows)},
                           {"data_hash", key_.data_hash},
                           {"teachers", std::to_string(key_.teachers.size())}};
  for (size_t k = 0; k < key_.teachers.size(); ++k) {
    std::string prefix = distill::teacher_prefix(int64_t(k));
    meta[prefix + ".model"] = key_.teachers[k].model;
    meta[prefix + ".weights_hash"] = key_.teachers[k].weights_hash;
    std::vector<std::string> taps;
    for (const auto& [name, t] : tensors_)
      if (name.starts_with(prefix + ".") && name != prefix + ".logits")
        taps.push_back(name.substr(prefix.size() + 1));
    meta[prefix + ".taps"] = fmt::format("{}", fmt::join(taps, ","));
  }
  save_safetensors(path, tensors_, meta);
}

TeacherOutputs TeacherOutputs::read(const std::string& path, const TeacherOutputsKey& key,
                                    const std::map<std::string, Shape>& needed) {
  SafetensorsFile file(path);
  const SafetensorsMetadata& meta = file.metadata();
  auto field = [&](const std::string& name) -> std::string {
    auto it = meta.find(name);
    TUTOR_CHECK(it != meta.end(),
                "{}: not a teacher-outputs file of this run: the metadata has no field '{}'", path,
                name);
    return it->second;
  };
  auto expect = [&](const std::string& name, const std::string& want, const std::string& what) {
    std::string got = field(name);
    TUTOR_CHECK(got == want, "{}: metadata field '{}' is '{}', but {} is '{}'", path, name, got,
                what, want);
  };
  expect("format", kTeacherOutputsFormat, "the format this tutor reads");
  expect("dataset", key.dataset, "the run's dataset");
  expect("split", key.split, "the split it reads");
  expect("rows", std::to_string(key.rows), "the number of the run's training images");
  expect("data_hash", key.data_hash,
         "the hash of the run's training images and labels (different data)");
  expect("teachers", std::to_string(key.teachers.size()), "the recipe's number of teachers");
  for (size_t k = 0; k < key.teachers.size(); ++k) {
    std::string prefix = distill::teacher_prefix(int64_t(k));
    expect(prefix + ".model", key.teachers[k].model, "the recipe's " + prefix);
    expect(prefix + ".weights_hash", key.teachers[k].weights_hash,
           "the hash of the run's " + prefix + " weights (a different teacher)");
  }
  std::map<std::string, Tensor> tensors;
  for (const auto& [name, row] : needed) {
    Shape want{key.rows};
    want.insert(want.end(), row.begin(), row.end());
    std::string taps = name.substr(0, name.find('.')) + ".taps";
    TUTOR_CHECK(file.contains(name),
                "{}: no tensor '{}', which the recipe's objectives read (metadata {}: '{}')", path,
                name, taps, meta.count(taps) ? meta.at(taps) : std::string());
    const SafetensorsEntry& e = file.entry(name);
    TUTOR_CHECK(e.dtype == SafetensorsDType::F32, "{}: tensor '{}' has dtype {}, expected F32",
                path, name, safetensors_dtype_name(e.dtype));
    TUTOR_CHECK(e.shape == want, "{}: tensor '{}' has shape {}, expected {}", path, name,
                shape_text(e.shape), shape_text(want));
    tensors[name] = file.load(name);
  }
  return TeacherOutputs(key, std::move(tensors));
}

distill::Inputs TeacherOutputs::rows(const std::vector<int64_t>& rows) const {
  for (int64_t r : rows)
    TUTOR_CHECK(r >= 0 && r < key_.rows, "teacher outputs: row {} outside [0, {})", r, key_.rows);
  Tensor index = from_vector(rows, {int64_t(rows.size())}, DType::i64);
  distill::Inputs out;
  for (const auto& [name, t] : tensors_) out.set(name, index_select(t, 0, index));
  return out;
}

}  // namespace tutor::cli
