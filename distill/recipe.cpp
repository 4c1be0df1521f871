#include "distill/recipe.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "distill/distiller.h"
#include "distill/objective.h"
#include "distill/strong_view.h"
#include "engine/core/error.h"

namespace tutor::distill {

int64_t DataSpec::held_out_count(int64_t train) const {
  if (held_out <= 0) return 0;
  return held_out < 1 ? std::max<int64_t>(1, int64_t(std::llround(held_out * double(train))))
                      : int64_t(held_out);
}

namespace {

// A YAML node with its key path ("experiments[1].objectives[0]") and the file it came from, so
// every complaint names both. Mappings are read key by key; done() rejects the keys nobody read.
class Node {
 public:
  Node(YAML::Node node, std::string path, const std::string* origin)
      : node_(std::move(node)), path_(std::move(path)), origin_(origin) {}

  [[noreturn]] void fail_here(const std::string& expected) const {
    std::string where = path_.empty() ? "the document" : path_;
    std::string got = describe();
    fail("{}: {}: expected {}, got {}", *origin_, where, expected, got);
  }

  bool is_map() const { return node_.IsMap(); }
  bool is_null() const { return !node_.IsDefined() || node_.IsNull(); }

  void expect_map() const {
    if (!node_.IsMap()) fail_here("a mapping of keys to values");
  }

  bool has(const std::string& key) {
    expect_map();
    seen_.insert(key);
    return bool(node_[key]);
  }

  Node at(const std::string& key) {
    expect_map();
    seen_.insert(key);
    return Node(node_[key], join(key), origin_);
  }

  std::vector<Node> items() const {
    if (!node_.IsSequence()) fail_here("a list");
    std::vector<Node> out;
    for (size_t i = 0; i < node_.size(); ++i)
      out.emplace_back(node_[i], fmt::format("{}[{}]", path_, i), origin_);
    return out;
  }

  // The keys of a mapping, for free-form maps such as params.
  std::vector<std::pair<std::string, Node>> entries() const {
    expect_map();
    std::vector<std::pair<std::string, Node>> out;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (!it->first.IsScalar())
        fail("{}: {}: keys must be plain words", *origin_, path_.empty() ? "the document" : path_);
      std::string key = it->first.Scalar();
      out.emplace_back(key, Node(it->second, join(key), origin_));
    }
    return out;
  }

  // Every key of this mapping was read by someone: an unknown one is an Error listing the known.
  void done(const std::vector<std::string>& known) const {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string("<not a word>");
      if (std::find(known.begin(), known.end(), key) == known.end())
        fail("{}: {}: unknown key (known here: {})", *origin_, join(key), fmt::join(known, ", "));
    }
  }

  std::string scalar(const std::string& expected) const {
    if (!node_.IsScalar()) fail_here(expected);
    return node_.Scalar();
  }

  std::string text() const {
    std::string s = scalar("a word or text");
    if (s.empty()) fail_here("a non-empty text");
    return s;
  }

  std::string choice(const std::vector<std::string>& options) const {
    std::string expected = fmt::format("one of {}", fmt::join(options, ", "));
    std::string s = scalar(expected);
    if (std::find(options.begin(), options.end(), s) == options.end()) fail_here(expected);
    return s;
  }

  int64_t integer(int64_t lo, const std::string& expected) const {
    std::string s = scalar(expected);
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < lo) fail_here(expected);
    return v;
  }

  double real(double lo, bool open, const std::string& expected) const {
    std::string s = scalar(expected);
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) ||
        (open ? !(v > lo) : !(v >= lo)))
      fail_here(expected);
    return v;
  }

  bool boolean() const {
    std::string s = scalar("true or false");
    if (s == "true" || s == "True" || s == "yes") return true;
    if (s == "false" || s == "False" || s == "no") return false;
    fail_here("true or false");
  }

  const std::string& path() const { return path_; }
  const std::string& origin() const { return *origin_; }

 private:
  std::string join(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  std::string describe() const {
    if (!node_.IsDefined() || node_.IsNull()) return "nothing";
    if (node_.IsSequence()) return "a list";
    if (node_.IsMap()) return "a mapping";
    std::string s = node_.Scalar();
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return "'" + s + "'";
  }

  YAML::Node node_;
  std::string path_;
  const std::string* origin_;
  std::set<std::string> seen_;
};

const char* kPositive = "a positive integer";
const char* kCount = "an integer >= 0";

OptimizerSpec read_optimizer(Node n, OptimizerSpec o) {
  if (n.has("name")) o.name = n.at("name").choice({"sgd", "adam", "adamw"});
  if (n.has("lr")) o.lr = n.at("lr").real(0, true, "a number > 0");
  if (n.has("momentum")) o.momentum = n.at("momentum").real(0, false, "a number >= 0");
  if (n.has("weight_decay")) o.weight_decay = n.at("weight_decay").real(0, false, "a number >= 0");
  if (n.has("nesterov")) o.nesterov = n.at("nesterov").boolean();
  n.done({"name", "lr", "momentum", "weight_decay", "nesterov"});
  if (o.nesterov && !(o.name == "sgd" && o.momentum > 0))
    fail("{}: {}: nesterov needs the sgd optimizer with momentum > 0", n.origin(), n.path());
  return o;
}

ScheduleSpec read_schedule(Node n, ScheduleSpec s) {
  if (n.has("name")) s.name = n.at("name").choice({"cosine", "step", "constant"});
  if (n.has("step_size")) s.step_size = n.at("step_size").integer(1, kPositive);
  if (n.has("warmup_epochs")) s.warmup_epochs = n.at("warmup_epochs").integer(0, kCount);
  n.done({"name", "step_size", "warmup_epochs"});
  return s;
}

DataSpec read_data(Node n) {
  DataSpec d;
  if (n.has("name")) d.name = n.at("name").choice({"fashion-mnist"});
  if (n.has("dir")) d.dir = n.at("dir").text();
  if (n.has("limit_train")) d.limit_train = n.at("limit_train").integer(0, kCount);
  if (n.has("limit_test")) d.limit_test = n.at("limit_test").integer(0, kCount);
  if (n.has("crop_padding")) d.crop_padding = n.at("crop_padding").integer(0, kCount);
  if (n.has("flip")) d.flip = n.at("flip").boolean();
  if (n.has("labeled")) d.labeled = n.at("labeled").integer(0, kCount);
  if (n.has("labeled_batch_size"))
    d.labeled_batch_size = n.at("labeled_batch_size").integer(1, kPositive);
  if (n.has("held_out")) {
    Node h = n.at("held_out");
    const char* expected = "a fraction in (0, 1) or a count of images >= 1";
    d.held_out = h.real(0, false, expected);
    if (d.held_out > 1 && d.held_out != std::floor(d.held_out)) h.fail_here(expected);
  }
  if (n.has("mixup")) {
    Node m = n.at("mixup");
    m.expect_map();
    MixupSpec mix;
    if (m.has("partial")) {
      Node partial = m.at("partial");
      mix.partial = partial.real(0, false, "a number in [0, 1]");
      if (mix.partial > 1) partial.fail_here("a number in [0, 1]");
    }
    if (m.has("beta")) mix.beta = m.at("beta").real(0, true, "a number > 0");
    m.done({"partial", "beta"});
    d.mixup = mix;
  }
  if (n.has("strong_view")) {
    Node v = n.at("strong_view");
    v.expect_map();
    StrongViewSpec strong;
    if (v.has("ops")) strong.ops = v.at("ops").integer(0, kCount);
    v.done({"ops"});
    d.strong_view = strong;
  }
  n.done({"name", "dir", "limit_train", "limit_test", "crop_padding", "flip", "labeled",
          "labeled_batch_size", "held_out", "mixup", "strong_view"});
  if (d.strong_view && (d.labeled > 0 || d.mixup))
    fail("{}: {}.strong_view: the strong view cannot be combined with {}", n.origin(), n.path(),
         d.labeled > 0 ? "`labeled`" : "`mixup`");
  if (d.held_out > 0 && d.labeled > 0)
    fail("{}: {}.held_out: a held-out split cannot be combined with `labeled`", n.origin(),
         n.path());
  if (d.held_out >= 1 && d.limit_train > 0 && d.held_out >= double(d.limit_train))
    fail("{}: {}.held_out: expected fewer held-out images than limit_train = {}, got {}",
         n.origin(), n.path(), d.limit_train, d.held_out);
  if (d.mixup && d.labeled > 0)
    fail("{}: {}.mixup: mixup needs every image's label; it cannot be combined with `labeled`",
         n.origin(), n.path());
  if (d.labeled > 0 && d.limit_train > 0 && d.labeled >= d.limit_train)
    fail("{}: {}.labeled: expected fewer labeled images than limit_train = {}, got {}", n.origin(),
         n.path(), d.limit_train, d.labeled);
  return d;
}

std::string resolve(const std::string& origin, const std::string& file) {
  std::filesystem::path p(file);
  if (p.is_absolute() || origin.empty()) return file;
  return (std::filesystem::path(origin).parent_path() / p).lexically_normal().string();
}

// A training block (`train:` of a teacher, `ss_module:`): epochs required, the rest defaulting to
// the recipe's own.
TeacherTraining read_training(Node tr, const Recipe& r) {
  tr.expect_map();
  TeacherTraining training;
  training.batch_size = r.batch_size;
  training.optimizer = r.optimizer;
  training.schedule = r.schedule;
  if (!tr.has("epochs")) tr.at("epochs").fail_here(kPositive);
  training.epochs = tr.at("epochs").integer(1, kPositive);
  if (tr.has("batch_size")) training.batch_size = tr.at("batch_size").integer(1, kPositive);
  if (tr.has("optimizer")) training.optimizer = read_optimizer(tr.at("optimizer"), r.optimizer);
  if (tr.has("schedule")) training.schedule = read_schedule(tr.at("schedule"), r.schedule);
  tr.done({"epochs", "batch_size", "optimizer", "schedule"});
  if (training.schedule.warmup_epochs >= training.epochs)
    fail("{}: {}.schedule.warmup_epochs: expected fewer than the {} epochs, got {}", tr.origin(),
         tr.path(), training.epochs, training.schedule.warmup_epochs);
  return training;
}

TeacherSpec read_teacher(Node n, const Recipe& r) {
  TeacherSpec t;
  n.expect_map();
  if (!n.has("model")) n.at("model").fail_here("a model name");
  t.model = n.at("model").text();
  bool weights = n.has("weights"), train = n.has("train");
  if (weights == train)
    fail("{}: {}: expected exactly one of `weights: FILE` and `train: {{epochs: N, ...}}`",
         n.origin(), n.path());
  if (weights) t.weights = resolve(n.origin(), n.at("weights").text());
  if (train) t.train = read_training(n.at("train"), r);
  // SSKD stage 1: the teacher's ss module, trained with sskd_aux on its frozen backbone.
  if (n.has("ss_module")) t.ss_module = read_training(n.at("ss_module"), r);
  if (n.has("mode")) t.train_mode = n.at("mode").choice({"eval", "train"}) == "train";
  n.done({"model", "weights", "train", "ss_module", "mode"});
  return t;
}

std::string read_student(Node n) {
  if (n.is_null()) n.fail_here("a mapping with `model: NAME`");
  n.expect_map();
  if (!n.has("model")) n.at("model").fail_here("a model name");
  std::string model = n.at("model").text();
  n.done({"model"});
  return model;
}

ObjectiveEntry read_objective(Node n) {
  ObjectiveEntry o;
  n.expect_map();
  if (!n.has("name")) n.at("name").fail_here("an objective name");
  Node name = n.at("name");
  o.name = name.text();
  std::vector<std::string> known;
  for (const ObjectiveSpec& s : objective_specs()) known.push_back(s.name);
  if (std::find(known.begin(), known.end(), o.name) == known.end())
    name.fail_here(fmt::format("a registered objective ({})", fmt::join(known, ", ")));
  if (n.has("weight"))
    o.weight = n.at("weight").real(-std::numeric_limits<double>::infinity(), true, "a number");
  if (n.has("schedule")) o.schedule = n.at("schedule").choice(weight_schedules());
  if (n.has("warmup_epochs")) o.warmup_epochs = n.at("warmup_epochs").integer(0, kCount);
  if (o.schedule == "warmup" && o.warmup_epochs <= 0)
    fail("{}: {}.warmup_epochs: expected a positive integer with schedule warmup", n.origin(),
         n.path());
  if (n.has("params")) {
    Node params = n.at("params");
    if (!params.is_null()) {
      const ObjectiveSpec& spec = objective_spec(o.name);
      for (auto& [key, value] : params.entries()) {
        bool exists = std::any_of(spec.params.begin(), spec.params.end(),
                                  [&](const ParamSpec& p) { return p.name == key; });
        if (!exists) {
          std::vector<std::string> keys;
          for (const ParamSpec& p : spec.params) keys.push_back(p.name);
          fail("{}: {}: unknown parameter of objective {} (known: {})", n.origin(), value.path(),
               o.name,
               keys.empty() ? std::string("none") : fmt::format("{}", fmt::join(keys, ", ")));
        }
        o.params[key] = value.scalar("a number, word or flag");
      }
    }
  }
  if (n.has("view")) o.view = n.at("view").choice({"weak", "strong"});
  n.done({"name", "weight", "schedule", "warmup_epochs", "params", "view"});
  return o;
}

Experiment read_experiment(Node n) {
  Experiment e;
  n.expect_map();
  if (!n.has("name")) n.at("name").fail_here("an experiment name");
  e.name = n.at("name").text();
  bool plain = std::all_of(e.name.begin(), e.name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  if (!plain || e.name.front() == '.')
    n.at("name").fail_here("a name of letters, digits, '-', '_' and '.' (it names files)");
  if (e.name == "baseline")
    n.at("name").fail_here("a name other than 'baseline' (the name of the student alone)");
  if (!n.has("objectives")) n.at("objectives").fail_here("a non-empty list of objectives");
  Node objectives = n.at("objectives");
  std::vector<Node> items = objectives.items();
  if (items.empty()) objectives.fail_here("a non-empty list of objectives");
  for (Node& o : items) e.objectives.push_back(read_objective(o));
  if (n.has("gradient_alignment")) {
    Node ga = n.at("gradient_alignment");
    std::vector<std::string> ce = {"ce"};
    bool on = true;
    if (ga.is_map()) {
      if (!ga.has("ce")) ga.at("ce").fail_here("a list of objective names (the CE group)");
      ce.clear();
      for (Node& name : ga.at("ce").items()) ce.push_back(name.text());
      ga.done({"ce"});
      for (const std::string& c : ce)
        if (std::none_of(e.objectives.begin(), e.objectives.end(),
                         [&](const ObjectiveEntry& o) { return o.name == c; }))
          fail("{}: {}.ce: '{}' is not an objective of this experiment", n.origin(), ga.path(), c);
    } else {
      on = ga.boolean();
    }
    if (on) {
      for (const ObjectiveEntry& o : e.objectives)
        e.ce_group.push_back(std::find(ce.begin(), ce.end(), o.name) != ce.end());
      size_t in_ce = size_t(std::count(e.ce_group.begin(), e.ce_group.end(), true));
      if (in_ce == 0 || in_ce == e.ce_group.size())
        fail(
            "{}: {}: expected both groups non-empty: the CE group ({}) and the KD group (every "
            "other objective)",
            n.origin(), ga.path(), fmt::join(ce, ", "));
    }
  }
  if (n.has("rotations")) e.rotations = n.at("rotations").boolean();
  n.done({"name", "gradient_alignment", "rotations", "objectives"});
  return e;
}

// lelp makes its experiment's student C*k-way and needs a projection: from params.projection
// (relative to the recipe) or fitted by the run (`lelp_projection:`).
void check_lelp(Recipe& r, Experiment& e, size_t shown) {
  std::vector<ObjectiveEntry>& objectives = e.objectives;
  size_t count = 0;
  for (size_t j = 0; j < objectives.size(); ++j) {
    if (objectives[j].name != "lelp") continue;
    const std::string where = fmt::format("{}: experiments[{}].objectives[{}]", r.path, shown, j);
    if (++count > 1) fail("{}: a second lelp objective (one C*k-way student head each)", where);
    auto given = objectives[j].params.find("projection");
    if (given != objectives[j].params.end() && given->second != "none")
      given->second = resolve(r.path, given->second);
    else if (!r.lelp_projection)
      fail(
          "{}: objective lelp needs a projection: add `lelp_projection: {{per_class: N}}` to the "
          "recipe (fitted on the teacher's embeddings) or give params.projection (a file from "
          "save_lelp_projection)",
          where);
    if (r.students.size() > 1)
      fail("{}: objective lelp with several students (`students:`) is not supported", where);
    if (e.rotations)
      fail("{}: objective lelp in an experiment with rotation batches is not supported", where);
    if (objectives[j].view == "strong")
      fail("{}.view: objective lelp reads the weak view only", where);
    for (size_t m = 0; m < objectives.size(); ++m) {
      if (m == j || objectives[m].name == "lelp") continue;  // a second lelp: refused above
      for (const InputSpec& in : objective_spec(objectives[m].name).inputs)
        if (in.name == "student.logits" || in.name == "student.logits_strong")
          fail(
              "{}: experiments[{}].objectives[{}]: objective {} reads {}, which lelp "
              "(objectives[{}]) makes C*k-way (lelp has its own ce part)",
              r.path, shown, m, objectives[m].name, in.name, j);
    }
  }
}

Recipe read_recipe(Node root) {
  Recipe r;
  r.path = root.origin();
  root.expect_map();
  if (!root.has("name")) root.at("name").fail_here("the recipe's name");
  r.name = root.at("name").text();
  if (root.has("seed")) r.seed = uint64_t(root.at("seed").integer(0, kCount));
  if (root.has("epochs")) r.epochs = root.at("epochs").integer(1, kPositive);
  if (root.has("batch_size")) r.batch_size = root.at("batch_size").integer(1, kPositive);
  if (root.has("threads")) r.threads = root.at("threads").integer(0, kCount);
  if (root.has("data")) r.data = read_data(root.at("data"));
  if (root.has("optimizer")) r.optimizer = read_optimizer(root.at("optimizer"), {});
  if (root.has("outer_optimizer"))
    r.outer_optimizer = read_optimizer(root.at("outer_optimizer"), r.outer_optimizer);
  if (root.has("schedule")) r.schedule = read_schedule(root.at("schedule"), {});
  if (r.schedule.warmup_epochs >= r.epochs)
    fail("{}: schedule.warmup_epochs: expected fewer than the {} epochs, got {}", r.path, r.epochs,
         r.schedule.warmup_epochs);

  bool one = root.has("teacher"), many = root.has("teachers");
  if (one && many) fail("{}: expected `teacher:` or `teachers:`, not both", r.path);
  if (one) r.teachers.push_back(read_teacher(root.at("teacher"), r));
  if (many) {
    Node list = root.at("teachers");
    std::vector<Node> items = list.items();
    if (items.empty()) list.fail_here("a non-empty list of teachers");
    for (Node& t : items) r.teachers.push_back(read_teacher(t, r));
  }

  if (root.has("teacher_outputs")) {
    Node n = root.at("teacher_outputs");
    n.expect_map();
    if (!n.has("file")) n.at("file").fail_here("a safetensors file name");
    r.teacher_outputs.file = resolve(n.origin(), n.at("file").text());
    if (n.has("mode")) r.teacher_outputs.mode = n.at("mode").choice({"auto", "write", "read"});
    n.done({"file", "mode"});
    if (r.teachers.empty())
      fail("{}: teacher_outputs: expected a `teacher:` or `teachers:` whose outputs it holds",
           r.path);
    if (r.data.strong_view)
      fail(
          "{}: teacher_outputs: the stored outputs are of single un-augmented images, but "
          "data.strong_view asks for the teachers' logits on a strong view of each batch",
          r.path);
  }

  if (root.has("cost_matrix")) {
    Node n = root.at("cost_matrix");
    n.expect_map();
    CostMatrixSpec c;
    bool file = n.has("file"), features = n.has("features");
    if (file == features)
      fail(
          "{}: cost_matrix: expected exactly one of `file: FILE` and `features: TAP` (a teacher "
          "tap or logits)",
          r.path);
    if (file) c.file = resolve(n.origin(), n.at("file").text());
    if (features) c.features = n.at("features").text();
    if (n.has("per_class")) {
      if (file) fail("{}: cost_matrix.per_class: only with `features:`", r.path);
      c.per_class = n.at("per_class").integer(1, kPositive);
    }
    if (n.has("sharpen")) {
      if (file) fail("{}: cost_matrix.sharpen: only with `features:`", r.path);
      c.sharpen = n.at("sharpen").real(0, false, "a number >= 0");
    }
    n.done({"file", "features", "per_class", "sharpen"});
    if (features && r.teachers.empty())
      fail("{}: cost_matrix.features: expected a `teacher:` whose features it reads", r.path);
    r.cost_matrix = c;
  }

  if (root.has("lelp_projection")) {
    Node n = root.at("lelp_projection");
    n.expect_map();
    LelpProjectionSpec l;
    if (n.has("per_class")) l.per_class = n.at("per_class").integer(1, kPositive);
    n.done({"per_class"});
    if (r.teachers.empty())
      fail("{}: lelp_projection: expected a `teacher:` whose embeddings it reads", r.path);
    r.lelp_projection = l;
  }

  if (root.has("aspect_targets")) {
    Node n = root.at("aspect_targets");
    n.expect_map();
    if (!n.has("file")) n.at("file").fail_here("a safetensors file name");
    r.aspect_targets = resolve(n.origin(), n.at("file").text());
    n.done({"file"});
  }

  bool one_student = root.has("student"), many_students = root.has("students");
  if (one_student && many_students)
    fail("{}: expected `student:` or `students:`, not both", r.path);
  if (!many_students) r.students.push_back(read_student(root.at("student")));
  if (many_students) {
    Node list = root.at("students");
    std::vector<Node> items = list.items();
    if (items.empty()) list.fail_here("a non-empty list of students");
    for (Node& s : items) r.students.push_back(read_student(s));
  }
  r.student = r.students.front();

  bool baseline = true;
  if (root.has("baseline")) baseline = root.at("baseline").boolean();
  if (baseline) r.experiments.push_back(baseline_experiment());
  if (root.has("experiments")) {
    Node list = root.at("experiments");
    if (!list.is_null())
      for (Node& e : list.items()) {
        Experiment x = read_experiment(e);
        for (const Experiment& earlier : r.experiments)
          if (earlier.name == x.name)
            fail("{}: {}.name: the experiment name '{}' is used twice", r.path, e.path(), x.name);
        r.experiments.push_back(std::move(x));
      }
  }
  if (r.experiments.empty())
    fail("{}: experiments: expected at least one experiment (or `baseline: true`)", r.path);
  root.done({"name", "seed", "epochs", "batch_size", "threads", "data", "teacher", "teachers",
             "teacher_outputs", "cost_matrix", "lelp_projection", "aspect_targets", "student",
             "students", "optimizer", "outer_optimizer", "schedule", "baseline", "experiments"});

  // Objectives reading a teacher need one: checked here so a recipe fails before any training.
  for (size_t i = 0; i < r.experiments.size(); ++i) {
    size_t shown = i - (r.experiments[0].name == "baseline" ? 1 : 0);
    if (r.experiments[i].rotations) {
      // A rotation batch holds four rows per image: the few-label split, mixing and the stored
      // teacher outputs all count one row per image.
      const char* clash = r.data.labeled > 0                ? "data.labeled"
                          : r.data.mixup                    ? "data.mixup"
                          : !r.teacher_outputs.file.empty() ? "teacher_outputs"
                                                            : nullptr;
      if (clash)
        fail("{}: experiments[{}].rotations: rotation batches cannot be combined with {}", r.path,
             shown, clash);
    }
    for (size_t j = 0; j < r.experiments[i].objectives.size(); ++j) {
      const ObjectiveSpec& spec = objective_spec(r.experiments[i].objectives[j].name);
      for (const InputSpec& in : spec.inputs) {
        // Under mixup the images are mixed: hard labels no longer describe them, and only then
        // are the mixed targets there.
        if (in.required && in.name == "labels" && r.data.mixup)
          fail(
              "{}: {}objective {} reads labels, which data.mixup replaces by soft_labels (mixed "
              "targets){}",
              r.path,
              r.experiments[i].name == "baseline"
                  ? std::string("baseline (the student alone with ce; set `baseline: false`): ")
                  : fmt::format("experiments[{}].objectives[{}]: ", shown, j),
              spec.name, spec.name == "ce" ? "; mix_kd has its own CE on the mixed targets" : "");
        const bool strong =
            in.name.ends_with(".logits_strong") ||
            (r.experiments[i].objectives[j].view == "strong" && in.name.ends_with(".logits"));
        if (in.required && strong && r.experiments[i].rotations)
          fail(
              "{}: experiments[{}].objectives[{}]: objective {} reads the strong view's logits, "
              "which an experiment with rotation batches does not have",
              r.path, shown, j, spec.name);
        if (in.required && strong && !r.data.strong_view)
          fail(
              "{}: experiments[{}].objectives[{}]: objective {} reads the strong view's logits: "
              "add `strong_view: {{ops: 2}}` to `data:`",
              r.path, shown, j, spec.name);
        if (in.required && in.name == "aspect_targets" && r.aspect_targets.empty())
          fail(
              "{}: experiments[{}].objectives[{}]: objective {} reads aspect_targets: add "
              "`aspect_targets: {{file: FILE}}` to the recipe",
              r.path, shown, j, spec.name);
        if (in.required && in.name == "aspect_targets" && r.experiments[i].rotations)
          fail(
              "{}: experiments[{}].objectives[{}]: objective {} reads aspect_targets, one row "
              "per image, which rotation batches do not keep",
              r.path, shown, j, spec.name);
        if (in.required && in.name == "cost_matrix" && !r.cost_matrix)
          fail(
              "{}: experiments[{}].objectives[{}]: objective {} reads cost_matrix: add "
              "`cost_matrix: {{file: FILE}}` or `cost_matrix: {{features: TAP}}` to the recipe",
              r.path, shown, j, spec.name);
        if (in.required && in.name == "soft_labels" && !r.data.mixup)
          fail("{}: experiments[{}].objectives[{}]: objective {} reads soft_labels, which only "
               "data.mixup provides",
               r.path, shown, j, spec.name);
        auto [owner, rest] = split_input_name(in.name);
        if (in.required && rest == "ss_feat" && !r.experiments[i].rotations)
          fail(
              "{}: experiments[{}].objectives[{}]: objective {} reads {}, the ss module's "
              "outputs on rotation batches: set `rotations: true` on the experiment",
              r.path, shown, j, spec.name, in.name);
        if (!in.required || owner.empty() || owner == "student") continue;
        if (int64_t peer = prefix_index(owner, "peer"); peer >= 0) {
          if (size_t(peer) + 1 >= r.students.size())
            fail(
                "{}: experiments[{}].objectives[{}]: objective {} reads {}, another student, but "
                "the recipe has {} student(s) (`students:` lists several)",
                r.path, shown, j, spec.name, in.name, r.students.size());
          continue;
        }
        size_t index = owner == "teacher" ? 0 : size_t(std::atoll(owner.c_str() + 7));
        if (index >= r.teachers.size())
          fail(
              "{}: experiments[{}].objectives[{}]: objective {} reads {}, but the recipe has {} "
              "teacher(s)",
              r.path, shown, j, spec.name, in.name, r.teachers.size());
        if (rest == "ss_feat" && !r.teachers[index].ss_module)
          fail(
              "{}: experiments[{}].objectives[{}]: objective {} reads {}, but {} has no "
              "`ss_module: {{epochs: N, ...}}` (SSKD stage 1 trains it)",
              r.path, shown, j, spec.name, in.name, owner);
      }
    }
    check_lelp(r, r.experiments[i], shown);
  }
  return r;
}

}  // namespace

std::vector<Term> make_terms(const Recipe& recipe, const Experiment& experiment,
                             const Shapes& shapes) {
  std::vector<Term> terms;
  for (size_t j = 0; j < experiment.objectives.size(); ++j) {
    const ObjectiveEntry& o = experiment.objectives[j];
    Term t;
    try {
      t.objective = make_objective(o.name, o.params, shapes);
      if (o.view == "strong") t.objective = on_strong_view(t.objective);
    } catch (const Error& e) {
      fail("{}: experiment '{}', objectives[{}].params: {}", recipe.path, experiment.name, j,
           e.what());
    }
    t.weight = o.weight;
    t.schedule = o.schedule;
    t.warmup_epochs = o.warmup_epochs;
    terms.push_back(std::move(t));
  }
  return terms;
}

Experiment baseline_experiment() {
  Experiment e;
  e.name = "baseline";
  e.objectives.push_back({"ce", 1, "constant", 0, {}});
  return e;
}

Recipe parse_recipe(const std::string& yaml, const std::string& origin) {
  YAML::Node doc;
  try {
    doc = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    fail("{}: not valid YAML: {}", origin, e.what());
  }
  try {
    return read_recipe(Node(doc, "", &origin));
  } catch (const YAML::Exception& e) {
    fail("{}: {}", origin, e.what());
  }
}

Recipe load_recipe(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TUTOR_CHECK(in.good(), "{}: cannot open the recipe", path);
  std::ostringstream text;
  text << in.rdbuf();
  TUTOR_CHECK(!in.bad(), "{}: cannot read the recipe", path);
  return parse_recipe(text.str(), path);
}

int64_t subclasses_per_class(const Experiment& experiment) {
  for (const ObjectiveEntry& o : experiment.objectives)
    if (o.name == "lelp") return Params(objective_spec("lelp"), o.params).integer("k");
  return 1;
}

}  // namespace tutor::distill
