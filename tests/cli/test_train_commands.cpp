// tutor train / eval / forward / export, in-process on a tiny synthetic Fashion-MNIST-shaped
// dataset written by the test: two classes, dark images (label 0) and bright images (label 1).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli_test.h"
#include "cli/synthetic_data.h"
#include "engine/autograd/grad_mode.h"
#include "engine/core/rng.h"
#include "engine/io/safetensors.h"
#include "engine/ops/ops.h"
#include "models/registry.h"
#include "support/op_test.h"
#include "tools/cli/command.h"
#include "tools/cli/model_io.h"

using namespace tutor;
using namespace tutor::testing;
using namespace tutor::cli;
using tutor::testing::check_close;
using tutor::testing::SyntheticData;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The number after "key": in a one-line JSON object written by JsonObject.
double json_field(const std::string& line, const std::string& key) {
  std::string needle = "\"" + key + "\":";
  size_t at = line.find(needle);
  REQUIRE_MESSAGE(at != std::string::npos, key, " missing in ", line);
  return std::strtod(line.c_str() + at + needle.size(), nullptr);
}

std::shared_ptr<models::Model> fresh_resnet8() {
  return models::create_model("resnet8", {.num_classes = 10, .in_channels = 1});
}

}  // namespace

TEST_CASE("cli: train, eval and forward reject bad arguments with exit code 2") {
  Run no_model = run({"train", "--out", "/tmp/unused"});
  CHECK(no_model.code == 2);
  CHECK(no_model.err.find("--model is required") != std::string::npos);
  CHECK(run({"train", "--model", "resnet8", "--epochs", "x", "--out", "o"}).code == 2);
  Run schedule = run({"train", "--model", "resnet8", "--schedule", "linear", "--out", "o"});
  CHECK(schedule.code == 2);
  CHECK(schedule.err.find("--schedule must be cosine, step or constant, got 'linear'") !=
        std::string::npos);
  CHECK(run({"train", "--model", "resnet8", "--epochs", "0", "--out", "o"}).code == 2);
  CHECK(run({"train", "--model", "resnet8", "--data", "cifar10", "--out", "o"}).code == 2);
  CHECK(run({"train", "--model", "resnet8"}).err.find("--out DIR is required") !=
        std::string::npos);
  CHECK(run({"eval", "--model", "resnet8"}).err.find("--weights FILE is required") !=
        std::string::npos);
  CHECK(run({"forward", "--model", "resnet8", "--weights", "w"}).code == 2);
  CHECK(run({"export", "--out", "x.safetensors"}).code == 2);

  Run missing_data = run({"train", "--model", "resnet8", "--data-dir", "/nonexistent-dir",
                          "--out", "/tmp/unused"});
  CHECK(missing_data.code == 1);
  CHECK(missing_data.err.find("/nonexistent-dir/train-images-idx3-ubyte.gz") != std::string::npos);
}

TEST_CASE("cli: train writes metrics and weights, loss falls, eval counts correct predictions") {
  SyntheticData data;
  fs::path out = data.dir / "run";
  Run train = run({"train", "--model", "resnet8", "--in-channels", "1", "--data-dir",
                   data.dir.string(), "--epochs", "2", "--batch-size", "16", "--lr", "0.05",
                   "--seed", "3", "--out", out.string()});
  INFO(train.err);
  REQUIRE(train.code == 0);
  CHECK(train.out.find("resnet8: 2 epochs in ") == 0);

  std::vector<std::string> lines = lines_of(out / "metrics.jsonl");
  REQUIRE(lines.size() == 2);
  for (size_t e = 0; e < lines.size(); ++e) {
    CHECK(json_field(lines[e], "epoch") == double(e + 1));
    for (const char* key : {"train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds",
                            "images_per_second"})
      CHECK(std::isfinite(json_field(lines[e], key)));
  }
  // Cosine over 2 epochs: lr 0.05, then 0.05 (1 + cos(pi / 2)) / 2 = 0.025.
  CHECK(json_field(lines[0], "lr") == doctest::Approx(0.05));
  CHECK(json_field(lines[1], "lr") == doctest::Approx(0.025));
  CHECK(json_field(lines[1], "train_loss") < json_field(lines[0], "train_loss"));

  // Both weight files load strictly into a fresh model.
  for (const char* file : {"last.safetensors", "best.safetensors"}) {
    auto model = fresh_resnet8();
    CHECK_NOTHROW(load_weights(*model, (out / file).string()));
  }

  // eval's count equals the argmax count of the model's own forward on the normalized images.
  fs::path json = data.dir / "eval.json";
  Run eval = run({"eval", "--model", "resnet8", "--in-channels", "1", "--data-dir",
                  data.dir.string(), "--weights", (out / "last.safetensors").string(),
                  "--batch-size", "10", "--json", json.string()});
  INFO(eval.err);
  REQUIRE(eval.code == 0);
  auto model = fresh_resnet8();
  load_weights(*model, (out / "last.safetensors").string());
  model->eval();
  NoGradGuard no_grad;
  std::vector<int64_t> predicted =
      model->forward(data.normalized_test_images(), nullptr).argmax(1).to_vector<int64_t>();
  int64_t correct = 0;
  for (size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == data.test_labels[i];
  CHECK(eval.out.find(fmt::format("({} / 32)", correct)) != std::string::npos);
  std::string eval_json = lines_of(json).at(0);
  CHECK(json_field(eval_json, "count") == 32);
  CHECK(json_field(eval_json, "accuracy") == doctest::Approx(double(correct) / 32));
  // Row 0 of the confusion matrix: label-0 images by predicted class.
  int64_t label0_as_0 = 0;
  for (size_t i = 0; i < predicted.size(); i += 2) label0_as_0 += predicted[i] == 0;
  CHECK(eval_json.find(fmt::format("\"confusion\":[[{},", label0_as_0)) != std::string::npos);
}

TEST_CASE("cli: forward writes the model's logits and the requested taps") {
  SyntheticData data;
  manual_seed(11);
  auto model = fresh_resnet8();
  fs::path weights = data.dir / "w.safetensors", input = data.dir / "x.safetensors",
           output = data.dir / "y.safetensors";
  save_weights(*model, weights.string());
  Tensor x = randn({3, 1, 28, 28});
  save_safetensors(input.string(), std::map<std::string, Tensor>{{"input", x}});

  Run forward = run({"forward", "--model", "resnet8", "--num-classes", "10", "--in-channels", "1",
                     "--weights", weights.string(), "--input", input.string(), "--taps",
                     "layer2,pooled", "--out", output.string()});
  INFO(forward.err);
  REQUIRE(forward.code == 0);

  model->eval();
  NoGradGuard no_grad;
  models::Taps taps{"layer2", "pooled"};
  Tensor logits = model->forward(x, &taps);
  SafetensorsContents y = load_safetensors(output.string());
  CHECK(y.tensors.size() == 3);
  // By default the BatchNorms are folded into the convs: the same function computed another way,
  // held to DESIGN.md's f32 bound for a changed computation (normalized MSE <= 1e-7).
  auto nmse = [](const Tensor& a, const Tensor& b) {
    const Tensor d = sub(a, b);
    return sum(mul(d, d)).item<double>() / sum(mul(b, b)).item<double>();
  };
  CHECK(nmse(y.tensors.at("logits"), logits) <= 1e-7);
  CHECK(nmse(y.tensors.at("layer2"), taps.at("layer2")) <= 1e-7);
  CHECK(nmse(y.tensors.at("pooled"), taps.at("pooled")) <= 1e-7);
  // --no-fuse keeps the BatchNorms apart: the in-process model's figures.
  const fs::path unfused_output = data.dir / "y_unfused.safetensors";
  Run unfused = run({"forward", "--model", "resnet8", "--num-classes", "10", "--in-channels", "1",
                     "--weights", weights.string(), "--input", input.string(), "--out",
                     unfused_output.string(), "--no-fuse"});
  REQUIRE(unfused.code == 0);
  check_close(load_safetensors(unfused_output.string()).tensors.at("logits"), logits, 1e-5, 1e-5);

  Run bad_tap = run({"forward", "--model", "resnet8", "--num-classes", "10", "--in-channels", "1",
                     "--weights", weights.string(), "--input", input.string(), "--taps", "layer9",
                     "--out", output.string()});
  CHECK(bad_tap.code == 1);
  CHECK(bad_tap.err.find("layer9") != std::string::npos);
  // Weights of a 10-class, 1-channel model do not fit the 3-channel default.
  Run bad_weights = run({"forward", "--model", "resnet8", "--num-classes", "10", "--weights",
                         weights.string(), "--input", input.string(), "--out", output.string()});
  CHECK(bad_weights.code == 1);
  CHECK(bad_weights.err.find(weights.string() + ": the weights do not fit model resnet8") !=
        std::string::npos);

  // export copies the tensors and adds the metadata.
  fs::path exported = data.dir / "e.safetensors";
  REQUIRE(run({"export", "--weights", output.string(), "--out", exported.string(), "--meta",
               "note=test"})
              .code == 0);
  SafetensorsContents e = load_safetensors(exported.string());
  CHECK(e.metadata.at("note") == "test");
  CHECK(e.metadata.at("model") == "resnet8");
  check_close(e.tensors.at("logits"), y.tensors.at("logits"), 0, 0);
}

TEST_CASE("cli: train resumed from its checkpoint reproduces the unbroken run exactly") {
  SyntheticData data;
  auto train = [&](const fs::path& out, std::vector<std::string> extra) {
    std::vector<std::string> args = {"train", "--model", "resnet8", "--in-channels", "1",
                                     "--data-dir", data.dir.string(), "--epochs", "3",
                                     "--batch-size", "16", "--seed", "5", "--out", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    Run r = run(args);
    INFO(r.err);
    REQUIRE(r.code == 0);
    return r;
  };
  fs::path whole = data.dir / "whole", split = data.dir / "split";
  train(whole, {});
  train(split, {"--stop-after-epoch", "1"});
  REQUIRE(lines_of(split / "metrics.jsonl").size() == 1);
  train(split, {"--resume", (split / "checkpoint.safetensors").string()});

  std::vector<std::string> a = lines_of(whole / "metrics.jsonl"), b = lines_of(split / "metrics.jsonl");
  REQUIRE(a.size() == 3);
  REQUIRE(b.size() == 3);
  for (size_t e = 0; e < 3; ++e)
    for (const char* key : {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr"})
      CHECK_MESSAGE(json_field(a[e], key) == json_field(b[e], key), key, " of epoch ", e + 1);
  // The final weights are bit-identical too.
  SafetensorsContents wa = load_safetensors((whole / "last.safetensors").string());
  SafetensorsContents wb = load_safetensors((split / "last.safetensors").string());
  for (const auto& [name, t] : wa.tensors)
    CHECK_MESSAGE(t.to_vector<double>() == wb.tensors.at(name).to_vector<double>(), name);

  Run wrong = run({"train", "--model", "resnet14", "--in-channels", "1", "--data-dir",
                   data.dir.string(), "--epochs", "3", "--out", (data.dir / "x").string(),
                   "--resume", (split / "checkpoint.safetensors").string()});
  CHECK(wrong.code == 1);
  CHECK(wrong.err.find("resnet8") != std::string::npos);
}

TEST_CASE("cli: export --checkpoint writes the trained model's state dict under PyTorch's names") {
  SyntheticData data;
  fs::path out = data.dir / "run";
  Run train = run({"train", "--model", "resnet8", "--in-channels", "1", "--data-dir",
                   data.dir.string(), "--epochs", "1", "--batch-size", "32", "--seed", "7",
                   "--out", out.string()});
  INFO(train.err);
  REQUIRE(train.code == 0);

  fs::path exported = data.dir / "model.safetensors";
  Run e = run({"export", "--checkpoint", (out / "checkpoint.safetensors").string(), "--out",
               exported.string(), "--meta", "note=test"});
  INFO(e.err);
  REQUIRE(e.code == 0);
  SafetensorsContents file = load_safetensors(exported.string());
  CHECK(file.metadata.at("model") == "resnet8");
  CHECK(file.metadata.at("epoch") == "1");
  CHECK(file.metadata.at("note") == "test");
  // Only the model: no optimizer or schedule state, no prefixes.
  for (const auto& [name, t] : file.tensors) {
    CAPTURE(name);
    CHECK(!name.starts_with("model."));
    CHECK(!name.starts_with("optimizer."));
  }

  // Loaded strictly into a fresh model, the state equals the run's last weights exactly.
  auto model = fresh_resnet8();
  load_weights(*model, exported.string());
  SafetensorsContents last = load_safetensors((out / "last.safetensors").string());
  const auto state = model->state_dict();
  CHECK(state.size() == last.tensors.size());
  for (const auto& [name, t] : state) {
    CAPTURE(name);
    REQUIRE(last.tensors.count(name));
    CHECK(t.to_vector<double>() == last.tensors.at(name).to_vector<double>());
  }

  // Exactly one source; a weights file is not a checkpoint.
  CHECK(run({"export", "--checkpoint", (out / "checkpoint.safetensors").string(), "--weights",
             (out / "last.safetensors").string(), "--out", exported.string()})
            .code == 2);
  Run not_checkpoint = run({"export", "--checkpoint", (out / "last.safetensors").string(),
                            "--out", (data.dir / "x.safetensors").string()});
  CHECK(not_checkpoint.code == 1);
  CHECK(not_checkpoint.err.find((out / "last.safetensors").string()) != std::string::npos);
  CHECK(!fs::exists(data.dir / "x.safetensors"));
}
