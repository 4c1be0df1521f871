// tutor distill driving the objectives that need more than logits and labels
// (distill/recipes/README.md): a tiny run of each on synthetic data whose JSONL log holds the
// objective's parts, and the files the run adds.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "cli/cli_test.h"
#include "cli/synthetic_data.h"
#include "distill/dual_head_inference.h"
#include "engine/autograd/grad_mode.h"
#include "engine/io/safetensors.h"
#include "engine/nn/linear.h"
#include "engine/ops/ops.h"
#include "models/registry.h"
#include "tools/cli/model_io.h"

using namespace tutor;
using namespace tutor::testing;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> log_lines(const fs::path& out) {
  std::ifstream in(out / "metrics.jsonl");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Runs `recipe` (the YAML after the data line, which points at `data`) into data.dir / "out".
// `data_extra` adds keys to `data:`.
Run run_recipe(const SyntheticData& data, const std::string& name, const std::string& recipe,
               const std::string& data_extra = "", int epochs = 1) {
  fs::path path = data.dir / (name + ".yaml");
  std::ofstream(path) << "name: " << name << "\nepochs: " << epochs << "\nbatch_size: 16\nseed: 5\n"
                      << "data: {dir: " << data.dir.string() << ", crop_padding: 0" << data_extra
                      << "}\n"
                      << "student: {model: resnet8}\noptimizer: {lr: 0.05}\n"
                      << recipe;
  return run({"distill", "--recipe", path.string(), "--out", (data.dir / "out").string()});
}

void check_parts(const std::string& line, const std::string& run,
                 const std::vector<std::string>& parts) {
  INFO(line);
  CHECK(line.find(fmt::format("\"run\":\"{}\"", run)) != std::string::npos);
  for (const std::string& p : parts)
    CHECK_MESSAGE(line.find("\"" + p + "\":") != std::string::npos, p);
}

}  // namespace

// SSKD: stage 1 trains the teacher's ss module with sskd_aux on rotation batches (logged as
// teacher.ss_module, its weights written), stage 2 trains the student and its own ss module
// with sskd; sskd_aux also runs in an experiment on the student's ss module.
TEST_CASE("cli: distill drives sskd with the teacher's ss module trained first, and sskd_aux") {
  SyntheticData data(48, 16);
  Run r = run_recipe(data, "sskd",
                     "baseline: false\n"
                     "teacher: {model: resnet8, train: {epochs: 1}, ss_module: {epochs: 2}}\n"
                     "experiments:\n"
                     "  - {name: sskd, rotations: true, objectives: [{name: sskd}]}\n"
                     "  - name: aux\n    rotations: true\n"
                     "    objectives: [{name: ce}, {name: sskd_aux, weight: 0.5}]\n");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("training the ss module of teacher (8320 parameters), 2 epochs") !=
        std::string::npos);
  std::vector<std::string> lines = log_lines(data.dir / "out");
  REQUIRE(lines.size() == 5);
  check_parts(lines[0], "teacher", {"ce"});
  // Stage 1 counts the 3 rotated rows of each of the 48 images.
  check_parts(lines[1], "teacher.ss_module", {"sskd_aux"});
  CHECK(lines[1].find("\"epoch\":1,") != std::string::npos);
  CHECK(lines[2].find("\"epoch\":2,") != std::string::npos);
  CHECK(lines[2].find("\"images\":144,") != std::string::npos);
  // Stage 2: the accuracy counts the 48 unrotated images.
  check_parts(lines[3], "sskd", {"sskd", "sskd.ce", "sskd.kd", "sskd.ss", "sskd.tf"});
  CHECK(lines[3].find("\"images\":48,") != std::string::npos);
  check_parts(lines[4], "aux", {"ce", "sskd_aux"});

  SafetensorsContents ss =
      load_safetensors((data.dir / "out" / "teacher.ss_module.safetensors").string());
  REQUIRE(ss.tensors.size() == 4);  // resnet8's pooled feature has 64 channels
  CHECK(ss.tensors.at("0.weight").sizes() == Shape{64, 64});
  CHECK(ss.tensors.at("2.bias").sizes() == Shape{64});
}

// WKD-L: the cost matrix computed by CKA from the teacher's layer3 on 4 images per class (every
// spatial position a sample) and written out; read back from that file, it gives the same run.
TEST_CASE("cli: distill drives wkd_l with a cost matrix computed from the teacher or from a file") {
  SyntheticData data(60, 20, 10);
  const std::string teacher = "teacher: {model: resnet8, train: {epochs: 1}}\nbaseline: false\n";
  const std::string experiment =
      "experiments:\n  - name: wkd\n"
      "    objectives: [{name: ce}, {name: wkd_l, params: {gamma: 600, T: 8, e0: 5}}]\n";
  Run r = run_recipe(data, "wkd",
                     teacher + "cost_matrix: {features: layer3, per_class: 4}\n" + experiment);
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("tutor distill: cost matrix from resnet8's layer3 on 4 images per class") !=
        std::string::npos);
  fs::path out = data.dir / "out";
  std::vector<std::string> computed = log_lines(out);
  REQUIRE(computed.size() == 2);
  check_parts(computed[1], "wkd", {"ce", "wkd_l", "wkd_l.target", "wkd_l.wasserstein"});
  CHECK(computed[1].find("\"wkd_l.wasserstein\":0}") == std::string::npos);

  // 1 - CKA(X_i, X_i) = 0, sharpened 1 - exp(0) = 0 on the diagonal; symmetric; in [0, 1).
  SafetensorsContents m = load_safetensors((out / "cost_matrix.safetensors").string());
  Tensor M = m.tensors.at("cost_matrix");
  REQUIRE(M.sizes() == Shape{10, 10});
  CHECK(m.metadata.at("features") == "layer3");
  std::vector<double> v = M.to_vector<double>();
  for (size_t i = 0; i < 10; ++i)
    for (size_t j = 0; j < 10; ++j) {
      CHECK(v[i * 10 + j] == doctest::Approx(v[j * 10 + i]).epsilon(1e-6));
      CHECK(v[i * 10 + j] >= -1e-6);
      CHECK(v[i * 10 + j] < 1);
      if (i == j) CHECK(std::abs(v[i * 10 + j]) < 1e-5);
    }

  fs::copy_file(out / "cost_matrix.safetensors", data.dir / "M.safetensors");
  fs::remove_all(out);
  r = run_recipe(data, "wkd", teacher + "cost_matrix: {file: M.safetensors}\n" + experiment);
  REQUIRE(r.code == 0);
  std::vector<std::string> from_file = log_lines(out);
  REQUIRE(from_file.size() == 2);
  auto strip = [](const std::string& s) {
    return s.substr(0, s.find(",\"seconds\"")) + s.substr(s.find(",\"parts\""));
  };
  CHECK(strip(from_file[1]) == strip(computed[1]));

  // A file of the wrong size stops the run before training, naming the file.
  save_safetensors((data.dir / "bad.safetensors").string(),
                   std::map<std::string, Tensor>{{"cost_matrix", zeros({3, 3})}});
  r = run_recipe(data, "wkd", teacher + "cost_matrix: {file: bad.safetensors}\n" + experiment);
  CHECK(r.code == 1);
  CHECK(r.err.find("bad.safetensors: cost_matrix must be floating [10, 10] (the dataset's "
                   "classes), got f32 [3, 3]") != std::string::npos);
  r = run_recipe(data, "wkd", teacher + "cost_matrix: {features: layer9}\n" + experiment);
  CHECK(r.code == 1);
  CHECK(r.err.find("cost_matrix.features: teacher resnet8 has no tap 'layer9' (taps: logits, ") !=
        std::string::npos);
}

// The number after `key` in a JSONL line.
static double number_after(const std::string& line, const std::string& key) {
  size_t at = line.find(key);
  REQUIRE(at != std::string::npos);
  return std::stod(line.substr(at + key.size()));
}

// DHO with few labels: kl_labeled and kl_unlabeled parts, and at every epoch the blend of both
// heads, whose accuracy equals the grid search redone here from the written weights.
TEST_CASE("cli: distill evaluates dho's student with both heads blended") {
  SyntheticData data(64, 24);
  Run r = run_recipe(data, "dho",
                     "teacher: {model: resnet8, train: {epochs: 1}}\n"
                     "experiments:\n  - name: dho\n"
                     "    objectives: [{name: ce, weight: 0.5}, {name: dho, params: {T: 2}}]\n",
                     ", labeled: 8, labeled_batch_size: 4", 2);
  INFO(r.err);
  REQUIRE(r.code == 0);
  fs::path out = data.dir / "out";
  std::vector<std::string> lines = log_lines(out);
  REQUIRE(lines.size() == 5);  // teacher, baseline x 2, dho x 2
  check_parts(lines[4], "dho", {"ce", "dho", "dho.kl_labeled", "dho.kl_unlabeled"});
  CHECK(lines[4].find("\"epoch\":2,") != std::string::npos);
  CHECK(lines[2].find("dual_head") == std::string::npos);  // the baseline has one head
  CHECK(r.out.find("\ndho+blend ") != std::string::npos);
  CHECK(r.err.find("dho epoch 2/2: train loss ") != std::string::npos);
  CHECK(r.err.find(", blended heads ") != std::string::npos);

  auto student = models::create_model("resnet8", {.num_classes = 10, .in_channels = 1});
  cli::load_weights(*student, (out / "student-dho.safetensors").string());
  student->eval();
  nn::Linear head(64, 10);
  SafetensorsContents h = load_safetensors((out / "student-dho.kd_head.safetensors").string());
  head.load_state_dict(NamedTensors(h.tensors.begin(), h.tensors.end()));
  NoGradGuard no_grad;
  models::Taps taps({"pooled"});
  Tensor ce = student->forward(data.normalized_test_images(), &taps);
  Tensor kd = head.forward(taps.at("pooled"));
  Tensor y = from_vector(data.test_labels, {24}, TensorOptions(DType::i64));
  distill::DualHeadChoice best = distill::dual_head_search(ce, kd, y);
  CHECK(number_after(lines[4], "\"dual_head\":{\"test_acc\":") ==
        doctest::Approx(best.accuracy / 100).epsilon(1e-12));
  CHECK(number_after(lines[4], ",\"alpha\":") == doctest::Approx(best.alpha));
  CHECK(number_after(lines[4], ",\"beta\":") == doctest::Approx(best.beta));
  double kd_correct = 0;
  std::vector<int64_t> pred = kd.argmax(1).to_vector<int64_t>();
  for (size_t i = 0; i < 24; ++i) kd_correct += pred[i] == data.test_labels[i];
  CHECK(number_after(lines[4], "\"kd_head_test_acc\":") ==
        doctest::Approx(kd_correct / 24).epsilon(1e-12));
  // alpha = 0 is the plain student, so the blend is never below it.
  CHECK(best.accuracy / 100 >= number_after(lines[4], "\"test_acc\":") - 1e-12);
}

// MLKD: every batch also in a strong view (RandAugment and Cutout), the teacher and the student
// run on both, mlkd reads the four logits, and ce on each view.
TEST_CASE("cli: distill drives mlkd with a strong view of every batch") {
  SyntheticData data(48, 16);
  Run r = run_recipe(data, "mlkd",
                     "baseline: false\nteacher: {model: resnet8, train: {epochs: 1}}\n"
                     "experiments:\n  - name: mlkd\n    objectives:\n"
                     "      - {name: ce, weight: 0.1}\n"
                     "      - {name: ce, weight: 0.1, view: strong}\n"
                     "      - {name: mlkd, weight: 0.9, params: {T: 4}}\n",
                     ", strong_view: {ops: 2}");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("experiment mlkd: 0.1 ce + 0.1 ce[strong] + 0.9 mlkd(T=4) (") !=
        std::string::npos);
  CHECK(r.err.find("teacher logits cached") == std::string::npos);
  std::vector<std::string> lines = log_lines(data.dir / "out");
  REQUIRE(lines.size() == 2);
  check_parts(lines[1], "mlkd", {"ce", "ce[strong]", "mlkd", "mlkd.kd", "mlkd.cc", "mlkd.bc"});
  CHECK(lines[1].find("\"images\":48,") != std::string::npos);
  // The two views differ, so do the two cross-entropies.
  CHECK(number_after(lines[1], "\"ce\":") != number_after(lines[1], "\"ce[strong]\":"));
}

// Multi-aspect KD: soft aspect targets from a file (a row per training image), an aspect head
// Linear(64, A) on the student's pooled feature trained with it; bad files stop the run.
TEST_CASE("cli: distill drives multi_aspect with aspect targets from a file") {
  SyntheticData data(48, 16);
  std::vector<double> q;
  for (int i = 0; i < 48; ++i)
    for (int a = 0; a < 3; ++a) q.push_back(double((i * 7 + a) % 10) / 10);
  save_safetensors((data.dir / "aspects.safetensors").string(),
                   std::map<std::string, Tensor>{
                       {"aspect_targets", from_vector(q, {48, 3}, TensorOptions(DType::f32))}});
  const std::string recipe =
      "baseline: false\nexperiments:\n  - name: aspects\n"
      "    objectives: [{name: ce}, {name: multi_aspect, params: {lambda: 0.5}}]\n";
  Run r = run_recipe(data, "aspects", "aspect_targets: {file: aspects.safetensors}\n" + recipe);
  INFO(r.err);
  REQUIRE(r.code == 0);
  // The aspect head's 64 * 3 + 3 parameters train with the student's.
  CHECK(r.err.find("experiment aspects: 1 ce + 1 multi_aspect(lambda=0.5) (" +
                   std::to_string(77754 + 64 * 3 + 3) + " parameters)") != std::string::npos);
  std::vector<std::string> lines = log_lines(data.dir / "out");
  REQUIRE(lines.size() == 1);
  check_parts(lines[0], "aspects", {"ce", "multi_aspect", "multi_aspect.bce"});
  // bce = lambda * mean BCE > 0 unless every target is 0 or 1 and matched exactly.
  CHECK(number_after(lines[0], "\"multi_aspect.bce\":") > 0);

  save_safetensors((data.dir / "short.safetensors").string(),
                   std::map<std::string, Tensor>{{"aspect_targets", zeros({40, 3})}});
  r = run_recipe(data, "aspects", "aspect_targets: {file: short.safetensors}\n" + recipe);
  CHECK(r.code == 1);
  CHECK(r.err.find("short.safetensors: aspect_targets must be floating [48, A] (a row per "
                   "training image), got f32 [40, 3]") != std::string::npos);
  save_safetensors((data.dir / "big.safetensors").string(),
                   std::map<std::string, Tensor>{{"aspect_targets", full({48, 3}, 2.0)}});
  r = run_recipe(data, "aspects", "aspect_targets: {file: big.safetensors}\n" + recipe);
  CHECK(r.code == 1);
  CHECK(r.err.find("big.safetensors: aspect_targets must lie in [0, 1]") != std::string::npos);
}

// LELP: the projection fitted on the trained teacher's pooled embeddings of the first 8 training
// images of each class (written out), a C*k-way student evaluated by its class logits; the same
// run from the written projection file (params.projection) trains the same student.
TEST_CASE("cli: distill drives lelp with a projection fitted on the teacher's embeddings") {
  SyntheticData data(60, 20, 10);
  const std::string teacher = "teacher: {model: resnet8, train: {epochs: 1}}\nbaseline: false\n";
  Run r = run_recipe(data, "lelp",
                     teacher +
                         "lelp_projection: {per_class: 4}\nexperiments:\n"
                         "  - {name: lelp, objectives: [{name: lelp, params: {T: 2}}]}\n");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("tutor distill: lelp projection (k = 2) from resnet8's pooled on 4 images per "
                   "class") != std::string::npos);
  fs::path out = data.dir / "out";
  std::vector<std::string> lines = log_lines(out);
  REQUIRE(lines.size() == 2);
  check_parts(lines[1], "lelp", {"lelp", "lelp.kd", "lelp.ce"});
  CHECK(number_after(lines[1], "\"lelp.kd\":") > 0);
  // The student's classifier is C*k = 20-way; its test accuracy is that of its class logits.
  SafetensorsContents w = load_safetensors((out / "student-lelp.safetensors").string());
  CHECK(w.tensors.at("fc.weight").sizes() == Shape{20, 64});
  auto student = models::create_model("resnet8", {.num_classes = 20, .in_channels = 1});
  cli::load_weights(*student, (out / "student-lelp.safetensors").string());
  student->eval();
  NoGradGuard no_grad;  // until the run below, which trains under EnableGradGuard
  Tensor z = student->forward(data.normalized_test_images(), nullptr).to(DType::f64);
  std::vector<double> zs = z.to_vector<double>();
  int64_t correct = 0;
  for (size_t i = 0; i < data.test_labels.size(); ++i) {
    // p(class c) = p(2c) + p(2c + 1): the argmax of exp(z_2c) + exp(z_2c+1).
    int64_t best = 0;
    double best_mass = -1;
    for (int64_t c = 0; c < 10; ++c) {
      double mass = std::exp(zs[i * 20 + size_t(2 * c)]) + std::exp(zs[i * 20 + size_t(2 * c + 1)]);
      if (mass > best_mass) best = c, best_mass = mass;
    }
    correct += best == data.test_labels[i];
  }
  CHECK(number_after(lines[1], "\"test_acc\":") ==
        doctest::Approx(double(correct) / double(data.test_labels.size())));

  // The projection against the trained teacher's embeddings computed here (rows i % 10 == c are
  // class c; the first 4 of them): P is the orthogonal projector onto the null space of fc.weight
  // (symmetric, idempotent, W P = 0, trace D - C); mu_c the mean of P h; each direction a unit
  // eigenvector of the unbiased covariance of P h with eigenvalue s^2, the leading ones first.
  auto t = models::create_model("resnet8", {.num_classes = 10, .in_channels = 1});
  cli::load_weights(*t, (out / "teacher.safetensors").string());
  t->eval();
  models::Taps taps({"pooled"});
  t->forward(data.normalized_train_images(), &taps);
  std::vector<double> h = taps.at("pooled").to(DType::f64).to_vector<double>();  // [60, 64]
  SafetensorsContents f = load_safetensors((out / "lelp-lelp.safetensors").string());
  std::vector<double> P = f.tensors.at("null_projector").to_vector<double>(),
                      mu = f.tensors.at("means").to_vector<double>(),
                      v = f.tensors.at("directions").to_vector<double>(),
                      s = f.tensors.at("scales").to_vector<double>();
  REQUIRE(f.tensors.at("directions").sizes() == Shape{10, 2, 64});
  std::vector<double> W;
  for (const auto& [name, p] : t->state_dict())
    if (name == "fc.weight") W = p.to(DType::f64).to_vector<double>();
  REQUIRE(W.size() == 10 * 64);
  const size_t D = 64;
  double trace = 0;
  for (size_t i = 0; i < D; ++i) {
    trace += P[i * D + i];
    for (size_t j = 0; j < D; ++j) {
      CHECK(P[i * D + j] == doctest::Approx(P[j * D + i]).epsilon(1e-9));
      double pp = 0;
      for (size_t m = 0; m < D; ++m) pp += P[i * D + m] * P[m * D + j];
      CHECK(pp == doctest::Approx(P[i * D + j]).epsilon(1e-9).scale(1));
    }
    for (size_t c = 0; c < 10; ++c) {
      double wp = 0;
      for (size_t m = 0; m < D; ++m) wp += W[c * D + m] * P[m * D + i];
      CHECK(std::abs(wp) < 1e-9);
    }
  }
  CHECK(trace == doctest::Approx(double(D - 10)).epsilon(1e-9));
  for (size_t c = 0; c < 10; ++c) {
    std::vector<std::vector<double>> u;  // P h of class c's first 4 images
    for (size_t row = c; u.size() < 4; row += 10) {
      std::vector<double> x(D, 0.0);
      for (size_t i = 0; i < D; ++i)
        for (size_t m = 0; m < D; ++m) x[i] += P[i * D + m] * h[row * D + m];
      u.push_back(x);
    }
    std::vector<double> mean(D, 0.0);
    for (const auto& x : u)
      for (size_t i = 0; i < D; ++i) mean[i] += x[i] / 4;
    double scale = 0;
    for (size_t i = 0; i < D; ++i) scale = std::max(scale, std::abs(mean[i]));
    for (size_t i = 0; i < D; ++i) CHECK(std::abs(mu[c * D + i] - mean[i]) <= 1e-4 * scale);
    std::vector<double> cov(D * D, 0.0);
    for (const auto& x : u)
      for (size_t i = 0; i < D; ++i)
        for (size_t j = 0; j < D; ++j) cov[i * D + j] += (x[i] - mean[i]) * (x[j] - mean[j]) / 3;
    const double top = s[c * 2] * s[c * 2];
    CHECK(s[c * 2] >= s[c * 2 + 1]);
    for (size_t j = 0; j < 2; ++j) {
      const double* dir = &v[(c * 2 + j) * D];
      double norm = 0;
      for (size_t i = 0; i < D; ++i) norm += dir[i] * dir[i];
      CHECK(norm == doctest::Approx(1).epsilon(1e-9));
      for (size_t i = 0; i < D; ++i) {
        double cv = 0;
        for (size_t m = 0; m < D; ++m) cv += cov[i * D + m] * dir[m];
        CHECK(std::abs(cv - s[c * 2 + j] * s[c * 2 + j] * dir[i]) <= 1e-3 * top);
      }
    }
    // The leading eigenvalue bounds every Rayleigh quotient (here: each coordinate axis).
    for (size_t i = 0; i < D; ++i) CHECK(cov[i * D + i] <= top * (1 + 1e-3));
  }

  // From the written file instead: the same student, step for step.
  EnableGradGuard grad;
  fs::copy_file(out / "lelp-lelp.safetensors", data.dir / "P.safetensors");
  fs::remove_all(out);
  r = run_recipe(data, "lelp",
                 teacher +
                     "experiments:\n  - {name: lelp, objectives: [{name: lelp, params: "
                     "{T: 2, projection: P.safetensors}}]}\n");
  REQUIRE(r.code == 0);
  CHECK(r.err.find("lelp projection") == std::string::npos);
  std::vector<std::string> again = log_lines(out);
  REQUIRE(again.size() == 2);
  CHECK(number_after(again[1], "\"train_loss\":") == number_after(lines[1], "\"train_loss\":"));
  CHECK(number_after(again[1], "\"test_acc\":") == number_after(lines[1], "\"test_acc\":"));
}
