// Offline KD: the teachers' outputs (logits and the taps the objectives read) on every training
// image, computed once and stored in a safetensors file, then read by later runs instead of
// running the teachers on the training images.
//
// File layout: one f32 tensor per output, named as the objectives read it ("teacher.logits",
// "teacher1.layer3", ...), of shape [rows, ...] in the dataset's row order, for the un-augmented
// (normalized) images with the teachers in eval mode. Metadata records what the outputs were
// computed from, and a file is read only when every field equals the run's:
//   format            kTeacherOutputsFormat
//   dataset, split    "fashion-mnist", "train"
//   rows              the number of training images
//   data_hash         FNV-1a 64 of the training images (f32) and labels (i64), hex
//   teachers          how many teachers
//   <prefix>.model    each teacher's registry name (prefix: teacher, teacher1, ...)
//   <prefix>.weights_hash   FNV-1a 64 of its state dict (names, dtypes, shapes, bytes), hex
//   <prefix>.taps     the taps stored besides the logits, comma-separated (informational)
// Every mismatch, a missing output, a wrong dtype or shape is an Error naming the file and the
// field or tensor; the format itself is checked by SafetensorsFile.
//
// Exactness: as with the in-memory cache (teacher_cache.h), stored outputs equal those a live
// teacher computes bit for bit when the live batches have the recipe's batch size, the size the
// file was computed with.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "distill/objective.h"
#include "engine/core/tensor.h"
#include "engine/data/dataset.h"
#include "engine/nn/module.h"

namespace tutor::cli {

inline constexpr const char* kTeacherOutputsFormat = "tutor-teacher-outputs/1";

struct TeacherIdentity {
  std::string model;         // registry name
  std::string weights_hash;  // hash_state_dict of its weights
};

// What the outputs were computed from; every field must match on reading.
struct TeacherOutputsKey {
  std::string dataset;  // "fashion-mnist"
  std::string split;    // "train"
  int64_t rows = 0;
  std::string data_hash;  // hash_dataset of the split
  std::vector<TeacherIdentity> teachers;
};

std::string hash_state_dict(const nn::Module& module);
std::string hash_dataset(const data::TensorDataset& dataset);

class TeacherOutputs {
 public:
  // `tensors`: name -> f32 [key.rows, ...].
  TeacherOutputs(TeacherOutputsKey key, std::map<std::string, Tensor> tensors);

  // Reads `path` and checks it against `key`; `needed` maps each output the run reads to the
  // shape of one row (e.g. "teacher.logits" -> {10}). Only the needed tensors are loaded.
  static TeacherOutputs read(const std::string& path, const TeacherOutputsKey& key,
                             const std::map<std::string, Shape>& needed);

  // Atomically (save_safetensors), with the metadata above.
  void write(const std::string& path) const;

  // The outputs of dataset rows `rows`, in order.
  distill::Inputs rows(const std::vector<int64_t>& rows) const;

  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  const std::map<std::string, Tensor>& tensors() const { return tensors_; }
  const TeacherOutputsKey& key() const { return key_; }

 private:
  TeacherOutputsKey key_;
  std::map<std::string, Tensor> tensors_;
};

}  // namespace tutor::cli
