// tutor loss, in-process, against the committed objective fixtures of tests/fixtures/distill
// (written by tools/golden/objectives/*.py from PyTorch transcriptions of the references).
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "cli/cli_test.h"
#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"
#include "tools/cli/command.h"

using namespace tutor;
using namespace tutor::testing;
using namespace tutor::cli;
using tutor::testing::check_close;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// The inputs of an objective fixture ("input.<name>") under their own names, in a file of their
// own: what a user hands to tutor loss.
fs::path inputs_of_fixture(const std::string& fixture, const fs::path& dir) {
  SafetensorsContents f =
      load_safetensors((testing::fixture_path("distill") / (fixture + ".safetensors")).string());
  std::map<std::string, Tensor> inputs;
  for (const auto& [key, t] : f.tensors)
    if (key.starts_with("input.")) inputs[key.substr(6)] = t;
  REQUIRE(!inputs.empty());
  fs::path path = dir / (fixture + "_inputs.safetensors");
  save_safetensors(path.string(), inputs);
  return path;
}

// Every loss and grad.* tensor of the fixture equals tutor loss's output within the objective
// bound of DESIGN.md (1e-6 abs + 1e-5 rel).
void check_against_fixture(const std::string& fixture, const fs::path& out) {
  SafetensorsContents expected =
      load_safetensors((testing::fixture_path("distill") / (fixture + ".safetensors")).string());
  SafetensorsContents got = load_safetensors(out.string());
  check_close(got.tensors.at("loss"), expected.tensors.at("loss").reshape({}), 1e-6, 1e-5);
  int grads = 0;
  for (const auto& [key, t] : expected.tensors) {
    if (!key.starts_with("grad.")) continue;
    CAPTURE(key);
    REQUIRE(got.tensors.count(key));
    check_close(got.tensors.at(key), t, 1e-6, 1e-5);
    ++grads;
  }
  CHECK(grads > 0);
}

}  // namespace

TEST_CASE("cli: loss kd --set T=4 reproduces the PyTorch fixture's loss and gradients") {
  ScratchDir scratch;
  fs::path in = inputs_of_fixture("kd_T4", scratch.dir), out = scratch.dir / "out.safetensors";
  Run r = run({"loss", "kd", "--inputs", in.string(), "--set", "T=4", "--out", out.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.starts_with("kd: loss "));
  check_against_fixture("kd_T4", out);
  SafetensorsContents got = load_safetensors(out.string());
  // The teacher is a constant: its gradient is written, and it is zero.
  REQUIRE(got.tensors.count("grad.teacher.logits"));
  check_close(got.tensors.at("grad.teacher.logits"),
              zeros_like(got.tensors.at("grad.teacher.logits")), 0, 0);
  CHECK(got.tensors.size() == 3);
  CHECK(got.metadata.at("objective") == "kd");
  CHECK(got.metadata.at("param.T") == "4");

  // At the default T (4) the loss is the same; at T=1 it is not.
  fs::path t1 = scratch.dir / "t1.safetensors";
  REQUIRE(run({"loss", "kd", "--inputs", in.string(), "--out", t1.string()}).code == 0);
  check_close(load_safetensors(t1.string()).tensors.at("loss"), got.tensors.at("loss"), 0, 0);
  REQUIRE(run({"loss", "kd", "--inputs", in.string(), "--set", "T=1", "--out", t1.string()}).code ==
          0);
  CHECK(load_safetensors(t1.string()).tensors.at("loss").item<double>() !=
        got.tensors.at("loss").item<double>());
}

TEST_CASE("cli: loss ce with integer labels and label smoothing reproduces the fixture") {
  ScratchDir scratch;
  fs::path in = inputs_of_fixture("ce_smoothing", scratch.dir), out = scratch.dir / "o.safetensors";
  Run r = run({"loss", "ce", "--inputs", in.string(), "--set", "label_smoothing=0.1", "--out",
               out.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  check_against_fixture("ce_smoothing", out);
  // Labels are integers: no gradient is written for them.
  CHECK(load_safetensors(out.string()).tensors.count("grad.labels") == 0);
}

// dml reads every peer in the file (peers=0 counts peer.logits, peer1.logits); the peers are
// constants, so their gradients are zero.
TEST_CASE("cli: loss dml reads the peers in the file and reproduces the authors' guarded KL") {
  ScratchDir scratch;
  fs::path in = inputs_of_fixture("dml_tf_peers2", scratch.dir),
           out = scratch.dir / "o.safetensors";
  Run r = run({"loss", "dml", "--inputs", in.string(), "--set", "average_peers=false", "--set",
               "eps=1e-8", "--out", out.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  check_against_fixture("dml_tf_peers2", out);
  SafetensorsContents got = load_safetensors(out.string());
  for (const char* peer : {"grad.peer.logits", "grad.peer1.logits"}) {
    REQUIRE(got.tensors.count(peer));
    check_close(got.tensors.at(peer), zeros_like(got.tensors.at(peer)), 0, 0);
  }
}

TEST_CASE("cli: loss --list prints every objective with its inputs and defaults") {
  Run r = run({"loss", "--list"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.starts_with("ce\n"));
  CHECK(contains(r.out, "\nkd\n"));
  CHECK(contains(r.out, "T=4 "));
  CHECK(contains(r.out, "standardize=false "));
  CHECK(contains(r.out, "label_smoothing=0 "));
  CHECK(contains(r.out, "teacher.logits"));
  CHECK(contains(r.out, "labels"));
  CHECK(contains(r.out, "mdistiller"));

  Run one = run({"loss", "kd", "--list"});
  REQUIRE(one.code == 0);
  CHECK(one.out.starts_with("kd\n"));
  CHECK(!contains(one.out, "label_smoothing"));
  CHECK(contains(run({"loss", "--help"}).out, "usage: tutor loss [options] [NAME]"));
}

TEST_CASE("cli: loss errors name the objective, the key or the file") {
  ScratchDir scratch;
  fs::path in = inputs_of_fixture("kd_T4", scratch.dir), out = scratch.dir / "o.safetensors";

  Run unknown = run({"loss", "nope", "--inputs", in.string(), "--out", out.string()});
  CHECK(unknown.code == 1);
  CHECK(contains(unknown.err, "tutor loss: unknown objective 'nope' (known: ce, "));
  CHECK(contains(unknown.err, ", kd"));

  Run key = run({"loss", "kd", "--inputs", in.string(), "--set", "tau=2", "--out", out.string()});
  CHECK(key.code == 1);
  CHECK(
      contains(key.err, "objective kd: unknown parameter 'tau' (known: T, scale_t2, standardize)"));

  Run value = run({"loss", "kd", "--inputs", in.string(), "--set", "T=-1", "--out", out.string()});
  CHECK(value.code == 1);
  CHECK(contains(value.err, "T must be positive"));

  // ce's inputs lack the teacher's logits that kd reads.
  fs::path ce_in = inputs_of_fixture("ce", scratch.dir);
  Run missing = run({"loss", "kd", "--inputs", ce_in.string(), "--out", out.string()});
  CHECK(missing.code == 1);
  CHECK(contains(missing.err, ce_in.string() + ": no tensor 'teacher.logits', which objective kd "
                                               "reads (the file has: labels, student.logits)"));

  // kd owns no parameters, so a param.* tensor is an error naming the file.
  SafetensorsContents f = load_safetensors(in.string());
  f.tensors["param.head.weight"] = zeros({2, 2}, DType::f64);
  fs::path with_param = scratch.dir / "param.safetensors";
  save_safetensors(with_param.string(), f.tensors);
  Run param = run({"loss", "kd", "--inputs", with_param.string(), "--out", out.string()});
  CHECK(param.code == 1);
  CHECK(contains(param.err, with_param.string() + ": the param.* tensors do not fit objective kd"));
  CHECK(contains(param.err, "head.weight"));

  Run no_file =
      run({"loss", "kd", "--inputs", (scratch.dir / "absent").string(), "--out", out.string()});
  CHECK(no_file.code == 1);
  CHECK(contains(no_file.err, (scratch.dir / "absent").string()));

  CHECK(run({"loss", "kd", "--out", out.string()}).code == 2);
  CHECK(run({"loss", "kd", "--inputs", in.string()}).code == 2);
  Run no_name = run({"loss", "--inputs", in.string(), "--out", out.string()});
  CHECK(no_name.code == 2);
  CHECK(contains(no_name.err, "missing argument NAME"));
  CHECK(run({"loss", "kd", "--inputs", in.string(), "--out", out.string(), "--epoch", "2",
             "--epochs", "2"})
            .code == 2);
  CHECK(!fs::exists(out));
}
