// Recipes: a valid file read into every field, the shipped recipes, and each kind of error with
// the file and the key path in its message.
#include <doctest/doctest.h>

#include <string>

#include "distill/recipe.h"
#include "engine/core/error.h"

using namespace tutor;
using namespace tutor::distill;

namespace {

const char* kFull = R"(
name: full
seed: 7
epochs: 3
batch_size: 64
threads: 2
data:
  name: fashion-mnist
  dir: /data/fm
  limit_train: 1000
  limit_test: 200
  crop_padding: 0
  flip: true
  labeled: 100
  labeled_batch_size: 16
teacher:
  model: resnet20
  weights: weights/r20.safetensors
  mode: train
student:
  model: resnet8
optimizer: {name: sgd, lr: 0.1, momentum: 0.8, weight_decay: 1e-4, nesterov: true}
schedule: {name: step, step_size: 2, warmup_epochs: 1}
experiments:
  - name: kd
    objectives:
      - {name: ce, weight: 0.1}
      - name: kd
        weight: 0.9
        schedule: warmup
        warmup_epochs: 2
        params: {T: 2, standardize: true}
)";

// The Error message of parsing `yaml` (as file "r.yaml"); fails the test when it parses.
std::string error_of(const std::string& yaml) {
  try {
    parse_recipe(yaml, "dir/r.yaml");
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("parsed without an error: ", yaml);
  return "";
}

const char* kMinimal =
    "name: m\nteacher: {model: resnet8, train: {epochs: 1}}\n"
    "student: {model: resnet8}\n";

void check_error(const std::string& yaml, const std::string& expected) {
  std::string message = error_of(yaml);
  INFO(message);
  CHECK(message.find("dir/r.yaml: ") == 0);
  CHECK(message.find(expected) != std::string::npos);
}

}  // namespace

TEST_CASE("recipe: a full recipe fills every field") {
  Recipe r = parse_recipe(kFull, "dir/full.yaml");
  CHECK(r.path == "dir/full.yaml");
  CHECK(r.name == "full");
  CHECK(r.seed == 7);
  CHECK(r.epochs == 3);
  CHECK(r.batch_size == 64);
  CHECK(r.threads == 2);
  CHECK(r.data.dir == "/data/fm");
  CHECK(r.data.limit_train == 1000);
  CHECK(r.data.limit_test == 200);
  CHECK(r.data.crop_padding == 0);
  CHECK(r.data.flip);
  CHECK(r.data.augments());
  CHECK(r.data.labeled == 100);
  CHECK(r.data.labeled_batch_size == 16);
  REQUIRE(r.teachers.size() == 1);
  CHECK(r.teachers[0].model == "resnet20");
  CHECK(r.teachers[0].weights == "dir/weights/r20.safetensors");  // relative to the recipe
  CHECK(!r.teachers[0].train);
  CHECK(r.teachers[0].train_mode);
  CHECK(r.student == "resnet8");
  CHECK(r.optimizer.name == "sgd");
  CHECK(r.optimizer.lr == 0.1);
  CHECK(r.optimizer.momentum == 0.8);
  CHECK(r.optimizer.weight_decay == 1e-4);
  CHECK(r.optimizer.nesterov);
  CHECK(r.schedule.name == "step");
  CHECK(r.schedule.step_size == 2);
  CHECK(r.schedule.warmup_epochs == 1);
  REQUIRE(r.experiments.size() == 2);
  CHECK(r.experiments[0].name == "baseline");  // added first
  REQUIRE(r.experiments[0].objectives.size() == 1);
  CHECK(r.experiments[0].objectives[0].name == "ce");
  CHECK(r.experiments[0].objectives[0].weight == 1);
  const Experiment& kd = r.experiments[1];
  CHECK(kd.name == "kd");
  REQUIRE(kd.objectives.size() == 2);
  CHECK(kd.objectives[0].name == "ce");
  CHECK(kd.objectives[0].weight == 0.1);
  CHECK(kd.objectives[0].schedule == "constant");
  CHECK(kd.objectives[1].weight == 0.9);
  CHECK(kd.objectives[1].schedule == "warmup");
  CHECK(kd.objectives[1].warmup_epochs == 2);
  CHECK(kd.objectives[1].params ==
        std::map<std::string, std::string>{{"T", "2"}, {"standardize", "true"}});
  std::vector<Term> terms = make_terms(r, kd, {});
  REQUIRE(terms.size() == 2);
  CHECK(terms[1].objective->name() == "kd");
  CHECK(terms[1].weight_at({.epoch = 0, .epochs = 3}) == doctest::Approx(0.45));
}

TEST_CASE("recipe: defaults, a trained teacher, teachers as a list, baseline off") {
  Recipe r = parse_recipe(kMinimal, "m.yaml");
  CHECK(r.epochs == 15);
  CHECK(r.batch_size == 128);
  CHECK(r.data.crop_padding == 2);
  CHECK(r.optimizer.lr == 0.05);
  CHECK(r.schedule.name == "cosine");
  REQUIRE(r.teachers.size() == 1);
  REQUIRE(r.teachers[0].train);
  CHECK(r.teachers[0].train->epochs == 1);
  CHECK(r.teachers[0].train->batch_size == 128);  // the recipe's
  CHECK(r.teachers[0].train->optimizer.lr == 0.05);
  REQUIRE(r.experiments.size() == 1);
  CHECK(r.experiments[0].name == "baseline");

  Recipe two = parse_recipe(R"(
name: two
optimizer: {lr: 0.2}
teachers:
  - {model: resnet20, train: {epochs: 2, optimizer: {name: adam, lr: 0.001}}}
  - {model: resnet14, weights: /abs/w.safetensors}
student: {model: resnet8}
baseline: false
experiments:
  - {name: kd1, objectives: [{name: kd}]}
)",
                            "two.yaml");
  REQUIRE(two.teachers.size() == 2);
  CHECK(two.teachers[0].train->optimizer.name == "adam");
  CHECK(two.teachers[0].train->optimizer.lr == 0.001);
  CHECK(two.teachers[1].weights == "/abs/w.safetensors");
  REQUIRE(two.experiments.size() == 1);
  CHECK(two.experiments[0].name == "kd1");
}

TEST_CASE("recipe: the shipped recipes parse and build their objectives") {
  for (const char* file : {"fmnist-demo.yaml", "fmnist-resnet20-resnet8.yaml", "fmnist-dml.yaml"}) {
    std::string path = std::string(TUTOR_TESTS_DIR) + "/../distill/recipes/" + file;
    INFO(path);
    Recipe r = load_recipe(path);
    CHECK(r.experiments.size() >= 2);
    for (const Experiment& e : r.experiments) CHECK_NOTHROW(make_terms(r, e, {}));
  }
  Recipe parity = load_recipe(std::string(TUTOR_TESTS_DIR) +
                              "/../distill/recipes/fmnist-resnet20-resnet8.yaml");
  CHECK(parity.epochs == 15);
  CHECK(parity.batch_size == 128);
  CHECK(parity.data.crop_padding == 2);
  CHECK(parity.optimizer.lr == 0.05);
  CHECK(parity.optimizer.momentum == 0.9);
  CHECK(parity.optimizer.weight_decay == 5e-4);
  CHECK(parity.schedule.name == "cosine");
  CHECK(parity.teachers.at(0).model == "resnet20");
  CHECK(parity.student == "resnet8");
}

TEST_CASE("recipe: unknown keys are errors naming the key path and the known keys") {
  check_error(std::string(kMinimal) + "epoch: 3\n", "epoch: unknown key (known here: name, seed");
  check_error(std::string(kMinimal) + "data: {limit: 3}\n", "data.limit: unknown key");
  check_error(std::string(kMinimal) + "optimizer: {name: sgd, beta: 1}\n",
              "optimizer.beta: unknown key");
  check_error(
      "name: m\nteacher: {model: resnet8, train: {epochs: 1, lr: 3}}\nstudent: "
      "{model: resnet8}\n",
      "teacher.train.lr: unknown key (known here: epochs, batch_size, optimizer, schedule)");
  check_error(std::string(kMinimal) +
                  "experiments:\n  - {name: a, objectives: [{name: kd}]}\n"
                  "  - {name: b, objectives: [{name: ce}, {name: kd, params: {T: 2, tau: 1}}]}\n",
              "experiments[1].objectives[1].params.tau: unknown parameter of objective kd (known: "
              "T, standardize, scale_t2)");
  check_error(std::string(kMinimal) + "experiments:\n  - {name: a, objectives: [{name: kdd}]}\n",
              "experiments[0].objectives[0].name: expected a registered objective (");
  check_error(std::string(kMinimal) + "experiments:\n  - {name: a, objectives: [{nam: kd}]}\n",
              "experiments[0].objectives[0].name: expected an objective name, got nothing");
}

TEST_CASE("recipe: wrong values are errors naming the key path and what was expected") {
  check_error(std::string(kMinimal) + "epochs: 0\n",
              "epochs: expected a positive integer, got '0'");
  check_error(std::string(kMinimal) + "epochs: 2.5\n", "epochs: expected a positive integer");
  check_error(std::string(kMinimal) + "seed: -1\n", "seed: expected an integer >= 0, got '-1'");
  check_error(std::string(kMinimal) + "batch_size: [1, 2]\n",
              "batch_size: expected a positive integer, got a list");
  check_error(std::string(kMinimal) + "optimizer: {lr: 0}\n",
              "optimizer.lr: expected a number > 0, got '0'");
  check_error(std::string(kMinimal) + "optimizer: {lr: nan}\n", "optimizer.lr: expected a number");
  check_error(std::string(kMinimal) + "optimizer: {name: rmsprop}\n",
              "optimizer.name: expected one of sgd, adam, adamw, got 'rmsprop'");
  check_error(std::string(kMinimal) + "schedule: {name: linear}\n",
              "schedule.name: expected one of cosine, step, constant");
  check_error(std::string(kMinimal) + "data: {flip: maybe}\n",
              "data.flip: expected true or false, got 'maybe'");
  check_error(std::string(kMinimal) + "data: {name: cifar10}\n",
              "data.name: expected one of fashion-mnist");
  check_error(std::string(kMinimal) + "data: {limit_train: 100, labeled: 100}\n",
              "data.labeled: expected fewer labeled images than limit_train = 100");
  check_error(std::string(kMinimal) + "data: 3\n", "data: expected a mapping of keys to values");
  check_error(
      std::string(kMinimal) + "experiments:\n  - {name: a, objectives: [{name: kd, weight: x}]}\n",
      "experiments[0].objectives[0].weight: expected a number, got 'x'");
  check_error(std::string(kMinimal) +
                  "experiments:\n  - {name: a, objectives: [{name: kd, schedule: step}]}\n",
              "experiments[0].objectives[0].schedule: expected one of constant, warmup, cosine");
  check_error(std::string(kMinimal) +
                  "experiments:\n  - {name: a, objectives: [{name: kd, schedule: warmup}]}\n",
              "experiments[0].objectives[0].warmup_epochs: expected a positive integer");
  check_error(std::string(kMinimal) +
                  "experiments:\n  - {name: a, objectives: [{name: kd, params: {T: [1]}}]}\n",
              "experiments[0].objectives[0].params.T: expected a number, word or flag, got a list");
  check_error(std::string(kMinimal) + "experiments:\n  - {name: a, objectives: []}\n",
              "experiments[0].objectives: expected a non-empty list of objectives");
  check_error(std::string(kMinimal) + "experiments:\n  - {name: a/b, objectives: [{name: kd}]}\n",
              "experiments[0].name: expected a name of letters, digits");
  check_error(
      std::string(kMinimal) + "experiments:\n  - {name: baseline, objectives: [{name: kd}]}\n",
      "experiments[0].name: expected a name other than 'baseline'");
  check_error(std::string(kMinimal) +
                  "experiments:\n  - {name: a, objectives: [{name: kd}]}\n"
                  "  - {name: a, objectives: [{name: kd}]}\n",
              "experiments[1].name: the experiment name 'a' is used twice");
  check_error(std::string(kMinimal) + "schedule: {warmup_epochs: 15}\n",
              "schedule.warmup_epochs: expected fewer than the 15 epochs, got 15");
  check_error("name: m\nteacher: {model: resnet8}\nstudent: {model: resnet8}\n",
              "teacher: expected exactly one of `weights: FILE` and `train:");
  check_error(
      "name: m\nteacher: {model: resnet8, weights: a, train: {epochs: 1}}\n"
      "student: {model: resnet8}\n",
      "teacher: expected exactly one of");
  check_error("name: m\nteacher: {model: resnet8, train: {}}\nstudent: {model: resnet8}\n",
              "teacher.train.epochs: expected a positive integer, got nothing");
  check_error(
      "name: m\nteacher: {model: resnet8, weights: w, mode: frozen}\n"
      "student: {model: resnet8}\n",
      "teacher.mode: expected one of eval, train, got 'frozen'");
  check_error(
      "name: m\nstudent: {model: resnet8}\nexperiments:\n"
      "  - {name: a, objectives: [{name: kd}]}\n",
      "experiments[0].objectives[0]: objective kd reads teacher.logits, but the recipe has "
      "0 teacher(s)");
  check_error("teacher: {model: resnet8, weights: w}\nstudent: {model: resnet8}\n",
              "name: expected the recipe's name, got nothing");
  check_error(std::string(kMinimal) + "baseline: false\n",
              "experiments: expected at least one experiment");
}

TEST_CASE("recipe: a bad objective parameter value names the experiment and the objective") {
  Recipe r = parse_recipe(std::string(kMinimal) +
                              "experiments:\n  - {name: a, objectives: [{name: kd, params: "
                              "{T: -1}}, {name: kd, params: {T: hot}}]}\n",
                          "dir/r.yaml");
  std::string message;
  try {
    make_terms(r, r.experiments.at(1), {});
  } catch (const Error& e) {
    message = e.what();
  }
  INFO(message);
  CHECK(message.find("dir/r.yaml: experiment 'a', objectives[0].params: objective kd: T must be "
                     "positive, got -1") == 0);
}

TEST_CASE("recipe: hostile files are errors, never crashes") {
  check_error("name: [unclosed\n", "not valid YAML");
  check_error("", "the document: expected a mapping of keys to values, got nothing");
  check_error("- a\n- b\n", "the document: expected a mapping of keys to values, got a list");
  check_error("\t\x01\xff: :\n", "");
  check_error(std::string(5000, '[') + std::string(5000, ']'), "");  // yaml-cpp's depth guard
  check_error("name: m\n? [a, b]\n: 1\nstudent: {model: resnet8}\n", "");
  check_error("name: &a m\nstudent: *a\n", "student: expected a mapping of keys to values");
  std::string message;
  try {
    load_recipe("/nonexistent/recipe.yaml");
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK(message == "/nonexistent/recipe.yaml: cannot open the recipe");
}

TEST_CASE("recipe: teacher_outputs names a file relative to the recipe and a mode") {
  Recipe plain = parse_recipe(kMinimal, "dir/r.yaml");
  CHECK(plain.teacher_outputs.file.empty());
  Recipe r = parse_recipe(std::string(kMinimal) + "teacher_outputs: {file: out/t.safetensors}\n",
                          "dir/r.yaml");
  CHECK(r.teacher_outputs.file == "dir/out/t.safetensors");
  CHECK(r.teacher_outputs.mode == "auto");
  Recipe w = parse_recipe(
      std::string(kMinimal) + "teacher_outputs: {file: /abs/t.safetensors, mode: write}\n",
      "dir/r.yaml");
  CHECK(w.teacher_outputs.file == "/abs/t.safetensors");
  CHECK(w.teacher_outputs.mode == "write");
  CHECK(parse_recipe(std::string(kMinimal) + "teacher_outputs: {file: t, mode: read}\n",
                     "dir/r.yaml")
            .teacher_outputs.mode == "read");

  check_error(std::string(kMinimal) + "teacher_outputs: {file: t, mode: append}\n",
              "teacher_outputs.mode: expected one of auto, write, read, got 'append'");
  check_error(std::string(kMinimal) + "teacher_outputs: {mode: read}\n",
              "teacher_outputs.file: expected a safetensors file name, got nothing");
  check_error(std::string(kMinimal) + "teacher_outputs: {file: t, path: u}\n",
              "teacher_outputs.path: unknown key (known here: file, mode)");
  check_error(std::string(kMinimal) + "teacher_outputs: t.safetensors\n",
              "teacher_outputs: expected a mapping of keys to values, got 't.safetensors'");
  check_error("name: m\nstudent: {model: resnet8}\nbaseline: true\n"
              "teacher_outputs: {file: t}\n",
              "teacher_outputs: expected a `teacher:` or `teachers:` whose outputs it holds");
}

TEST_CASE("recipe: mixup and gradient alignment are read and checked") {
  Recipe r = parse_recipe(std::string(kMinimal) +
                              "baseline: false\ndata: {crop_padding: 0, mixup: {partial: 0.5}}\n"
                              "experiments:\n  - {name: m, objectives: [{name: mix_kd}]}\n",
                          "dir/r.yaml");
  REQUIRE(r.data.mixup.has_value());
  CHECK(r.data.mixup->partial == 0.5);
  CHECK(r.data.mixup->beta == 1.0);
  CHECK(r.data.augments());  // no teacher-logit cache under mixup
  CHECK(!parse_recipe(kMinimal, "r.yaml").data.mixup.has_value());

  Recipe g = parse_recipe(std::string(kMinimal) +
                              "experiments:\n"
                              "  - name: a\n    gradient_alignment: true\n"
                              "    objectives: [{name: ce}, {name: dhkd}, {name: kd}]\n"
                              "  - name: b\n    gradient_alignment: {ce: [ce, kd]}\n"
                              "    objectives: [{name: ce}, {name: dhkd}, {name: kd}]\n"
                              "  - name: c\n    gradient_alignment: false\n"
                              "    objectives: [{name: ce}, {name: dhkd}]\n",
                          "dir/r.yaml");
  REQUIRE(g.experiments.size() == 4);
  CHECK(g.experiments[0].ce_group.empty());  // the baseline
  CHECK(g.experiments[1].ce_group == std::vector<bool>{true, false, false});
  CHECK(g.experiments[2].ce_group == std::vector<bool>{true, false, true});
  CHECK(g.experiments[3].ce_group.empty());

  std::string mix = std::string(kMinimal) + "data: {mixup: {partial: 0.9}}\n";
  check_error(mix + "experiments:\n  - {name: m, objectives: [{name: mix_kd}]}\n",
              "baseline (the student alone with ce; set `baseline: false`): objective ce reads "
              "labels, which data.mixup replaces by soft_labels");
  check_error(mix + "baseline: false\nexperiments:\n"
                    "  - {name: m, objectives: [{name: mix_kd}, {name: dkd}]}\n",
              "experiments[0].objectives[1]: objective dkd reads labels, which data.mixup");
  check_error(std::string(kMinimal) + "experiments:\n  - {name: m, objectives: [{name: mix_kd}]}\n",
              "experiments[0].objectives[0]: objective mix_kd reads soft_labels, which only "
              "data.mixup provides");
  check_error(std::string(kMinimal) + "data: {mixup: {partial: 1.5}}\n",
              "data.mixup.partial: expected a number in [0, 1], got '1.5'");
  check_error(std::string(kMinimal) + "data: {mixup: {beta: 0}}\n",
              "data.mixup.beta: expected a number > 0, got '0'");
  check_error(std::string(kMinimal) + "data: {mixup: {alpha: 1}}\n",
              "data.mixup.alpha: unknown key (known here: partial, beta)");
  check_error(std::string(kMinimal) + "data: {labeled: 10, mixup: {}}\n",
              "data.mixup: mixup needs every image's label");
  check_error(std::string(kMinimal) +
                  "experiments:\n  - {name: a, gradient_alignment: yes please, objectives: "
                  "[{name: ce}, {name: dhkd}]}\n",
              "experiments[0].gradient_alignment: expected true or false, got 'yes please'");
  check_error(std::string(kMinimal) +
                  "experiments:\n  - {name: a, gradient_alignment: {ce: [nkd]}, objectives: "
                  "[{name: ce}, {name: dhkd}]}\n",
              "experiments[0].gradient_alignment.ce: 'nkd' is not an objective of this experiment");
  check_error(std::string(kMinimal) +
                  "experiments:\n  - {name: a, gradient_alignment: true, objectives: "
                  "[{name: dhkd}]}\n",
              "experiments[0].gradient_alignment: expected both groups non-empty");
  check_error(std::string(kMinimal) +
                  "experiments:\n  - {name: a, gradient_alignment: {group: [ce]}, objectives: "
                  "[{name: ce}, {name: dhkd}]}\n",
              "experiments[0].gradient_alignment.ce: expected a list of objective names");
}

TEST_CASE("recipe: students as a list train together; peers need them; errors name the key") {
  Recipe r = parse_recipe(R"(
name: dml
students:
  - {model: resnet8}
  - model: resnet14
experiments:
  - {name: dml, objectives: [{name: ce}, {name: dml, params: {T: 2}}]}
)",
                          "dml.yaml");
  CHECK(r.students == std::vector<std::string>{"resnet8", "resnet14"});
  CHECK(r.student == "resnet8");
  CHECK(r.teachers.empty());
  REQUIRE(r.experiments.size() == 2);
  CHECK(r.experiments[1].objectives[1].name == "dml");
  // `student:` is a list of one.
  CHECK(parse_recipe(kMinimal, "m.yaml").students == std::vector<std::string>{"resnet8"});

  const std::string body = "name: m\nteacher: {model: resnet8, train: {epochs: 1}}\n";
  check_error(body + "student: {model: resnet8}\nstudents: [{model: resnet8}]\n",
              "expected `student:` or `students:`, not both");
  check_error(body, "student: expected a mapping with `model: NAME`, got nothing");
  check_error(body + "students: []\n",
              "students: expected a non-empty list of students, got a list");
  check_error(body + "students: {model: resnet8}\n", "students: expected a list, got a mapping");
  check_error(body + "students: [{model: resnet8}, {mode: resnet8}]\n",
              "students[1].model: expected a model name, got nothing");
  check_error(body + "students: [{model: resnet8}, {model: resnet8, weights: w}]\n",
              "students[1].weights: unknown key (known here: model)");
  check_error(body + "students: [{model: resnet8}, resnet8]\n",
              "students[1]: expected a mapping of keys to values, got 'resnet8'");
  // dml reads peer.logits: another student.
  check_error(std::string(kMinimal) +
                  "experiments:\n  - {name: a, objectives: [{name: ce}, {name: dml}]}\n",
              "experiments[0].objectives[1]: objective dml reads peer.logits, another student, but "
              "the recipe has 1 student(s)");
}
