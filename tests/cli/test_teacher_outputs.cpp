// TeacherOutputs (tools/cli/teacher_outputs.h): a file written and read back serves the stored rows
// with their taps, and every mismatch of the metadata, a missing tap, a wrong dtype or shape, and
// a truncated or foreign file is an Error naming the file and the field.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli/cli_test.h"
#include "engine/core/error.h"
#include "engine/io/safetensors.h"
#include "engine/nn/linear.h"
#include "tools/cli/teacher_outputs.h"

using namespace tutor;
using namespace tutor::testing;
using namespace tutor::cli;
namespace fs = std::filesystem;

namespace {

TeacherOutputsKey key_of() {
  return {"fashion-mnist", "train", 4, "fnv1a64:0123456789abcdef", {{"resnet8", "fnv1a64:aa"}}};
}

// Logits [4, 3] and the tap layer1 [4, 2, 2] with distinct values.
TeacherOutputs outputs_of(const TeacherOutputsKey& key) {
  return TeacherOutputs(key, {{"teacher.logits", arange(0, 12, 1, DType::f32).reshape({4, 3})},
                              {"teacher.layer1", arange(100, 116, 1, DType::f32).reshape({4, 2, 2})}});
}

const std::map<std::string, Shape> kNeeded = {{"teacher.logits", {3}}, {"teacher.layer1", {2, 2}}};

std::string error_of(const std::string& path, const TeacherOutputsKey& key,
                     const std::map<std::string, Shape>& needed = kNeeded) {
  try {
    TeacherOutputs::read(path, key, needed);
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("read without an error: ", path);
  return "";
}

void check_error(const std::string& path, const TeacherOutputsKey& key, const std::string& expected,
                 const std::map<std::string, Shape>& needed = kNeeded) {
  std::string message = error_of(path, key, needed);
  INFO(message);
  CHECK(message.find(path) != std::string::npos);
  CHECK(message.find(expected) != std::string::npos);
}

}  // namespace

TEST_CASE("teacher outputs: written and read back, they serve the requested rows") {
  ScratchDir s;
  std::string path = (s.dir / "t.safetensors").string();
  outputs_of(key_of()).write(path);
  SafetensorsContents c = load_safetensors(path);
  CHECK(c.metadata.at("format") == kTeacherOutputsFormat);
  CHECK(c.metadata.at("rows") == "4");
  CHECK(c.metadata.at("teachers") == "1");
  CHECK(c.metadata.at("teacher.model") == "resnet8");
  CHECK(c.metadata.at("teacher.weights_hash") == "fnv1a64:aa");
  CHECK(c.metadata.at("teacher.taps") == "layer1");

  TeacherOutputs back = TeacherOutputs::read(path, key_of(), kNeeded);
  distill::Inputs in = back.rows({2, 0, 2});
  CHECK(in.at("teacher.logits").sizes() == Shape{3, 3});
  CHECK(in.at("teacher.logits").to_vector<float>() ==
        std::vector<float>{6, 7, 8, 0, 1, 2, 6, 7, 8});
  CHECK(in.at("teacher.layer1").sizes() == Shape{3, 2, 2});
  CHECK(in.at("teacher.layer1").to_vector<float>()[4] == 100);
  // Only what the run reads is loaded.
  TeacherOutputs logits_only = TeacherOutputs::read(path, key_of(), {{"teacher.logits", {3}}});
  CHECK(!logits_only.has("teacher.layer1"));
  CHECK_THROWS_AS(back.rows({4}), Error);
}

TEST_CASE("teacher outputs: every mismatch is an Error naming the file and the field") {
  ScratchDir s;
  std::string path = (s.dir / "t.safetensors").string();
  outputs_of(key_of()).write(path);

  TeacherOutputsKey k = key_of();
  k.rows = 5;
  check_error(path, k, "metadata field 'rows' is '4', but the number of the run's training images is '5'");
  k = key_of();
  k.data_hash = "fnv1a64:0";
  check_error(path, k, "metadata field 'data_hash' is 'fnv1a64:0123456789abcdef'");
  k = key_of();
  k.split = "test";
  check_error(path, k, "metadata field 'split' is 'train'");
  k = key_of();
  k.teachers[0].weights_hash = "fnv1a64:bb";
  check_error(path, k,
              "metadata field 'teacher.weights_hash' is 'fnv1a64:aa', but the hash of the run's "
              "teacher weights (a different teacher) is 'fnv1a64:bb'");
  k = key_of();
  k.teachers[0].model = "resnet20";
  check_error(path, k, "metadata field 'teacher.model' is 'resnet8'");
  k = key_of();
  k.teachers.push_back({"resnet8", "fnv1a64:aa"});
  check_error(path, k, "metadata field 'teachers' is '1', but the recipe's number of teachers is '2'");

  check_error(path, key_of(),
              "no tensor 'teacher.layer2', which the recipe's objectives read (metadata "
              "teacher.taps: 'layer1')",
              {{"teacher.logits", {3}}, {"teacher.layer2", {2, 2}}});
  check_error(path, key_of(), "tensor 'teacher.layer1' has shape [4, 2, 2], expected [4, 4]",
              {{"teacher.logits", {3}}, {"teacher.layer1", {4}}});

  // A file with the right metadata and a wrong tensor: f64 logits, and logits of 2 classes.
  SafetensorsContents c = load_safetensors(path);
  std::string f64 = (s.dir / "f64.safetensors").string();
  save_safetensors(f64, NamedTensors{{"teacher.logits", c.tensors.at("teacher.logits").to(DType::f64)},
                         {"teacher.layer1", c.tensors.at("teacher.layer1")}},
                   c.metadata);
  check_error(f64, key_of(), "tensor 'teacher.logits' has dtype F64, expected F32");
  std::string narrow = (s.dir / "narrow.safetensors").string();
  save_safetensors(narrow, NamedTensors{{"teacher.logits", c.tensors.at("teacher.logits").narrow(1, 0, 2)}},
                   c.metadata);
  check_error(narrow, key_of(), "tensor 'teacher.logits' has shape [4, 2], expected [4, 3]",
              {{"teacher.logits", {3}}});

  // A safetensors file that is not one of these (weights), a truncated file, garbage, no file.
  std::string weights = (s.dir / "w.safetensors").string();
  save_safetensors(weights, NamedTensors{{"fc.weight", zeros({2, 2})}}, {{"model", "resnet8"}});
  check_error(weights, key_of(),
              "not a teacher-outputs file of this run: the metadata has no field 'format'");
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (size_t keep : {size_t(0), size_t(5), size_t(40), bytes.size() / 2, bytes.size() - 1}) {
    std::string cut = (s.dir / "cut.safetensors").string();
    std::ofstream(cut, std::ios::binary).write(bytes.data(), std::streamsize(keep));
    INFO("kept ", keep, " of ", bytes.size(), " bytes");
    CHECK(error_of(cut, key_of()).find(cut) != std::string::npos);
  }
  std::string garbage = (s.dir / "garbage.safetensors").string();
  std::ofstream(garbage, std::ios::binary) << std::string("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10);
  CHECK(error_of(garbage, key_of()).find(garbage) != std::string::npos);
  CHECK(error_of((s.dir / "absent.safetensors").string(), key_of()).find("absent.safetensors") !=
        std::string::npos);
}

TEST_CASE("teacher outputs: the hashes see every weight and every image") {
  nn::Linear a(3, 2), b(3, 2);
  b.load_state_dict(a.state_dict());
  CHECK(hash_state_dict(a) == hash_state_dict(b));
  CHECK(hash_state_dict(a).starts_with("fnv1a64:"));
  b.bias.data<float>()[1] += 1e-7f;
  CHECK(hash_state_dict(a) != hash_state_dict(b));

  data::TensorDataset d(std::vector<uint8_t>{1, 2, 3, 4}, {1, 2, 1}, {0, 1}, 2);
  data::TensorDataset e(std::vector<uint8_t>{1, 2, 3, 5}, {1, 2, 1}, {0, 1}, 2);
  data::TensorDataset f(std::vector<uint8_t>{1, 2, 3, 4}, {1, 2, 1}, {0, 0}, 2);
  CHECK(hash_dataset(d) == hash_dataset(data::TensorDataset(std::vector<uint8_t>{1, 2, 3, 4},
                                                            {1, 2, 1}, {0, 1}, 2)));
  CHECK(hash_dataset(d) != hash_dataset(e));
  CHECK(hash_dataset(d) != hash_dataset(f));
}
