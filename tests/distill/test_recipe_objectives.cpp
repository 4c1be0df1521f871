// Recipe keys that objectives beyond logits and labels need (distill/recipes/README.md, "Which
// objectives a recipe drives"): each read into its field, and each wrong use an Error naming the
// file and the key path.
#include <doctest/doctest.h>

#include <string>

#include "distill/recipe.h"
#include "engine/core/error.h"

using namespace tutor;
using namespace tutor::distill;

namespace {

const std::string kBase =
    "name: m\nbatch_size: 64\noptimizer: {lr: 0.2}\nstudent: {model: resnet8}\n";

// `yaml` fails to parse (as "dir/r.yaml") with a message holding `expected` after the file name.
void check_refused(const std::string& yaml, const std::string& expected) {
  std::string message;
  try {
    parse_recipe(yaml, "dir/r.yaml");
  } catch (const Error& e) {
    message = e.what();
  }
  INFO(yaml);
  INFO(message);
  REQUIRE(!message.empty());
  CHECK(message.find("dir/r.yaml: ") == 0);
  CHECK(message.find(expected) != std::string::npos);
}

}  // namespace

TEST_CASE("recipe: sskd's teacher ss_module and rotation batches") {
  Recipe r = parse_recipe(kBase +
                              "teacher:\n  model: resnet8\n  train: {epochs: 1}\n"
                              "  ss_module: {epochs: 3, optimizer: {momentum: 0.5}}\n"
                              "experiments:\n  - name: s\n    rotations: true\n"
                              "    objectives: [{name: sskd}]\n"
                              "  - {name: a, rotations: true, objectives: [{name: sskd_aux}]}\n"
                              "  - {name: k, objectives: [{name: kd}]}\n",
                          "dir/r.yaml");
  REQUIRE(r.teachers.size() == 1);
  REQUIRE(r.teachers[0].ss_module.has_value());
  const TeacherTraining& ss = *r.teachers[0].ss_module;
  CHECK(ss.epochs == 3);
  CHECK(ss.batch_size == 64);     // the recipe's
  CHECK(ss.optimizer.lr == 0.2);  // the recipe's, with the given keys overriding
  CHECK(ss.optimizer.momentum == 0.5);
  CHECK(ss.schedule.name == "cosine");
  REQUIRE(r.experiments.size() == 4);
  CHECK(!r.experiments[0].rotations);  // the baseline
  CHECK(r.experiments[1].rotations);
  CHECK(r.experiments[2].rotations);
  CHECK(!r.experiments[3].rotations);
  CHECK(!parse_recipe(kBase + "teacher: {model: resnet8, train: {epochs: 1}}\n", "r.yaml")
             .teachers[0]
             .ss_module);

  const std::string teacher = "teacher: {model: resnet8, train: {epochs: 1}, ss_module: ";
  check_refused(kBase + teacher + "{batch_size: 8}}\n",
                "teacher.ss_module.epochs: expected a positive integer, got nothing");
  check_refused(kBase + teacher + "{epochs: 1, lr: 0.1}}\n",
                "teacher.ss_module.lr: unknown key (known here: epochs, batch_size, optimizer, "
                "schedule)");
  check_refused(kBase + teacher + "{epochs: 2, schedule: {warmup_epochs: 2}}}\n",
                "teacher.ss_module.schedule.warmup_epochs: expected fewer than the 2 epochs");
  check_refused(kBase + teacher + "yes}\n",
                "teacher.ss_module: expected a mapping of keys to values, got 'yes'");
  const std::string with_ss = kBase + teacher + "{epochs: 1}}\n";
  check_refused(with_ss + "experiments:\n  - {name: s, rotations: 2, objectives: [{name: ce}]}\n",
                "experiments[0].rotations: expected true or false, got '2'");
  check_refused(with_ss + "experiments:\n  - {name: s, objectives: [{name: ce}, {name: sskd}]}\n",
                "experiments[0].objectives[1]: objective sskd reads student.ss_feat, the ss "
                "module's outputs on rotation batches: set `rotations: true` on the experiment");
  check_refused(with_ss + "experiments:\n  - {name: s, objectives: [{name: sskd_aux}]}\n",
                "experiments[0].objectives[0]: objective sskd_aux reads student.ss_feat");
  check_refused(kBase +
                    "teacher: {model: resnet8, train: {epochs: 1}}\nexperiments:\n"
                    "  - {name: s, rotations: true, objectives: [{name: sskd}]}\n",
                "experiments[0].objectives[0]: objective sskd reads teacher.ss_feat, but teacher "
                "has no `ss_module: {epochs: N, ...}`");
  for (const auto& [data, clash] :
       {std::pair{"data: {labeled: 10}\n", "data.labeled"},
        std::pair{"data: {mixup: {}}\nbaseline: false\n", "data.mixup"},
        std::pair{"teacher_outputs: {file: t.safetensors}\n", "teacher_outputs"}})
    check_refused(
        with_ss + data + "experiments:\n  - {name: s, rotations: true, objectives: [{name: kd}]}\n",
        std::string("experiments[0].rotations: rotation batches cannot be combined "
                    "with ") +
            clash);
}

TEST_CASE("recipe: fmnist-objectives.yaml has one experiment per objective and builds them") {
  Recipe r =
      load_recipe(std::string(TUTOR_TESTS_DIR) + "/../distill/recipes/fmnist-objectives.yaml");
  std::vector<std::string> names;
  for (const Experiment& e : r.experiments) {
    names.push_back(e.name);
    CHECK_NOTHROW(make_terms(r, e, {}));
  }
  CHECK(names == std::vector<std::string>{"baseline", "sskd", "wkd-l", "mlkd", "lelp"});
  CHECK(r.data.strong_view->ops == 2);
  CHECK(r.lelp_projection->per_class == 100);
  CHECK(subclasses_per_class(r.experiments[4]) == 2);
  CHECK(r.cost_matrix->features == "layer3");
  CHECK(r.experiments[1].rotations);
  CHECK(r.teachers.at(0).ss_module->epochs == 3);
}

TEST_CASE("recipe: wkd_l's cost_matrix from a file or from the teacher's features") {
  const std::string teacher = "teacher: {model: resnet8, train: {epochs: 1}}\n";
  const std::string wkd = "experiments:\n  - {name: w, objectives: [{name: wkd_l}]}\n";
  Recipe f =
      parse_recipe(kBase + teacher + "cost_matrix: {file: m/M.safetensors}\n" + wkd, "dir/r.yaml");
  REQUIRE(f.cost_matrix.has_value());
  CHECK(f.cost_matrix->file == "dir/m/M.safetensors");  // relative to the recipe
  CHECK(f.cost_matrix->features.empty());
  Recipe c = parse_recipe(
      kBase + teacher + "cost_matrix: {features: layer3, per_class: 50, sharpen: 0}\n" + wkd,
      "dir/r.yaml");
  CHECK(c.cost_matrix->file.empty());
  CHECK(c.cost_matrix->features == "layer3");
  CHECK(c.cost_matrix->per_class == 50);
  CHECK(c.cost_matrix->sharpen == 0);
  Recipe d = parse_recipe(kBase + teacher + "cost_matrix: {features: logits}\n", "dir/r.yaml");
  CHECK(d.cost_matrix->per_class == 100);
  CHECK(d.cost_matrix->sharpen == 1);

  check_refused(kBase + teacher + wkd,
                "experiments[0].objectives[0]: objective wkd_l reads cost_matrix: add "
                "`cost_matrix: {file: FILE}` or `cost_matrix: {features: TAP}` to the recipe");
  check_refused(kBase + teacher + "cost_matrix: {}\n",
                "cost_matrix: expected exactly one of `file: FILE` and `features: TAP`");
  check_refused(kBase + teacher + "cost_matrix: {file: a, features: logits}\n",
                "cost_matrix: expected exactly one of");
  check_refused(kBase + teacher + "cost_matrix: {file: a, per_class: 3}\n",
                "cost_matrix.per_class: only with `features:`");
  check_refused(kBase + teacher + "cost_matrix: {features: logits, per_class: 0}\n",
                "cost_matrix.per_class: expected a positive integer, got '0'");
  check_refused(kBase + teacher + "cost_matrix: {features: logits, sharpen: -1}\n",
                "cost_matrix.sharpen: expected a number >= 0, got '-1'");
  check_refused(kBase + teacher + "cost_matrix: {features: logits, kappa: 1}\n",
                "cost_matrix.kappa: unknown key (known here: file, features, per_class, sharpen)");
  check_refused(kBase + "cost_matrix: {features: logits}\n",
                "cost_matrix.features: expected a `teacher:` whose features it reads");
  check_refused(kBase + teacher + "cost_matrix: [1, 2]\n",
                "cost_matrix: expected a mapping of keys to values, got a list");
}

TEST_CASE("recipe: mlkd's strong view and objectives on it") {
  const std::string teacher = "teacher: {model: resnet8, train: {epochs: 1}}\n";
  const std::string mlkd =
      "experiments:\n  - name: m\n    objectives:\n"
      "      - {name: ce, weight: 0.1}\n"
      "      - {name: ce, weight: 0.1, view: strong}\n"
      "      - {name: mlkd, weight: 0.9}\n";
  Recipe r = parse_recipe(
      kBase + teacher + "data: {crop_padding: 0, strong_view: {ops: 3}}\n" + mlkd, "r.yaml");
  REQUIRE(r.data.strong_view.has_value());
  CHECK(r.data.strong_view->ops == 3);
  CHECK(!r.data.augments());  // the weak view is the images as they are
  REQUIRE(r.experiments.size() == 2);
  CHECK(r.experiments[1].objectives[0].view == "weak");
  CHECK(r.experiments[1].objectives[1].view == "strong");
  std::vector<Term> terms = make_terms(r, r.experiments[1], {});
  CHECK(terms[1].objective->name() == "ce[strong]");
  CHECK(terms[1].objective->inputs() ==
        std::vector<std::string>{"student.logits_strong", "labels"});
  CHECK(
      parse_recipe(kBase + teacher + "data: {strong_view: {}}\n", "r.yaml").data.strong_view->ops ==
      2);

  check_refused(kBase + teacher + mlkd,
                "experiments[0].objectives[1]: objective ce reads the strong view's logits: add "
                "`strong_view: {ops: 2}` to `data:`");
  check_refused(kBase + teacher + "experiments:\n  - {name: m, objectives: [{name: mlkd}]}\n",
                "experiments[0].objectives[0]: objective mlkd reads the strong view's logits");
  check_refused(kBase + teacher + "data: {strong_view: {ops: -1}}\n",
                "data.strong_view.ops: expected an integer >= 0, got '-1'");
  check_refused(kBase + teacher + "data: {strong_view: {n: 2}}\n",
                "data.strong_view.n: unknown key (known here: ops)");
  check_refused(kBase + teacher + "data: {strong_view: {}, labeled: 10}\n",
                "data.strong_view: the strong view cannot be combined with `labeled`");
  check_refused(kBase + teacher + "data: {strong_view: {}, mixup: {}}\nbaseline: false\n",
                "data.strong_view: the strong view cannot be combined with `mixup`");
  check_refused(
      kBase + teacher + "data: {strong_view: {}}\nteacher_outputs: {file: t.safetensors}\n",
      "teacher_outputs: the stored outputs are of single un-augmented images");
  check_refused(kBase + teacher +
                    "data: {strong_view: {}}\nexperiments:\n"
                    "  - {name: m, rotations: true, objectives: [{name: mlkd}]}\n",
                "experiments[0].objectives[0]: objective mlkd reads the strong view's logits, "
                "which an experiment with rotation batches does not have");
  check_refused(kBase + teacher +
                    "experiments:\n  - {name: m, objectives: [{name: ce, view: "
                    "both}]}\n",
                "experiments[0].objectives[0].view: expected one of weak, strong, got 'both'");
}

TEST_CASE("recipe: multi_aspect's aspect_targets file") {
  const std::string teacher = "teacher: {model: resnet8, train: {epochs: 1}}\n";
  const std::string aspects =
      "experiments:\n  - {name: a, objectives: [{name: ce}, {name: multi_aspect}]}\n";
  Recipe r = parse_recipe(kBase + "aspect_targets: {file: q/aspects.safetensors}\n" + aspects,
                          "dir/r.yaml");
  CHECK(r.aspect_targets == "dir/q/aspects.safetensors");  // relative to the recipe
  CHECK(parse_recipe(kBase, "r.yaml").aspect_targets.empty());
  check_refused(kBase + aspects,
                "experiments[0].objectives[1]: objective multi_aspect reads aspect_targets: add "
                "`aspect_targets: {file: FILE}` to the recipe");
  check_refused(kBase + "aspect_targets: {}\n",
                "aspect_targets.file: expected a safetensors file name, got nothing");
  check_refused(kBase + "aspect_targets: {file: a, rows: 3}\n",
                "aspect_targets.rows: unknown key (known here: file)");
  check_refused(
      kBase + teacher +
          "aspect_targets: {file: a}\nexperiments:\n"
          "  - {name: a, rotations: true, objectives: [{name: multi_aspect}]}\n",
      "experiments[0].objectives[0]: objective multi_aspect reads aspect_targets, one row "
      "per image, which rotation batches do not keep");
}

TEST_CASE("recipe: lelp's projection and its C*k-way student") {
  const std::string teacher = "teacher: {model: resnet8, train: {epochs: 1}}\n";
  const std::string lelp =
      "experiments:\n  - {name: l, objectives: [{name: lelp, params: {k: 3}}]}\n";
  Recipe r = parse_recipe(kBase + teacher + "lelp_projection: {per_class: 50}\n" + lelp, "r.yaml");
  REQUIRE(r.lelp_projection);
  CHECK(r.lelp_projection->per_class == 50);
  CHECK(subclasses_per_class(r.experiments[1]) == 3);
  CHECK(subclasses_per_class(r.experiments[0]) == 1);  // the baseline
  CHECK(parse_recipe(kBase + teacher + "lelp_projection: {}\n", "r.yaml")
            .lelp_projection->per_class == 100);
  // A given projection file is relative to the recipe and needs no lelp_projection; k defaults
  // to the objective's 2.
  r = parse_recipe(kBase + teacher +
                       "experiments:\n  - {name: l, objectives: [{name: lelp, params: "
                       "{projection: p/P.safetensors}}]}\n",
                   "dir/r.yaml");
  CHECK(r.experiments[1].objectives[0].params.at("projection") == "dir/p/P.safetensors");
  CHECK(subclasses_per_class(r.experiments[1]) == 2);

  check_refused(kBase + teacher + lelp,
                "experiments[0].objectives[0]: objective lelp needs a projection: add "
                "`lelp_projection: {per_class: N}` to the recipe");
  check_refused(kBase + "lelp_projection: {per_class: 5}\n",
                "lelp_projection: expected a `teacher:` whose embeddings it reads");
  check_refused(kBase + teacher + "lelp_projection: {per_class: 0}\n",
                "lelp_projection.per_class: expected");
  check_refused(kBase + teacher + "lelp_projection: {file: a}\n",
                "lelp_projection.file: unknown key (known here: per_class)");
  const std::string fitted = kBase + teacher + "lelp_projection: {}\n";
  check_refused(fitted + "experiments:\n  - {name: l, objectives: [{name: ce}, {name: lelp}]}\n",
                "experiments[0].objectives[0]: objective ce reads student.logits, which lelp "
                "(objectives[1]) makes C*k-way (lelp has its own ce part)");
  check_refused(fitted + "experiments:\n  - {name: l, objectives: [{name: lelp}, {name: lelp}]}\n",
                "experiments[0].objectives[1]: a second lelp objective");
  check_refused(
      fitted + "experiments:\n  - {name: l, rotations: true, objectives: [{name: lelp}]}\n",
      "experiments[0].objectives[0]: objective lelp in an experiment with rotation "
      "batches is not supported");
  check_refused(fitted +
                    "data: {strong_view: {ops: 2}}\nexperiments:\n  - {name: l, objectives: "
                    "[{name: lelp, view: strong}]}\n",
                "experiments[0].objectives[0].view: objective lelp reads the weak view only");
  check_refused("name: m\nbatch_size: 64\noptimizer: {lr: 0.2}\n" + teacher +
                    "lelp_projection: {}\nstudents: [{model: resnet8}, {model: resnet8}]\n"
                    "experiments:\n  - {name: l, objectives: [{name: lelp}]}\n",
                "experiments[0].objectives[0]: objective lelp with several students");
}
