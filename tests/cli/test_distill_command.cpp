// tutor distill end to end on a tiny synthetic dataset (cli/synthetic_data.h): the files it
// writes, the table's rows, the teacher-logit cache giving the same run as no cache, few-label
// training, a NaN loss stopping the run with the step and the objective named, and offline KD
// (teacher outputs in a file) giving the live run, with every mismatch an error.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/cli_test.h"
#include "cli/synthetic_data.h"
#include "engine/autograd/grad_mode.h"
#include "engine/io/safetensors.h"
#include "models/registry.h"
#include "tools/cli/command.h"
#include "tools/cli/model_io.h"
#include "tools/cli/teacher_outputs.h"

using namespace tutor;
using namespace tutor::testing;
using namespace tutor::cli;
using tutor::testing::SyntheticData;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A recipe over `data` with a resnet8 teacher trained for one epoch and a resnet8 student.
fs::path write_recipe(const SyntheticData& data, const std::string& name, const std::string& extra,
                      const std::string& optimizer = "{lr: 0.05}") {
  fs::path path = data.dir / (name + ".yaml");
  std::ofstream(path) << "name: " << name << "\nepochs: 2\nbatch_size: 32\nseed: 3\n"
                      << "data: {dir: " << data.dir.string() << ", crop_padding: 0" << extra
                      << "}\n"
                      << "teacher: {model: resnet8, train: {epochs: 1, optimizer: {lr: 0.05}}}\n"
                      << "student: {model: resnet8}\n"
                      << "optimizer: " << optimizer << "\n"
                      << "experiments:\n"
                      << "  - name: kd\n    objectives:\n      - {name: ce, weight: 0.1}\n"
                      << "      - {name: kd, weight: 0.9, params: {T: 4}}\n"
                      << "  - name: ls-kd\n    objectives:\n      - {name: ce, weight: 0.1}\n"
                      << "      - {name: kd, weight: 2, params: {T: 2, standardize: true}}\n";
  return path;
}

// Two runs of experiment kd in `a` and `b` logged the same `lines` metrics (but for the timings)
// and wrote bit-identical student weights.
void check_same_run(const fs::path& a, const fs::path& b, size_t lines) {
  std::vector<std::string> x = lines_of(a / "metrics.jsonl"), y = lines_of(b / "metrics.jsonl");
  REQUIRE(x.size() == lines);
  REQUIRE(y.size() == lines);
  auto strip = [](std::string s) {
    return s.substr(0, s.find(",\"seconds\"")) + s.substr(s.find(",\"parts\""));
  };
  for (size_t i = 0; i < x.size(); ++i) CHECK(strip(x[i]) == strip(y[i]));
  SafetensorsContents wa = load_safetensors((a / "student-kd.safetensors").string());
  SafetensorsContents wb = load_safetensors((b / "student-kd.safetensors").string());
  REQUIRE(wa.tensors.size() == wb.tensors.size());
  for (const auto& [name, t] : wa.tensors)
    CHECK_MESSAGE(t.to_vector<double>() == wb.tensors.at(name).to_vector<double>(), name);
}

}  // namespace

TEST_CASE("cli: distill writes metrics, weights, the report and a table with every run") {
  SyntheticData data(128, 32);
  fs::path recipe = write_recipe(data, "tiny", "");
  fs::path out = data.dir / "out";
  Run r = run({"distill", "--recipe", recipe.string(), "--out", out.string(), "--epochs", "1"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("teacher logits cached") != std::string::npos);

  // The table: a header, then teacher, baseline, kd, ls-kd with their differences.
  std::istringstream table(r.out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(table, line);) rows.push_back(line);
  REQUIRE(rows.size() == 6);
  CHECK(rows[0].find("run") == 0);
  CHECK(rows[0].find("vs baseline") != std::string::npos);
  CHECK(rows[1].find("teacher ") == 0);
  CHECK(rows[2].find("baseline ") == 0);
  CHECK(rows[2].find("+0.00") != std::string::npos);
  CHECK(rows[3].find("kd ") == 0);
  CHECK(rows[3].find("0.1 ce + 0.9 kd(T=4)") != std::string::npos);
  CHECK(rows[4].find("ls-kd ") == 0);
  CHECK(rows[5].find(out.string()) != std::string::npos);

  // metrics.jsonl: the teacher's epoch, then one line per student run with every loss part.
  std::vector<std::string> lines = lines_of(out / "metrics.jsonl");
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].find("\"run\":\"teacher\"") != std::string::npos);
  CHECK(lines[1].find("\"run\":\"baseline\"") != std::string::npos);
  CHECK(lines[1].find("\"parts\":{\"ce\":") != std::string::npos);
  CHECK(lines[2].find("\"run\":\"kd\"") != std::string::npos);
  for (const char* key :
       {"\"epoch\":1", "\"train_loss\":", "\"test_acc\":", "\"parts\":{\"ce\":", "\"kd\":"})
    CHECK_MESSAGE(lines[2].find(key) != std::string::npos, key, " in ", lines[2]);

  // Every trained model's weights load strictly into a fresh resnet8.
  for (const char* file : {"teacher.safetensors", "student-baseline.safetensors",
                           "student-kd.safetensors", "student-ls-kd.safetensors"}) {
    auto model = models::create_model("resnet8", {.num_classes = 10, .in_channels = 1});
    CHECK_NOTHROW(load_weights(*model, (out / file).string()));
  }

  // The report stands alone: the table and two inline SVG charts, no scripts.
  std::string html = read(out / "report.html");
  CHECK(html.find("<!DOCTYPE html>") == 0);
  CHECK(html.find("<td>ls-kd</td>") != std::string::npos);
  size_t svgs = 0;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1))
    ++svgs;
  CHECK(svgs == 2);
  CHECK(html.find("<polyline") != std::string::npos);
  CHECK(html.find("<script") == std::string::npos);

  // Two teachers: the one just trained, loaded from its weights (relative to the recipe), and a
  // second trained afresh; multi-teacher KD reads both.
  fs::copy_file(out / "teacher.safetensors", data.dir / "t0.safetensors");
  fs::path two = data.dir / "two.yaml";
  std::ofstream(two) << "name: two\nepochs: 1\nbatch_size: 32\nseed: 3\nbaseline: false\n"
                     << "data: {dir: " << data.dir.string() << ", crop_padding: 0}\n"
                     << "teachers:\n  - {model: resnet8, weights: t0.safetensors}\n"
                     << "  - {model: resnet8, train: {epochs: 1}}\n"
                     << "student: {model: resnet8}\nexperiments:\n"
                     << "  - {name: mt, objectives: [{name: multi_teacher, params: {T: 4}}]}\n";
  Run mt = run({"distill", "--recipe", two.string(), "--out", (data.dir / "two").string()});
  INFO(mt.err);
  REQUIRE(mt.code == 0);
  CHECK(mt.err.find("teacher logits cached") != std::string::npos);
  std::istringstream mt_table(mt.out);
  std::vector<std::string> mt_rows;
  for (std::string line; std::getline(mt_table, line);) mt_rows.push_back(line);
  REQUIRE(mt_rows.size() == 5);
  CHECK(mt_rows[1].find("teacher ") == 0);
  CHECK(mt_rows[1].find("loaded from " + (data.dir / "t0.safetensors").string()) !=
        std::string::npos);
  // The loaded teacher scores what it scored when it was trained.
  std::string acc = rows[1].substr(rows[1].rfind('%') - 6, 7);
  CHECK(mt_rows[1].find(acc) != std::string::npos);
  CHECK(mt_rows[2].find("teacher1 ") == 0);
  CHECK(mt_rows[3].find("mt ") == 0);
  CHECK(mt_rows[3].find("  -") != std::string::npos);  // no baseline to compare with
  CHECK(fs::exists(data.dir / "two" / "teacher1.safetensors"));
  CHECK(!fs::exists(data.dir / "two" / "teacher.safetensors"));

  // --only runs the teacher and that experiment; an unknown one is a usage error.
  fs::path only = data.dir / "only";
  Run one = run({"distill", "--recipe", recipe.string(), "--out", only.string(), "--epochs", "1",
                 "--only", "ls-kd"});
  REQUIRE(one.code == 0);
  CHECK(lines_of(only / "metrics.jsonl").size() == 2);
  CHECK(one.out.find("ls-kd ") != std::string::npos);
  CHECK(one.out.find("\nbaseline ") == std::string::npos);
  Run bad = run({"distill", "--recipe", recipe.string(), "--out", only.string(), "--only", "x"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("--only x: no such experiment (recipe: baseline, kd, ls-kd)") !=
        std::string::npos);
}

// The cache stores the teacher logits of the first epoch and serves them later. In eval mode a
// sample's logits depend on its batch only through the batch size (the kernels' blocking), so
// with every image in a batch of the same size each epoch the runs agree bit for bit: 96 = 3 x 32
// images. With few labels (72 unlabeled + 24 labeled rows: steps of 8 + 32, 8 + 32, 8 + 8) an
// image can move between step sizes, and these runs still agree bit for bit here.
TEST_CASE("cli: distill with the teacher-logit cache gives the run without it") {
  SyntheticData data(96, 32);
  for (const char* extra : {"", ", labeled: 24, labeled_batch_size: 8"}) {
    INFO("data extra: '", extra, "'");
    fs::path recipe = write_recipe(data, "cache", extra);
    fs::path with = data.dir / "with", without = data.dir / "without";
    Run a = run({"distill", "--recipe", recipe.string(), "--out", with.string(), "--epochs", "2",
                 "--only", "kd"});
    Run b = run({"distill", "--recipe", recipe.string(), "--out", without.string(), "--epochs", "2",
                 "--only", "kd", "--no-cache"});
    INFO(a.err, b.err);
    REQUIRE(a.code == 0);
    REQUIRE(b.code == 0);
    CHECK(a.err.find("teacher logits cached") != std::string::npos);
    CHECK(b.err.find("teacher logits cached") == std::string::npos);
    check_same_run(with, without, 3);
    fs::remove_all(with);
    fs::remove_all(without);
  }
}

TEST_CASE("cli: distill folds a frozen teacher's BatchNorms, and the run matches --no-fuse") {
  SyntheticData data(96, 32);
  fs::path recipe = write_recipe(data, "fuse", ", flip: true");  // augmented: no logit cache
  fs::path fused = data.dir / "fused", apart = data.dir / "apart";
  Run a = run({"distill", "--recipe", recipe.string(), "--out", fused.string(), "--only", "kd"});
  Run b = run({"distill", "--recipe", recipe.string(), "--out", apart.string(), "--only", "kd",
               "--no-fuse"});
  INFO(a.err, b.err);
  REQUIRE(a.code == 0);
  REQUIRE(b.code == 0);
  CHECK(a.err.find("teacher: 9 BatchNorms folded into its convs") != std::string::npos);
  CHECK(b.err.find("folded") == std::string::npos);
  // The folded conv is the same function up to f32 rounding.
  std::vector<std::string> x = lines_of(fused / "metrics.jsonl"),
                           y = lines_of(apart / "metrics.jsonl");
  REQUIRE(x.size() == 3);  // the teacher's epoch and kd's two
  REQUIRE(y.size() == 3);
  for (size_t i = 0; i < x.size(); ++i)
    for (const char* key : {"train_loss", "test_loss"}) {
      auto value = [key](const std::string& line) {
        size_t at = line.find(std::string("\"") + key + "\":");
        REQUIRE(at != std::string::npos);
        return std::stod(line.substr(at + std::strlen(key) + 3));
      };
      CHECK(value(x[i]) == doctest::Approx(value(y[i])).epsilon(1e-4));
    }
}

TEST_CASE("cli: distill with few labels trains the baseline on the labeled images only") {
  SyntheticData data(200, 32);
  fs::path recipe = write_recipe(data, "few", ", labeled: 40, labeled_batch_size: 8");
  fs::path out = data.dir / "out";
  Run r = run({"distill", "--recipe", recipe.string(), "--out", out.string(), "--epochs", "1"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("teacher ") != std::string::npos);
  std::vector<std::string> lines = lines_of(out / "metrics.jsonl");
  REQUIRE(lines.size() == 4);
  // 160 unlabeled images in batches of 32: 5 steps, each with 8 labeled images. The baseline
  // sees the 40 labeled rows, kd the 40 and the 160.
  CHECK(lines[1].find("\"run\":\"baseline\"") != std::string::npos);
  CHECK(lines[1].find("\"images\":40,\"labeled_images\":40,") != std::string::npos);
  CHECK(lines[2].find("\"run\":\"kd\"") != std::string::npos);
  CHECK(lines[2].find("\"images\":200,\"labeled_images\":40,") != std::string::npos);
}

TEST_CASE("cli: distill stops at a NaN loss, naming the step and the objective") {
  SyntheticData data(96, 32);
  fs::path recipe = write_recipe(data, "nan", "", "{lr: 1e30}");
  Run r = run({"distill", "--recipe", recipe.string(), "--out", (data.dir / "out").string(),
               "--epochs", "2", "--only", "kd"});
  CHECK(r.code == 1);
  INFO(r.err);
  CHECK(r.err.find("tutor distill: step ") != std::string::npos);
  CHECK(r.err.find(": objective ") != std::string::npos);
  CHECK(r.err.find(" produced a loss of ") != std::string::npos);
}

TEST_CASE("cli: distill reports recipe errors with the file and the key") {
  SyntheticData data(8, 8);
  fs::path recipe = data.dir / "bad.yaml";
  std::ofstream(recipe) << "name: bad\nstudent: {model: resnet8}\nepochs: -2\n";
  Run r = run({"distill", "--recipe", recipe.string()});
  CHECK(r.code == 1);
  CHECK(r.err.find("tutor distill: " + recipe.string() +
                   ": epochs: expected a positive integer, got '-2'") != std::string::npos);
  CHECK(run({"distill"}).code == 2);
}

// Offline KD: the first run computes the teacher outputs and writes the file, the second reads
// it; both train the student exactly as the live teacher does (every batch full: 96 = 3 x 32
// images, the size the file is computed with). With few labels the stored rows are looked up
// through the labeled/unlabeled split.
TEST_CASE("cli: distill with teacher outputs written to a file and read back gives the live run") {
  SyntheticData data(96, 32);
  for (const char* extra : {"", ", labeled: 24, labeled_batch_size: 8"}) {
    INFO("data extra: '", extra, "'");
    fs::path recipe = write_recipe(data, "offline", extra);
    fs::path file = data.dir / "teacher-outputs.safetensors";
    fs::path live = data.dir / "live", wrote = data.dir / "wrote", read_back = data.dir / "read";
    std::vector<std::string> args = {"distill", "--recipe", recipe.string(), "--epochs", "2",
                                     "--only",  "kd"};
    auto with = [&](std::vector<std::string> more) {
      std::vector<std::string> all = args;
      all.insert(all.end(), more.begin(), more.end());
      return run(all);
    };
    Run a = with({"--out", live.string(), "--no-cache"});
    Run b = with({"--out", wrote.string(), "--teacher-outputs", file.string()});
    REQUIRE(fs::exists(file));
    Run c = with({"--out", read_back.string(), "--teacher-outputs", file.string()});
    INFO(a.err, b.err, c.err);
    REQUIRE(a.code == 0);
    REQUIRE(b.code == 0);
    REQUIRE(c.code == 0);
    CHECK(b.err.find("teacher outputs of 96 images written to " + file.string()) !=
          std::string::npos);
    CHECK(c.err.find("teacher outputs read from " + file.string()) != std::string::npos);
    CHECK(c.err.find(", teacher outputs from " + file.string()) != std::string::npos);

    SafetensorsContents f = load_safetensors(file.string());
    CHECK(f.metadata.at("format") == kTeacherOutputsFormat);
    CHECK(f.metadata.at("dataset") == "fashion-mnist");
    CHECK(f.metadata.at("split") == "train");
    CHECK(f.metadata.at("rows") == "96");
    CHECK(f.metadata.at("teacher.model") == "resnet8");
    CHECK(f.metadata.at("teacher.taps") == "");
    auto teacher = models::create_model("resnet8", {.num_classes = 10, .in_channels = 1});
    load_weights(*teacher, (live / "teacher.safetensors").string());
    CHECK(f.metadata.at("teacher.weights_hash") == hash_state_dict(*teacher));
    REQUIRE(f.tensors.size() == 1);
    CHECK(f.tensors.at("teacher.logits").sizes() == Shape{96, 10});

    check_same_run(live, wrote, 3);
    check_same_run(live, read_back, 3);
    for (const fs::path& p : {live, wrote, read_back, file}) fs::remove_all(p);
  }
}

// Each way a stored file can disagree with the run stops it before any student trains, naming the
// file and the field; so do a truncated file and the modes that cannot work.
TEST_CASE("cli: distill with teacher outputs of another run is an error naming the file") {
  SyntheticData data(96, 32);
  fs::path file = data.dir / "t.safetensors";
  fs::path recipe = write_recipe(data, "mismatch", "");
  Run w = run({"distill", "--recipe", recipe.string(), "--out", (data.dir / "w").string(),
               "--epochs", "1", "--only", "kd", "--teacher-outputs", file.string()});
  INFO(w.err);
  REQUIRE(w.code == 0);

  // The recipe's own key, mode read.
  auto read_with = [&](const std::string& name, const std::string& extra,
                       const std::string& teacher_outputs, std::vector<std::string> more = {}) {
    fs::path r = write_recipe(data, name, extra);
    std::ofstream(r, std::ios::app) << "teacher_outputs: " << teacher_outputs << "\n";
    std::vector<std::string> args = {
        "distill",  "--recipe", r.string(), "--out", (data.dir / name).string(),
        "--epochs", "1",        "--only",   "kd"};
    args.insert(args.end(), more.begin(), more.end());
    return run(args);
  };
  auto check_fails = [&](const Run& r, const std::string& expected) {
    INFO(r.err);
    CHECK(r.code == 1);
    CHECK(r.err.find(expected) != std::string::npos);
    CHECK(r.err.find("experiment kd") == std::string::npos);  // no student trained
  };
  std::string read_file = "{file: " + file.string() + ", mode: read}";
  Run same = read_with("same", "", read_file);
  INFO(same.err);
  CHECK(same.code == 0);
  CHECK(same.err.find("teacher outputs read from " + file.string()) != std::string::npos);

  check_fails(read_with("fewer", ", limit_train: 64", read_file),
              file.string() +
                  ": metadata field 'rows' is '96', but the number of the run's "
                  "training images is '64'");
  // Another seed initializes and trains another teacher.
  check_fails(read_with("other-teacher", "", read_file, {"--seed", "4"}),
              file.string() + ": metadata field 'teacher.weights_hash' is '");
  // Other images of the same number.
  SyntheticData other(96, 32);
  other.write_split("train", 96, 7);
  fs::path r = write_recipe(other, "other-data", "");
  Run od = run({"distill", "--recipe", r.string(), "--out", (other.dir / "o").string(), "--epochs",
                "1", "--only", "kd", "--teacher-outputs", file.string()});
  check_fails(od, file.string() + ": metadata field 'data_hash' is '");
  // A teacher in train mode has batch-dependent outputs.
  fs::path tm = data.dir / "train-mode.yaml";
  std::string text = read(write_recipe(data, "train-mode", ""));
  text.replace(text.find("}}}"), 3, "}}, mode: train}");
  std::ofstream(tm) << text;
  check_fails(run({"distill", "--recipe", tm.string(), "--out", (data.dir / "tm").string(),
                   "--teacher-outputs", file.string()}),
              file.string() + ": teacher_outputs needs every teacher in eval mode");

  // Mixup shows the student mixes of two images, of which no stored output speaks.
  fs::path mx = data.dir / "mixup.yaml";
  std::ofstream(mx) << "name: mixup\nepochs: 1\nbatch_size: 32\nbaseline: false\n"
                    << "data: {dir: " << data.dir.string()
                    << ", crop_padding: 0, mixup: {partial: 0.5}}\n"
                    << "teacher: {model: resnet8, train: {epochs: 1}}\nstudent: {model: resnet8}\n"
                    << "experiments:\n  - {name: kd, objectives: [{name: kd, params: {T: 4}}]}\n";
  check_fails(run({"distill", "--recipe", mx.string(), "--out", (data.dir / "mx").string(),
                   "--teacher-outputs", file.string()}),
              file.string() + ": teacher_outputs cannot serve a run with data.mixup");

  // A truncated file and a missing one in mode read; in mode auto a missing file is written.
  std::string bytes = read(file);
  fs::path cut = data.dir / "cut.safetensors";
  std::ofstream(cut, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size() / 2));
  check_fails(read_with("cut", "", "{file: " + cut.string() + "}"), cut.string());
  fs::path absent = data.dir / "absent.safetensors";
  check_fails(read_with("absent", "", "{file: " + absent.string() + ", mode: read}"),
              absent.string());
  Run written = read_with("auto", "", "{file: absent.safetensors}");
  CHECK(written.code == 0);
  CHECK(fs::exists(absent));

  // --teacher-outputs without a teacher is a usage error.
  fs::path alone = data.dir / "alone.yaml";
  std::ofstream(alone) << "name: alone\nstudent: {model: resnet8}\n";
  Run u = run({"distill", "--recipe", alone.string(), "--teacher-outputs", file.string()});
  CHECK(u.code == 2);
  CHECK(u.err.find("--teacher-outputs: the recipe has no teacher") != std::string::npos);
}

namespace {

// A recipe over `data`: a resnet8 teacher trained one epoch, a resnet8 student, no baseline,
// the given data options and experiments (YAML lines under `experiments:`).
fs::path write_objective_recipe(const SyntheticData& data, const std::string& name,
                                const std::string& data_extra, const std::string& experiments) {
  fs::path path = data.dir / (name + ".yaml");
  std::ofstream(path) << "name: " << name << "\nepochs: 1\nbatch_size: 32\nseed: 3\n"
                      << "baseline: false\n"
                      << "data: {dir: " << data.dir.string() << ", crop_padding: 0" << data_extra
                      << "}\n"
                      << "teacher: {model: resnet8, train: {epochs: 1}}\n"
                      << "student: {model: resnet8}\noptimizer: {lr: 0.05}\n"
                      << "experiments:\n"
                      << experiments;
  return path;
}

}  // namespace

// dhkd's head and tgeo_kd's fusion network are sized from the probed shapes (student.pooled,
// teacher.logits, student.logits) and trained by the student's optimizer; dhkd also with
// gradient alignment between ce and dhkd; dist_plus reads layer3 taps.
TEST_CASE("cli: distill drives objectives that own modules, with and without gradient alignment") {
  SyntheticData data(96, 32);
  fs::path recipe = write_objective_recipe(
      data, "heads", "",
      "  - name: dhkd-ga\n    gradient_alignment: {ce: [ce]}\n"
      "    objectives: [{name: ce}, {name: dhkd, params: {T: 2}}]\n"
      "  - name: dhkd\n    objectives: [{name: ce}, {name: dhkd, params: {head: linear}}]\n"
      "  - name: tgeo\n    objectives: [{name: tgeo_kd}]\n"
      "  - name: distp\n    objectives: [{name: ce}, {name: dist_plus, params: {tap: layer3}}]\n");
  fs::path out = data.dir / "out";
  Run r = run({"distill", "--recipe", recipe.string(), "--out", out.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  // resnet8's pooled feature has 64 channels, the data's IDX files 10 classes: the MLP head
  // Linear(64, 200), BatchNorm1d(200), Linear(200, 10); the linear head Linear(64, 10); TGeo-KD's
  // network Linear(9 * 10, 128), Linear(128, 1).
  CHECK(r.err.find("experiment dhkd-ga: 1 ce + 1 dhkd(T=2) (") != std::string::npos);
  CHECK(r.err.find(fmt::format(", {} in the objectives), teacher logits cached, gradient "
                               "alignment\n",
                               64 * 200 + 200 + 2 * 200 + 200 * 10 + 10)) != std::string::npos);
  CHECK(r.err.find("experiment dhkd: 1 ce + 1 dhkd(head=linear) (") != std::string::npos);
  CHECK(r.err.find(fmt::format(" parameters, {} in the objectives), teacher logits cached\n",
                               64 * 10 + 10)) != std::string::npos);
  CHECK(r.err.find(fmt::format(", {} in the objectives), teacher logits cached\n",
                               90 * 128 + 128 + 128 + 1)) != std::string::npos);
  std::vector<std::string> lines = lines_of(out / "metrics.jsonl");
  REQUIRE(lines.size() == 5);
  CHECK(lines[1].find("\"run\":\"dhkd-ga\"") != std::string::npos);
  CHECK(lines[1].find("\"dhkd.binary_kl_norm\":") != std::string::npos);
  CHECK(lines[3].find("\"run\":\"tgeo\"") != std::string::npos);
  CHECK(lines[3].find("\"tgeo_kd\":") != std::string::npos);
  // A feature objective reads the probed taps too.
  CHECK(lines[4].find("\"run\":\"distp\"") != std::string::npos);
  CHECK(lines[4].find("\"dist_plus\":") != std::string::npos);
}

// Partial mixup: teacher and student see the mixed images (no teacher-logit cache), mix_kd reads
// the mixed targets as soft_labels.
TEST_CASE("cli: distill with mixup drives mix_kd") {
  SyntheticData data(96, 32);
  fs::path recipe = write_objective_recipe(data, "mix", ", mixup: {partial: 0.9, beta: 1.0}",
                                           "  - {name: mix, objectives: [{name: mix_kd}]}\n");
  fs::path out = data.dir / "out";
  Run r = run({"distill", "--recipe", recipe.string(), "--out", out.string(), "--epochs", "2"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("experiment mix: 1 mix_kd (") != std::string::npos);
  CHECK(r.err.find("), partial mixup\n") != std::string::npos);
  CHECK(r.err.find("teacher logits cached") == std::string::npos);
  std::vector<std::string> lines = lines_of(out / "metrics.jsonl");
  REQUIRE(lines.size() == 3);
  CHECK(lines[1].find("\"run\":\"mix\"") != std::string::npos);
  CHECK(lines[2].find("\"images\":96,\"labeled_images\":96,") != std::string::npos);
  for (const char* key : {"\"mix_kd\":", "\"mix_kd.cls\":", "\"mix_kd.kd\":"})
    CHECK_MESSAGE(lines[2].find(key) != std::string::npos, key, " in ", lines[2]);
}

// An objective reading an input no recipe provides stops before any training, naming it.
TEST_CASE("cli: distill refuses objectives whose inputs a recipe does not provide") {
  SyntheticData data(16, 8);
  // A tap no model has.
  fs::path missing = write_objective_recipe(
      data, "missing", "",
      "  - {name: x, objectives: [{name: dist_plus, params: {tap: layer9}}]}\n");
  Run m = run({"distill", "--recipe", missing.string(), "--out", (data.dir / "out").string()});
  INFO(m.err);
  CHECK(m.code == 1);
  CHECK(m.err.find("experiment 'x': objective dist_plus reads 'student.layer9', which this "
                   "recipe does not provide") != std::string::npos);
  CHECK(m.err.find("training") == std::string::npos);
  // lelp's projection, from a file that is not there, fails on the probe batch.
  fs::path recipe = write_objective_recipe(
      data, "lelp", "",
      "  - {name: x, objectives: [{name: lelp, params: {projection: none.safetensors}}]}\n");
  Run r = run({"distill", "--recipe", recipe.string(), "--out", (data.dir / "out").string()});
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(r.err.find("experiment 'x', objectives[0].params: ") != std::string::npos);
  CHECK(r.err.find("none.safetensors") != std::string::npos);
  CHECK(r.err.find("training teacher") == std::string::npos);
}

// TGeo-KD's bilevel training: 32 of the 96 training images held out, each of the two steps takes
// a bilevel outer step on them and logs the held-out cross-entropy after the look-ahead; without
// data.held_out the run stops before training, naming the key.
TEST_CASE("cli: distill runs tgeo_kd's bilevel outer step on held-out images") {
  SyntheticData data(96, 32);
  const char* experiment =
      "  - name: tgeo-bilevel\n    objectives: [{name: tgeo_kd, params: {bilevel: true}}]\n";
  fs::path recipe = write_objective_recipe(data, "bilevel", ", held_out: 32", experiment);
  fs::path out = data.dir / "out";
  Run r = run({"distill", "--recipe", recipe.string(), "--out", out.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("experiment tgeo-bilevel: 1 tgeo_kd(bilevel=true) (") != std::string::npos);
  CHECK(r.err.find(", bilevel outer step on 32 held-out images\n") != std::string::npos);
  std::vector<std::string> lines = lines_of(out / "metrics.jsonl");
  REQUIRE(lines.size() == 2);
  CHECK(lines[1].find("\"run\":\"tgeo-bilevel\"") != std::string::npos);
  const size_t at = lines[1].find("\"outer.held_out_ce\":");
  REQUIRE(at != std::string::npos);
  const double held_out_ce = std::stod(lines[1].substr(at + 20));
  CHECK(held_out_ce > 0);
  CHECK(held_out_ce < 10);

  fs::path missing = write_objective_recipe(data, "no-held-out", "", experiment);
  Run m = run({"distill", "--recipe", missing.string(), "--out", (data.dir / "m").string()});
  CHECK(m.code != 0);
  CHECK(m.err.find("objective tgeo_kd trains its outer parameters on held-out images (a "
                   "bilevel step); set data.held_out") != std::string::npos);
}

// Two students trained together (deep mutual learning): a row, metrics lines and weights per
// student; each student's accuracy is that of its weights; each baseline student trains as it
// would alone (student 0's weights equal a one-student run's bit for bit), since with ce only no
// student's loss reaches another.
TEST_CASE("cli: distill trains two students together with dml, reporting each") {
  SyntheticData data(96, 32);
  auto recipe = [&](const std::string& name, const std::string& students,
                    const std::string& experiments) {
    fs::path path = data.dir / (name + ".yaml");
    std::ofstream(path) << "name: " << name << "\nepochs: 1\nbatch_size: 32\nseed: 3\n"
                        << "data: {dir: " << data.dir.string() << ", crop_padding: 0}\n"
                        << students << "optimizer: {lr: 0.05}\nexperiments:\n"
                        << experiments;
    return path;
  };
  fs::path two = recipe("two", "students: [{model: resnet8}, {model: resnet8}]\n",
                        "  - {name: dml, objectives: [{name: ce}, {name: dml, params: {T: 2}}]}\n");
  fs::path out = data.dir / "two-out";
  Run r = run({"distill", "--recipe", two.string(), "--out", out.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("experiment dml: 1 ce + 1 dml(T=2) (") != std::string::npos);
  CHECK(r.err.find(", 2 students together") != std::string::npos);

  std::istringstream table(r.out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(table, line);) rows.push_back(line);
  REQUIRE(rows.size() == 6);
  CHECK(rows[1].find("baseline/student ") == 0);
  CHECK(rows[1].find("+0.00") != std::string::npos);
  CHECK(rows[2].find("baseline/student1 ") == 0);
  CHECK(rows[2].find("+0.00") != std::string::npos);
  CHECK(rows[3].find("dml/student ") == 0);
  CHECK(rows[4].find("dml/student1 ") == 0);
  CHECK(rows[4].find("1 ce + 1 dml(T=2)") != std::string::npos);

  // Each student's reported accuracy is that of its saved weights on the test images.
  for (auto [row, file] : {std::pair{3, "student-dml"}, std::pair{4, "student1-dml"}}) {
    auto model = models::create_model("resnet8", {.num_classes = 10, .in_channels = 1});
    load_weights(*model, (out / (std::string(file) + ".safetensors")).string());
    model->eval();
    NoGradGuard no_grad;
    std::vector<int64_t> predicted =
        model->forward(data.normalized_test_images(), nullptr).argmax(1).to_vector<int64_t>();
    int64_t correct = 0;
    for (size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == data.test_labels[i];
    INFO(file, ": ", rows[size_t(row)]);
    CHECK(rows[size_t(row)].find(fmt::format("{:.2f}%", 100.0 * double(correct) / 32)) !=
          std::string::npos);
  }

  // metrics.jsonl: a line per student and epoch, naming the student, with its own parts.
  std::vector<std::string> lines = lines_of(out / "metrics.jsonl");
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].find("{\"run\":\"baseline\",\"student\":\"student\",\"model\":\"resnet8\"") == 0);
  CHECK(lines[1].find("{\"run\":\"baseline\",\"student\":\"student1\",") == 0);
  CHECK(lines[3].find("{\"run\":\"dml\",\"student\":\"student1\",") == 0);
  CHECK(lines[3].find("\"parts\":{\"ce\":") != std::string::npos);
  CHECK(lines[3].find("\"dml\":") != std::string::npos);
  std::string html = read(out / "report.html");
  CHECK(html.find("<td>dml/student1</td>") != std::string::npos);

  // Student 0 of the baseline is the one-student run's student; student 1 starts elsewhere.
  fs::path one = recipe("one", "student: {model: resnet8}\n", "");
  Run alone = run({"distill", "--recipe", one.string(), "--out", (data.dir / "one-out").string()});
  INFO(alone.err);
  REQUIRE(alone.code == 0);
  auto weights = [](const fs::path& file) {
    std::map<std::string, std::vector<double>> w;
    for (const auto& [name, t] : load_safetensors(file.string()).tensors)
      w[name] = t.to_vector<double>();
    return w;
  };
  auto alone_w = weights(data.dir / "one-out" / "student-baseline.safetensors");
  CHECK(weights(out / "student-baseline.safetensors") == alone_w);
  CHECK(weights(out / "student1-baseline.safetensors") != alone_w);
  CHECK(weights(out / "student-dml.safetensors") != alone_w);
}
