// `tutor distill --recipe FILE`: trains or loads the teacher(s), trains the student alone and with
// each experiment's objectives through distill::Distiller, and reports (distill/recipe.h for the
// recipe, distill_report.h for the table and the HTML page).
#include <fmt/format.h>

#include <filesystem>

#include "distill/cost_matrix.h"
#include "distill/distiller.h"
#include "distill/dual_head_inference.h"
#include "distill/evaluate.h"
#include "distill/lelp.h"
#include "distill/recipe.h"
#include "distill/rotation.h"
#include "distill/ss_module.h"
#include "distill/strong_view.h"
#include "engine/autograd/grad_mode.h"
#include "engine/core/error.h"
#include "engine/core/random.h"
#include "engine/core/rng.h"
#include "engine/data/mixing.h"
#include "engine/data/rand_augment.h"
#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "engine/nn/linear.h"
#include "engine/ops/ops.h"
#include "engine/optim/adam.h"
#include "engine/optim/sgd.h"
#include "kernels/cpu/threads.h"
#include "models/registry.h"
#include "tools/cli/command.h"
#include "tools/cli/distill_report.h"
#include "tools/cli/json.h"
#include "tools/cli/model_io.h"
#include "tools/cli/participant.h"
#include "tools/cli/teacher_cache.h"
#include "tools/cli/teacher_outputs.h"
#include "tools/cli/training_loop.h"

namespace tutor::cli {

namespace {

namespace fs = std::filesystem;
using distill::Recipe;

// Seeds of the independent random streams, mixed with the recipe's seed.
constexpr uint64_t kLabeledSplitStream = 0x6c6162656c6564;  // "labeled"
constexpr uint64_t kTeacherStream = 0x74656163686572;       // "teacher"
constexpr uint64_t kSSModuleStream = 0x73736d6f64756c65;    // "ssmodule"

std::unique_ptr<optim::Optimizer> make_optimizer(std::vector<Tensor> params,
                                                 const distill::OptimizerSpec& o) {
  if (o.name == "sgd")
    return std::make_unique<optim::SGD>(std::move(params),
                                        optim::SGDOptions{.lr = o.lr,
                                                          .momentum = o.momentum,
                                                          .weight_decay = o.weight_decay,
                                                          .nesterov = o.nesterov});
  if (o.name == "adam") {
    optim::AdamOptions a;
    a.lr = o.lr;
    a.weight_decay = o.weight_decay;
    return std::make_unique<optim::Adam>(std::move(params), a);
  }
  optim::AdamWOptions a;
  a.lr = o.lr;
  a.weight_decay = o.weight_decay;
  return std::make_unique<optim::AdamW>(std::move(params), a);
}

std::unique_ptr<optim::LRScheduler> make_schedule(optim::Optimizer& optimizer,
                                                  const distill::ScheduleSpec& s, int64_t epochs) {
  TUTOR_CHECK(s.warmup_epochs < epochs, "schedule.warmup_epochs ({}) must be below epochs ({})",
              s.warmup_epochs, epochs);
  return make_lr_schedule(optimizer, s.name, epochs, s.warmup_epochs, s.step_size);
}

// The training loader's options; `mix`: the recipe's mixup too (students, not teacher training);
// `strong`: the recipe's strong view too, computed from the images before the other transforms.
data::LoaderOptions train_options(const Recipe& r, int64_t batch_size, uint64_t seed,
                                  int64_t num_classes = 0, bool mix = false, bool strong = false) {
  data::LoaderOptions o;
  o.batch_size = batch_size;
  o.shuffle = true;
  o.seed = seed;
  if (strong && r.data.strong_view)
    o.transforms.push_back(data::StrongView{r.data.crop_padding,
                                            r.data.flip,
                                            r.data.strong_view->ops,
                                            {kFashionMnistMean},
                                            {kFashionMnistStd}});
  if (r.data.crop_padding > 0) o.transforms.push_back(data::RandomCrop{r.data.crop_padding});
  if (r.data.flip) o.transforms.push_back(data::HorizontalFlip{});
  o.transforms.push_back(data::Normalize{{kFashionMnistMean}, {kFashionMnistStd}});
  if (mix && r.data.mixup)
    o.transforms.push_back(
        data::PartialMixup{r.data.mixup->beta, r.data.mixup->partial, true, num_classes});
  return o;
}

// The logits and every tap of `model` on `batch` (one forward in eval mode, no grad) into
// `probe` as "<prefix>.logits", "<prefix>.<tap>".
void probe_model(distill::Inputs& probe, const std::string& prefix, models::Model& model,
                 const Tensor& batch) {
  bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  models::Taps taps(model.tap_names());
  probe.set(prefix + ".logits", model.forward(batch, &taps));
  for (const auto& [name, t] : taps.tensors()) probe.set(prefix + "." + name, t);
  model.train(was_training);
}

// Whether an objective of `terms` reads `input`.
// An experiment's lelp objective whose projection the run fits (no params.projection).
bool fits_lelp_projection(const distill::ObjectiveEntry& o) {
  auto given = o.params.find("projection");
  return o.name == "lelp" && (given == o.params.end() || given->second == "none");
}

bool reads(const std::vector<distill::Term>& terms, const std::string& input) {
  return std::any_of(terms.begin(), terms.end(), [&](const distill::Term& t) {
    std::vector<std::string> in = t.objective->inputs();
    return std::find(in.begin(), in.end(), input) != in.end();
  });
}

std::string describe(const distill::Experiment& e) {
  std::vector<std::string> terms;
  for (const distill::ObjectiveEntry& o : e.objectives) {
    std::string params;
    for (const auto& [k, v] : o.params) params += (params.empty() ? "" : ",") + k + "=" + v;
    std::string schedule = o.schedule == "constant" ? "" : " (" + o.schedule + ")";
    terms.push_back(fmt::format("{:g} {}{}{}{}", o.weight, o.name,
                                o.view == "strong" ? "[strong]" : "",
                                params.empty() ? "" : "(" + params + ")", schedule));
  }
  return fmt::format("{}", fmt::join(terms, " + "));
}

// `student`: which of several students trained together ("" with one student, no key then).
JsonObject epoch_record(const std::string& run, const std::string& model, const EpochPoint& p,
                        const EpochStats& s, const std::string& student = "") {
  JsonObject parts;
  for (const auto& [name, value] : p.parts) parts.add(name, value);
  JsonObject record;
  record.add("run", run);
  if (!student.empty()) record.add("student", student);
  return record.add("model", model)
      .add("epoch", p.epoch)
      .add("train_loss", p.train_loss)
      .add("train_acc", p.train_acc)
      .add("test_loss", p.test_loss)
      .add("test_acc", p.test_acc)
      .add("lr", p.lr)
      .add("seconds", p.seconds)
      .add("images", s.rows)
      .add("labeled_images", s.labeled)
      .add("images_per_second", s.images_per_second)
      .add("parts", parts);
}

struct DualHeadResult {
  distill::DualHeadChoice choice;  // the grid search's alpha, beta and accuracy (percent)
  double kd_head_accuracy = 0;     // the kd head alone, in [0, 1]
};

// DHO's inference (distill/dual_head_inference.h; erjui/DHO train_imgnet.py::evaluate): the
// student's own classifier is the CE head, `kd_head` reads its pooled feature; alpha and beta
// are grid-searched on the evaluated split itself, as the reference does, so the blended accuracy
// is that of the best pair on this split.
DualHeadResult evaluate_dual_head(models::Model& student, nn::Module& kd_head,
                                  data::DataLoader& loader) {
  bool was_training = student.is_training(), head_training = kd_head.is_training();
  student.eval();
  kd_head.eval();
  NoGradGuard no_grad;
  std::vector<Tensor> ce, kd, labels;
  for (data::Batch& b : loader.epoch(0)) {
    models::Taps taps({"pooled"});
    ce.push_back(student.forward(b.images, &taps));
    kd.push_back(kd_head.forward(taps.at("pooled")));
    labels.push_back(b.labels);
  }
  student.train(was_training);
  kd_head.train(head_training);
  Tensor kd_logits = cat(kd, 0), y = cat(labels, 0);
  DualHeadResult r;
  r.choice = distill::dual_head_search(cat(ce, 0), kd_logits, y);
  r.kd_head_accuracy = eq(kd_logits.argmax(1), y).to(DType::f64).mean().item();
  return r;
}

class DistillRun {
 public:
  DistillRun(Recipe recipe, fs::path out, bool use_cache, bool fuse_teachers, Io& io)
      : r_(std::move(recipe)),
        out_(std::move(out)),
        use_cache_(use_cache),
        fuse_teachers_(fuse_teachers),
        io_(io) {}

  void run(const std::string& only) {
    std::vector<const distill::Experiment*> selected;
    for (const distill::Experiment& e : r_.experiments)
      if (only.empty() || e.name == only) selected.push_back(&e);
    if (selected.empty()) {
      std::vector<std::string> names;
      for (const distill::Experiment& e : r_.experiments) names.push_back(e.name);
      throw UsageError(fmt::format("tutor distill: --only {}: no such experiment (recipe: {})",
                                   only, fmt::join(names, ", ")));
    }
    load_data();
    std::error_code failed;
    fs::create_directories(out_, failed);
    TUTOR_CHECK(!failed, "{}: cannot create the output directory: {}", out_.string(),
                failed.message());
    metrics_ = std::make_unique<JsonlWriter>((out_ / "metrics.jsonl").string());
    // Every objective is built once before any training, so a bad parameter fails early.
    make_models_and_check(selected);

    for (size_t k = 0; k < r_.teachers.size(); ++k) {
      teacher_records_.push_back(get_teacher(k));
      if (teacher_ss_[k]) train_teacher_ss_module(k);
    }
    if (r_.cost_matrix && !r_.cost_matrix->features.empty()) compute_cost_matrix();
    if (r_.lelp_projection) fit_lelp_projections(selected);
    // The teacher outputs' file is keyed by the weights as trained or loaded, before folding.
    if (!r_.teacher_outputs.file.empty())
      for (const std::shared_ptr<models::Model>& t : teachers_)
        teacher_hashes_.push_back(hash_state_dict(*t));
    // From here on a frozen teacher only runs in eval mode: its BatchNorms fold into its convs
    // (the same function; every tap a ResNet offers is after a BatchNorm, so unchanged).
    for (size_t k = 0; k < teachers_.size() && fuse_teachers_; ++k)
      if (!r_.teachers[k].train_mode) {
        teachers_[k]->eval();
        if (int64_t folded = models::fuse_for_inference(*teachers_[k]); folded > 0)
          io_.err << fmt::format("tutor distill: {}: {} BatchNorms folded into its convs\n",
                                 distill::teacher_prefix(int64_t(k)), folded);
      }
    if (!r_.teacher_outputs.file.empty()) prepare_teacher_outputs();
    bool cacheable = use_cache_ && !outputs_ && !r_.data.augments();
    for (const distill::TeacherSpec& t : r_.teachers) cacheable = cacheable && !t.train_mode;
    if (cacheable && !teachers_.empty())
      cache_ = std::make_unique<TeacherCache>(n_labeled_ + n_unlabeled_, int64_t(teachers_.size()));
    for (const distill::Experiment* e : selected)
      for (RunRecord& rec : run_student(*e)) student_records_.push_back(std::move(rec));

    std::string table = results_table(teacher_records_, student_records_);
    io_.out << table;
    std::string subtitle = fmt::format(
        "recipe {} ({}): {} {}, {} epochs, seed {}, {} training images{}, {} test images", r_.name,
        r_.path, r_.students.size() > 1 ? "students" : "student", fmt::join(r_.students, ", "),
        r_.epochs, r_.seed, n_labeled_ + n_unlabeled_,
        few_labels() ? fmt::format(" ({} labeled)", n_labeled_) : std::string(), test_set_->size());
    write_file_atomic(
        (out_ / "report.html").string(),
        html_report("tutor distill: " + r_.name, subtitle, teacher_records_, student_records_));
    io_.out << fmt::format("metrics, weights and report.html in {}\n", out_.string());
  }

 private:
  bool few_labels() const { return r_.data.labeled > 0; }

  void load_data() {
    std::string dir = r_.data.dir.empty() ? data::kFashionMnistDir : r_.data.dir;
    auto load = [&](const std::string& split, int64_t limit) {
      auto full = std::make_shared<data::TensorDataset>(data::fashion_mnist(split, dir));
      if (limit <= 0 || limit >= full->size()) return full;
      std::vector<int64_t> rows;
      rows.resize(size_t(limit));
      for (int64_t i = 0; i < limit; ++i) rows[size_t(i)] = i;
      return subset(*full, rows);
    };
    train_set_ = load("train", r_.data.limit_train);
    test_set_ = load("test", r_.data.limit_test);
    num_classes_ = train_set_->num_classes();
    in_channels_ = train_set_->sample_shape()[0];
    if (int64_t held = r_.data.held_out_count(train_set_->size()); held > 0) {
      const int64_t kept = train_set_->size() - held;
      TUTOR_CHECK(kept > 0, "{}: data.held_out ({}) must leave training images of the {}", r_.path,
                  held, train_set_->size());
      std::vector<int64_t> first(static_cast<size_t>(kept)), last(static_cast<size_t>(held));
      for (int64_t i = 0; i < kept; ++i) first[size_t(i)] = i;
      for (int64_t i = 0; i < held; ++i) last[size_t(i)] = kept + i;
      held_out_set_ = subset(*train_set_, last);
      train_set_ = subset(*train_set_, first);
    }
    if (!few_labels()) {
      n_labeled_ = train_set_->size();
      dataset_row_ = arange(double(n_labeled_)).to_vector<int64_t>();
      return;
    }
    TUTOR_CHECK(r_.data.labeled < train_set_->size(),
                "{}: data.labeled ({}) must be below the {} training images", r_.path,
                r_.data.labeled, train_set_->size());
    // A seeded random subset keeps its labels; the order within each pool is the dataset's.
    Generator gen(data::mix_seed(r_.seed, kLabeledSplitStream));
    std::vector<int64_t> perm = randperm(train_set_->size(), DType::i64, &gen).to_vector<int64_t>();
    std::vector<int64_t> labeled(perm.begin(), perm.begin() + r_.data.labeled),
        unlabeled(perm.begin() + r_.data.labeled, perm.end());
    std::sort(labeled.begin(), labeled.end());
    std::sort(unlabeled.begin(), unlabeled.end());
    labeled_set_ = subset(*train_set_, labeled);
    unlabeled_set_ = subset(*train_set_, unlabeled);
    n_labeled_ = labeled_set_->size();
    n_unlabeled_ = unlabeled_set_->size();
    dataset_row_ = labeled;
    dataset_row_.insert(dataset_row_.end(), unlabeled.begin(), unlabeled.end());
  }

  static std::shared_ptr<data::TensorDataset> subset(const data::TensorDataset& d,
                                                     const std::vector<int64_t>& rows) {
    data::Batch b = d.get(rows);
    return std::make_shared<data::TensorDataset>(b.images, b.labels, d.num_classes());
  }

  // With subclasses = k > 1, a C*k-way classifier (lelp's student).
  std::shared_ptr<models::Model> new_model(const std::string& name, int64_t subclasses = 1) {
    return models::create_model(
        name, {.num_classes = num_classes_ * subclasses, .in_channels = in_channels_});
  }

  // The terms of experiment `e` for every student, each after its student's index, built with
  // the shapes its student's objectives see.
  std::vector<std::pair<size_t, distill::Term>> terms_of(const distill::Experiment& e) const {
    std::vector<std::pair<size_t, distill::Term>> out;
    for (size_t i = 0; i < shapes_.size(); ++i)
      for (distill::Term& t : distill::make_terms(r_, e, shapes_[i])) out.emplace_back(i, t);
    return out;
  }

  void make_models_and_check(const std::vector<const distill::Experiment*>& selected) {
    for (size_t k = 0; k < r_.teachers.size(); ++k) {
      manual_seed(data::mix_seed(r_.seed, kTeacherStream + k));
      teachers_.push_back(new_model(r_.teachers[k].model));
    }
    // The shapes of every input an objective can read, from the first training batch: the
    // models' logits and taps, and the data inputs this run provides. Student k's objectives
    // see it as student.* and the other students as peer.*, peer1.*, ... (distiller.h).
    const int64_t rows = std::min(r_.batch_size, train_set_->size());
    std::vector<int64_t> first(size_t(rows), 0);
    for (int64_t i = 0; i < rows; ++i) first[size_t(i)] = i;
    data::Batch first_batch = train_set_->get(first);
    Tensor batch = data::normalize(first_batch.images, {kFashionMnistMean}, {kFashionMnistStd});
    const size_t n = r_.students.size();
    if (r_.cost_matrix && !r_.cost_matrix->file.empty()) load_cost_matrix(r_.cost_matrix->file);
    if (!r_.aspect_targets.empty()) load_aspect_targets(r_.aspect_targets);
    teacher_ss_.resize(teachers_.size());
    std::vector<distill::Inputs> views = probe_views(batch, first_batch.labels, false);
    const distill::Inputs& probe = views[0];
    if (r_.cost_matrix && !r_.cost_matrix->features.empty() &&
        r_.cost_matrix->features != "logits" && !probe.has("teacher." + r_.cost_matrix->features))
      fail("{}: cost_matrix.features: teacher {} has no tap '{}' (taps: logits, {})", r_.path,
           r_.teachers[0].model, r_.cost_matrix->features,
           fmt::join(teachers_[0]->tap_names(), ", "));
    // Rotation batches (SSKD): the probe's images in four rotations, with ss modules on the
    // students (fresh ones, as each rotation experiment's) and on the teachers that have one.
    for (size_t k = 0; k < teachers_.size(); ++k)
      if (r_.teachers[k].ss_module) {
        manual_seed(data::mix_seed(r_.seed, kSSModuleStream + k));
        teacher_ss_[k] = distill::make_ss_module(
            probe.at(distill::teacher_prefix(int64_t(k)) + ".pooled").size(1));
      }
    std::vector<distill::Inputs> rotation_views;
    if (std::any_of(selected.begin(), selected.end(),
                    [](const distill::Experiment* e) { return e->rotations; })) {
      const int64_t images = std::max<int64_t>(rows / 4, 1);
      rotation_views =
          probe_views(distill::rotation_batch(batch.narrow(0, 0, images)),
                      repeat_interleave(first_batch.labels.narrow(0, 0, images), 4), true);
    }
    for (size_t k = 0; k < n; ++k) {
      shapes_.push_back(distill::shapes_of(views[k]));
      if (!rotation_views.empty())
        for (const auto& [name, shape] : distill::shapes_of(rotation_views[k]))
          shapes_[k].emplace(name, shape);
    }
    // Objectives are built with those shapes (their modules' parameters exist from here on). One
    // that reads an input no recipe provides (a strong view, a cost matrix) stops the run now,
    // and so does one that fails on the probe's outputs (computed in eval mode, without grad, so
    // that no running statistic moves), before any teacher trains.
    teacher_taps_.resize(teachers_.size());
    for (const distill::Experiment* e : selected)
      for (const auto& [i, t] : terms_of(*e)) {
        std::string who = n > 1 ? distill::student_label(int64_t(i)) + ": " : "";
        // The taps each teacher must provide to the selected experiments (teacher_outputs).
        for (size_t k = 0; k < teachers_.size(); ++k)
          for (const std::string& tap : t.objective->teacher_taps(int64_t(k)))
            if (std::find(teacher_taps_[k].begin(), teacher_taps_[k].end(), tap) ==
                teacher_taps_[k].end())
              teacher_taps_[k].push_back(tap);
        for (const std::string& in : t.objective->inputs())
          if (!shapes_[i].count(in)) {
            std::vector<std::string> known;
            for (const auto& [name, shape] : shapes_[i]) known.push_back(name);
            fail(
                "{}: experiment '{}': {}objective {} reads '{}', which this recipe does not "
                "provide (distill/recipes/README.md lists what each objective needs; available: "
                "{})",
                r_.path, e->name, who, t.objective->name(), in, fmt::join(known, ", "));
          }
        if (!t.objective->outer_parameters().empty()) {
          TUTOR_CHECK(held_out_set_ != nullptr,
                      "{}: experiment '{}': objective {} trains its outer parameters on held-out "
                      "images (a bilevel step); set data.held_out",
                      r_.path, e->name, t.objective->name());
          TUTOR_CHECK(e->ce_group.empty(),
                      "{}: experiment '{}': objective {} takes a bilevel step, which gradient "
                      "alignment cannot be combined with",
                      r_.path, e->name, t.objective->name());
        }
        NoGradGuard no_grad;
        t.objective->eval();
        distill::Inputs seen = e->rotations ? rotation_views[i] : views[i];
        if (t.objective->name() == "lelp") prepare_lelp_probe(*t.objective, *e, seen);
        try {
          t.objective->compute(seen, {0, r_.epochs, 0});
        } catch (const Error& error) {
          fail("{}: experiment '{}': {}objective {} fails on the first training batch: {}", r_.path,
               e->name, who, t.objective->name(), error.what());
        }
      }
  }

  // What each student's objectives can read on `batch` (student k's view: its own outputs as
  // student.*, the other students' as peer.*, ...): the logits and taps of the students and the
  // teachers (eval mode, no grad), the data inputs of this run, the strong view's logits (the
  // probe's own images stand for it) and with `rotated` the ss modules' outputs "<model>.ss_feat"
  // of fresh student modules and of the teachers that have one.
  std::vector<distill::Inputs> probe_views(const Tensor& batch, const Tensor& labels,
                                           bool rotated) {
    const size_t n = r_.students.size();
    std::vector<distill::Inputs> own(n);
    for (size_t k = 0; k < n; ++k) {
      auto model = new_model(r_.students[k]);
      probe_model(own[k], "student", *model, batch);
      if (rotated) {
        NoGradGuard no_grad;
        auto ss = distill::make_ss_module(own[k].at("student.pooled").size(1));
        own[k].set("student.ss_feat", ss->forward(own[k].at("student.pooled")));
      }
      if (aspect_targets_.defined()) {  // a fresh aspect head, as each experiment's
        NoGradGuard no_grad;
        own[k].set(
            "student.aspect_logits",
            aspect_head(own[k].at("student.pooled").size(1))->forward(own[k].at("student.pooled")));
      }
    }
    distill::Inputs probe;
    for (size_t k = 0; k < teachers_.size(); ++k) {
      std::string prefix = distill::teacher_prefix(int64_t(k));
      probe_model(probe, prefix, *teachers_[k], batch);
      if (rotated && teacher_ss_[k]) {
        NoGradGuard no_grad;
        probe.set(prefix + ".ss_feat", teacher_ss_[k]->forward(probe.at(prefix + ".pooled")));
      }
    }
    if (r_.data.mixup)
      probe.set("soft_labels", data::soft_targets(labels, num_classes_, "probe"));
    else
      probe.set("labels", labels);
    if (few_labels()) probe.set("unlabeled_mask", zeros({batch.size(0)}, DType::i64));
    if (aspect_targets_.defined() && !rotated)  // the probe's rows are the first images
      probe.set("aspect_targets", aspect_targets_.narrow(0, 0, batch.size(0)));
    // A computed cost matrix comes once the teacher is trained; the probe checks its shape.
    if (r_.cost_matrix)
      probe.set("cost_matrix",
                cost_matrix_.defined() ? cost_matrix_ : zeros({num_classes_, num_classes_}));
    std::vector<distill::Inputs> views(n, probe);
    for (size_t k = 0; k < n; ++k) {
      for (const auto& [name, t] : own[k].tensors()) views[k].set(name, t);
      for (size_t p = 0; p + 1 < n; ++p)
        for (const auto& [name, t] :
             own[size_t(distill::peer_student(int64_t(k), int64_t(p)))].tensors())
          views[k].set(distill::peer_prefix(int64_t(p)) + name.substr(name.find('.')), t);
      if (r_.data.strong_view)
        for (const auto& [name, t] : std::map<std::string, Tensor>(views[k].tensors()))
          if (name.ends_with(".logits")) views[k].set(name + "_strong", t);
    }
    return views;
  }

  // lelp on the probe: the student's logits as its C*k-way head gives them (zeros; the probe's
  // model has C outputs) and, where the run fits the projection once the teacher is trained, a
  // stand-in of the fitted shapes (P = I, means 0, the first k unit vectors, scales 1), so the
  // objective's shape checks run before any training.
  void prepare_lelp_probe(distill::Objective& lelp, const distill::Experiment& e,
                          distill::Inputs& view) const {
    const int64_t k = distill::subclasses_per_class(e);
    const Tensor& logits = view.at("student.logits");
    view.set("student.logits", zeros({logits.size(0), num_classes_ * k}, logits.dtype()));
    if (std::none_of(e.objectives.begin(), e.objectives.end(), fits_lelp_projection)) return;
    int64_t D = 0;
    for (const auto& [name, buffer] : lelp.named_buffers())
      if (name == "null_projector") D = buffer.size(0);
    std::vector<double> directions(size_t(num_classes_ * k * D), 0.0);
    for (int64_t c = 0; c < num_classes_; ++c)
      for (int64_t j = 0; j < std::min(k, D); ++j) directions[size_t((c * k + j) * D + j)] = 1;
    lelp.load_state_dict(
        {{"null_projector", eye(D, {}, TensorOptions(DType::f64))},
         {"means", zeros({num_classes_, D}, DType::f64)},
         {"directions", from_vector(directions, {num_classes_, k, D}, TensorOptions(DType::f64))},
         {"scales", ones({num_classes_, k}, DType::f64)}});
  }

  // lelp's projection (distill/lelp.h lelp_fit) for each selected experiment that has lelp
  // without params.projection: the first teacher's embedding tap (the objective's `embedding`,
  // the input of its classifier fc) on the first per_class un-augmented training images of each
  // class, in eval mode, with fc.weight; written to lelp-<experiment>.safetensors.
  void fit_lelp_projections(const std::vector<const distill::Experiment*>& selected) {
    const int64_t per_class = r_.lelp_projection->per_class;
    Tensor classifier;
    for (const auto& [name, w] : teachers_[0]->state_dict())
      if (name == "fc.weight") classifier = w;
    TUTOR_CHECK(classifier.defined(), "{}: lelp_projection: teacher {} has no classifier fc.weight",
                r_.path, r_.teachers[0].model);
    for (const distill::Experiment* e : selected)
      for (const distill::ObjectiveEntry& o : e->objectives) {
        if (!fits_lelp_projection(o)) continue;
        distill::Params p(distill::objective_spec("lelp"), o.params);
        const std::string tap = p.text("embedding");
        Tensor classes = distill::gather_class_features(teacher_features(tap), train_set_->labels(),
                                                        num_classes_,
                                                        per_class);  // [C, per_class, D]
        Tensor labels = repeat_interleave(arange(double(num_classes_)).to(DType::i64), per_class);
        distill::LelpProjection fitted;
        try {
          fitted = distill::lelp_fit(classes.reshape({-1, classes.size(2)}), labels, classifier,
                                     p.integer("k"));
        } catch (const Error& error) {
          fail("{}: experiment '{}': lelp's projection from teacher {}'s {}: {}", r_.path, e->name,
               r_.teachers[0].model, tap, error.what());
        }
        const fs::path file = out_ / ("lelp-" + e->name + ".safetensors");
        distill::save_lelp_projection(file.string(), fitted);
        lelp_projections_[e->name] = fitted;
        io_.err << fmt::format(
            "tutor distill: lelp projection (k = {}) from {}'s {} on {} images per class, written "
            "to {}\n",
            p.integer("k"), r_.teachers[0].model, tap, per_class, file.string());
      }
  }

  // The first teacher's tap (or its logits) on every un-augmented training image, in eval mode.
  Tensor teacher_features(const std::string& tap) {
    models::Model& teacher = *teachers_[0];
    teacher.eval();
    NoGradGuard no_grad;
    std::vector<Tensor> features;
    auto loader = eval_loader(train_set_, r_.batch_size);
    for (data::Batch& b : loader->epoch(0)) {
      if (tap == "logits") {
        features.push_back(teacher.forward(b.images, nullptr));
        continue;
      }
      models::Taps taps({tap});
      teacher.forward(b.images, &taps);
      features.push_back(taps.at(tap));
    }
    return cat(features, 0);
  }

  // multi_aspect's targets: [N, A] in [0, 1], a row per training image (the dataset's order).
  void load_aspect_targets(const std::string& file) {
    SafetensorsContents c = load_safetensors(file);
    auto it = c.tensors.find("aspect_targets");
    TUTOR_CHECK(it != c.tensors.end(), "{}: no tensor 'aspect_targets' (aspect_targets.file)",
                file);
    const Tensor& t = it->second;
    TUTOR_CHECK(
        t.dim() == 2 && t.size(0) == train_set_->size() && t.size(1) >= 1 && is_floating(t.dtype()),
        "{}: aspect_targets must be floating [{}, A] (a row per training image), got {} {}", file,
        train_set_->size(), t.dtype(), t.sizes());
    std::vector<double> v = t.to_vector<double>();
    TUTOR_CHECK(std::all_of(v.begin(), v.end(), [](double q) { return q >= 0 && q <= 1; }),
                "{}: aspect_targets must lie in [0, 1]", file);
    aspect_targets_ = t.to(DType::f32);
  }

  // The student's aspect head for multi_aspect: Linear(pooled features, A).
  std::shared_ptr<nn::Linear> aspect_head(int64_t features) const {
    return std::make_shared<nn::Linear>(features, aspect_targets_.size(1));
  }

  void load_cost_matrix(const std::string& file) {
    SafetensorsContents c = load_safetensors(file);
    auto it = c.tensors.find("cost_matrix");
    TUTOR_CHECK(it != c.tensors.end(), "{}: no tensor 'cost_matrix' (cost_matrix.file)", file);
    TUTOR_CHECK(it->second.sizes() == Shape({num_classes_, num_classes_}) &&
                    is_floating(it->second.dtype()),
                "{}: cost_matrix must be floating [{}, {}] (the dataset's classes), got {} {}",
                file, num_classes_, num_classes_, it->second.dtype(), it->second.sizes());
    cost_matrix_ = it->second.to(DType::f32);
  }

  // WKD-L's cost matrix (JiamingLv/WKD tools/generate_cost_matrix.py, objectives.md §2.8): the
  // first teacher's features (a tap, every spatial position a sample, or its logits) on the
  // first per_class un-augmented training images of each class, in eval mode, compared by
  // linear CKA and sharpened (distill/cost_matrix.h); written to cost_matrix.safetensors.
  void compute_cost_matrix() {
    const distill::CostMatrixSpec& spec = *r_.cost_matrix;
    cost_matrix_ = distill::cka_cost_matrix(
        distill::gather_class_features(teacher_features(spec.features), train_set_->labels(),
                                       num_classes_, spec.per_class),
        spec.sharpen);
    save_safetensors((out_ / "cost_matrix.safetensors").string(),
                     std::map<std::string, Tensor>{{"cost_matrix", cost_matrix_}},
                     {{"teacher", r_.teachers[0].model},
                      {"features", spec.features},
                      {"per_class", std::to_string(spec.per_class)},
                      {"sharpen", fmt::format("{}", spec.sharpen)}});
    io_.err << fmt::format(
        "tutor distill: cost matrix from {}'s {} on {} images per class, written to {}\n",
        r_.teachers[0].model, spec.features, spec.per_class,
        (out_ / "cost_matrix.safetensors").string());
  }

  // SSKD stage 1 (torchdistill AuxSSKDLoss; xuguodong03/SSKD student.py's ss-head loop): teacher
  // k's ss module learns, with sskd_aux on rotation batches of the training images, which normal
  // image each rotated view comes from, while the teacher runs frozen in eval mode. Logged as
  // run "<teacher>.ss_module"; its accuracies are those of that choice (rotated rows).
  void train_teacher_ss_module(size_t k) {
    const distill::TeacherTraining& t = *r_.teachers[k].ss_module;
    models::Model& model = *teachers_[k];
    nn::Sequential& ss = *teacher_ss_[k];
    const std::string name = distill::teacher_prefix(int64_t(k)) + ".ss_module";
    model.eval();
    auto aux = distill::make_objective("sskd_aux", {}, shapes_[0]);
    // The ss module's features, its similarity logits and each rotated row's own image.
    auto forward = [&](const Tensor& images) {
      Tensor pooled;
      {
        NoGradGuard no_grad;
        models::Taps taps({"pooled"});
        model.forward(distill::rotation_batch(images), &taps);
        pooled = taps.at("pooled");
      }
      Tensor f = ss.forward(pooled);
      distill::Inputs in;
      in.set("student.ss_feat", f);
      Tensor own = repeat_interleave(arange(double(images.size(0)), TensorOptions(DType::i64)), 3);
      return std::make_tuple(aux->compute(in, {}).loss, distill::rotation_similarities(f), own);
    };
    auto optimizer = make_optimizer(ss.parameters(), t.optimizer);
    auto schedule = make_schedule(*optimizer, t.schedule, t.epochs);
    data::DataLoader loader(
        train_set_, train_options(r_, t.batch_size, data::mix_seed(r_.seed, kSSModuleStream + k)));
    auto test_loader = eval_loader(test_set_, r_.batch_size);
    io_.err << fmt::format(
        "tutor distill: training the ss module of {} ({} parameters), {} epochs\n",
        distill::teacher_prefix(int64_t(k)), ss.num_parameters(), t.epochs);
    ProgressBar bar("");
    int64_t step = 0;
    for (int64_t epoch = 0; epoch < t.epochs; ++epoch) {
      EpochPoint p;
      p.epoch = epoch + 1;
      p.lr = optimizer->param_groups()[0].lr();
      Stopwatch clock;
      bar.set_label(fmt::format("{} {}/{}", name, epoch + 1, t.epochs));
      ss.train();
      EpochStats s = train_epoch(
          loader, epoch, *optimizer, step,
          [&](data::Batch& b, int64_t) -> StepResult {
            auto [loss, logits, own] = forward(b.images);
            return {loss, logits, own, {{"sskd_aux", loss.item()}}};
          },
          bar);
      schedule->step();
      ss.eval();
      double test_loss = 0, rows = 0, correct = 0;
      {
        NoGradGuard no_grad;
        for (data::Batch& b : test_loader->epoch(0)) {
          auto [loss, logits, own] = forward(b.images);
          test_loss += loss.item() * double(own.size(0));
          correct += eq(logits.argmax(1), own).to(DType::f64).sum().item();
          rows += double(own.size(0));
        }
      }
      p.train_loss = s.loss;
      p.train_acc = s.accuracy;
      p.test_loss = test_loss / rows;
      p.test_acc = correct / rows;
      p.parts = s.parts;
      p.seconds = clock.seconds();
      metrics_->write(epoch_record(name, r_.teachers[k].model, p, s));
      io_.err << fmt::format(
          "{} epoch {}/{}: train loss {:.4f} acc {:.2f}%, test acc {:.2f}% (rotated view -> its "
          "image)\n",
          name, epoch + 1, t.epochs, s.loss, 100 * s.accuracy, 100 * p.test_acc);
    }
    save_safetensors((out_ / (name + ".safetensors")).string(), ss.state_dict(),
                     {{"model", "ss_module"}, {"recipe", r_.name}});
  }

  // Offline KD (teacher_outputs.h): reads the teachers' outputs on the training images from the
  // recipe's file, or computes them in eval mode on the un-augmented images, in batches of the
  // recipe's size, and writes the file.
  void prepare_teacher_outputs() {
    const distill::TeacherOutputsSpec& spec = r_.teacher_outputs;
    TUTOR_CHECK(!r_.data.mixup,
                "{}: teacher_outputs cannot serve a run with data.mixup: the student's images are "
                "mixes of two, the stored outputs are of single images",
                spec.file);
    for (size_t k = 0; k < r_.teachers.size(); ++k)
      TUTOR_CHECK(!r_.teachers[k].train_mode,
                  "{}: teacher_outputs needs every teacher in eval mode, but {} has mode: train "
                  "(its outputs depend on the batch)",
                  spec.file, distill::teacher_prefix(int64_t(k)));
    TeacherOutputsKey key{r_.data.name, "train", train_set_->size(), hash_dataset(*train_set_), {}};
    std::map<std::string, Shape> needed;
    for (size_t k = 0; k < teachers_.size(); ++k) {
      key.teachers.push_back({r_.teachers[k].model, teacher_hashes_[k]});
      std::string prefix = distill::teacher_prefix(int64_t(k));
      needed[prefix + ".logits"] = {num_classes_};
      for (const std::string& tap : teacher_taps_[k]) {
        const Shape& s = shapes_[0].at(prefix + "." + tap);
        needed[prefix + "." + tap] = Shape(s.begin() + 1, s.end());
      }
    }
    bool read = spec.mode == "read" || (spec.mode == "auto" && fs::exists(spec.file));
    if (read) {
      outputs_ = std::make_unique<TeacherOutputs>(TeacherOutputs::read(spec.file, key, needed));
      io_.err << fmt::format("tutor distill: teacher outputs read from {}\n", spec.file);
    } else {
      outputs_ = std::make_unique<TeacherOutputs>(compute_teacher_outputs(key));
      outputs_->write(spec.file);
      io_.err << fmt::format("tutor distill: teacher outputs of {} images written to {}\n",
                             key.rows, spec.file);
    }
    if (r_.data.augments())
      io_.err << "tutor distill: note: the stored teacher outputs are of the un-augmented images; "
                 "the student sees augmented ones\n";
  }

  TeacherOutputs compute_teacher_outputs(const TeacherOutputsKey& key) {
    NoGradGuard no_grad;
    std::map<std::string, std::vector<Tensor>> parts;
    auto loader = eval_loader(train_set_, r_.batch_size);
    for (data::Batch& b : loader->epoch(0))
      for (size_t k = 0; k < teachers_.size(); ++k) {
        std::string prefix = distill::teacher_prefix(int64_t(k));
        teachers_[k]->eval();
        models::Taps taps(teacher_taps_[k]);
        parts[prefix + ".logits"].push_back(
            teachers_[k]->forward(b.images, teacher_taps_[k].empty() ? nullptr : &taps));
        for (const auto& [name, value] : taps.tensors())
          parts[prefix + "." + name].push_back(value);
      }
    std::map<std::string, Tensor> tensors;
    for (auto& [name, list] : parts) tensors[name] = cat(list, 0);
    return TeacherOutputs(key, std::move(tensors));
  }

  RunRecord get_teacher(size_t k) {
    const distill::TeacherSpec& spec = r_.teachers[k];
    std::shared_ptr<models::Model> model = teachers_[k];
    RunRecord rec;
    rec.name = distill::teacher_prefix(int64_t(k));
    rec.model = spec.model;
    auto test_loader = eval_loader(test_set_, r_.batch_size);
    ProgressBar bar("");
    Stopwatch clock;
    if (!spec.train) {
      load_weights(*model, spec.weights);
      rec.objectives = "loaded from " + spec.weights;
    } else {
      const distill::TeacherTraining& t = *spec.train;
      rec.objectives =
          fmt::format("1 ce, trained {} epochs on {} labeled images", t.epochs, train_set_->size());
      io_.err << fmt::format("tutor distill: training {} {} ({} parameters), {} epochs\n", rec.name,
                             spec.model, model->num_parameters(), t.epochs);
      model->train();
      auto optimizer = make_optimizer(model->parameters(), t.optimizer);
      auto schedule = make_schedule(*optimizer, t.schedule, t.epochs);
      data::DataLoader loader(
          train_set_, train_options(r_, t.batch_size, data::mix_seed(r_.seed, kTeacherStream + k)));
      int64_t step = 0;
      for (int64_t epoch = 0; epoch < t.epochs; ++epoch) {
        EpochPoint p;
        p.epoch = epoch + 1;
        p.lr = optimizer->param_groups()[0].lr();
        Stopwatch epoch_clock;
        bar.set_label(fmt::format("{} {}/{}", rec.name, epoch + 1, t.epochs));
        EpochStats s = train_epoch(
            loader, epoch, *optimizer, step,
            [&](data::Batch& b, int64_t) -> StepResult {
              Tensor logits = model->forward(b.images, nullptr);
              Tensor loss = cross_entropy(logits, b.labels);
              return {loss, logits, b.labels, {}};
            },
            bar);
        schedule->step();
        EvalResult ev = evaluate(*model, *test_loader, num_classes_, &bar);
        p.train_loss = s.loss;
        p.train_acc = s.accuracy;
        p.test_loss = ev.loss;
        p.test_acc = ev.accuracy;
        p.parts = {{"ce", s.loss}};
        p.seconds = epoch_clock.seconds();
        metrics_->write(epoch_record(rec.name, spec.model, p, s));
        rec.epochs.push_back(p);
        io_.err << fmt::format("{} epoch {}/{}: train loss {:.4f} acc {:.2f}%, test acc {:.2f}%\n",
                               rec.name, epoch + 1, t.epochs, s.loss, 100 * s.accuracy,
                               100 * ev.accuracy);
      }
      save_weights(*model, (out_ / (rec.name + ".safetensors")).string(),
                   {{"model", spec.model}, {"recipe", r_.name}});
    }
    EvalResult ev = evaluate(*model, *test_loader, num_classes_, &bar);
    rec.test_acc = ev.accuracy;
    rec.test_loss = ev.loss;
    rec.seconds = clock.seconds();
    io_.err << fmt::format("{} {}: test acc {:.2f}%\n", rec.name, spec.model, 100 * ev.accuracy);
    return rec;
  }

  // Trains the recipe's student (or its students, together) with the objectives of `e`: one
  // record per student.
  std::vector<RunRecord> run_student(const distill::Experiment& e) {
    const size_t n = r_.students.size();
    manual_seed(r_.seed);  // every experiment starts from the same students
    const int64_t subclasses = distill::subclasses_per_class(e);  // lelp: a C*k-way student
    std::vector<std::shared_ptr<models::Model>> students;
    for (const std::string& model : r_.students) {
      students.push_back(new_model(model, subclasses));
      students.back()->train();
    }
    std::vector<distill::Student> cohort;
    bool teacher_read = false, peer_read = false, two_views = false;
    int64_t student_parameters = 0, objective_parameters = 0;
    std::vector<nn::ModulePtr> kd_heads(n);  // DHO's second head of each student, or null
    for (size_t k = 0; k < n; ++k) {
      std::vector<distill::Term> terms = distill::make_terms(r_, e, shapes_[k]);
      if (auto fitted = lelp_projections_.find(e.name); fitted != lelp_projections_.end())
        for (distill::Term& t : terms)
          if (t.objective->name() == "lelp")
            t.objective->load_state_dict({{"null_projector", fitted->second.null_projector},
                                          {"means", fitted->second.means},
                                          {"directions", fitted->second.directions},
                                          {"scales", fitted->second.scales}});
      // MLKD's two views: every participant sees the rows [weak; strong], each half separately.
      for (const distill::Term& t : terms) {
        std::vector<std::string> in = t.objective->inputs();
        two_views = two_views || std::any_of(in.begin(), in.end(), [](const std::string& s) {
                      return s.ends_with(".logits_strong");
                    });
        if (t.objective->name() == "dho") kd_heads[k] = t.objective->submodule("kd_head");
      }
      for (const distill::Term& t : terms) {
        objective_parameters += t.objective->num_parameters();
        for (const std::string& in : t.objective->inputs()) {
          std::string owner = distill::split_input_name(in).first;
          teacher_read = teacher_read || owner.starts_with("teacher");
          peer_read = peer_read || owner.starts_with("peer");
        }
      }
      distill::Participant learner = participant(students[k], false);
      if (reads(terms, "student.aspect_logits"))
        learner = distill::with_head(learner, aspect_head(shapes_[k].at("student.pooled").at(1)),
                                     "aspect_logits", "aspect_head");
      if (reads(terms, "student.ss_feat"))
        learner = distill::with_ss_module(
            learner, distill::make_ss_module(shapes_[k].at("student.pooled").at(1)));
      student_parameters += learner.module->num_parameters();  // with its heads
      cohort.push_back({learner, std::move(terms)});
    }
    if (two_views)
      for (distill::Student& st : cohort)
        st.participant = distill::with_strong_view(st.participant);
    std::vector<distill::Participant> teachers;
    if (teacher_read)
      for (size_t k = 0; k < teachers_.size(); ++k) {
        teachers.push_back(participant(teachers_[k], r_.teachers[k].train_mode));
        if (e.rotations && teacher_ss_[k])
          teachers.back() = distill::with_ss_module(teachers.back(), teacher_ss_[k]);
        if (two_views) teachers.back() = distill::with_strong_view(teachers.back());
      }
    distill::Distiller distiller(std::move(cohort), teachers);
    bool offline = outputs_ && teacher_read;
    // The cache holds one row per image; a rotation batch has four.
    bool cached = cache_ && teacher_read && !e.rotations;
    for (int64_t k = 0; cached && k < distiller.num_teachers(); ++k)
      cached = distiller.teacher_taps(k).empty();

    // One optimizer over every student's parameters: SGD and Adam update each parameter from its
    // own gradient and state, so this is each student with its own optimizer.
    auto optimizer = make_optimizer(distiller.trainable_parameters(), r_.optimizer);
    auto schedule = make_schedule(*optimizer, r_.schedule, r_.epochs);
    // Few labels: each step takes a batch of the unlabeled pool (an epoch is one pass over it)
    // and the next batch of the labeled pool, cycling; objectives that read the labels see the
    // labeled rows only (Distiller::step). Runs whose objectives all read the labels (the student
    // alone) skip the unlabeled images, which nothing would read.
    const bool unlabeled_read = teacher_read || peer_read;
    data::DataLoader loader(
        few_labels() ? unlabeled_set_ : train_set_,
        train_options(r_, r_.batch_size, r_.seed, num_classes_, true, two_views));
    std::unique_ptr<data::DataLoader> labeled_loader;
    if (few_labels())
      labeled_loader = std::make_unique<data::DataLoader>(
          labeled_set_, train_options(r_, r_.data.labeled_batch_size, r_.seed + 1));

    // Objectives with outer parameters: a bilevel step per training step on the next held-out
    // batch (distill/bilevel.h), the look-ahead with the students' current lr.
    std::vector<Tensor> outer = distiller.outer_parameters();
    std::unique_ptr<optim::Optimizer> outer_optimizer;
    std::unique_ptr<data::DataLoader> held_out_loader;
    if (!outer.empty()) {
      outer_optimizer = make_optimizer(outer, r_.outer_optimizer);
      data::LoaderOptions o;
      o.batch_size = r_.batch_size;
      o.shuffle = true;
      o.seed = r_.seed + 2;
      o.transforms.push_back(data::Normalize{{kFashionMnistMean}, {kFashionMnistStd}});
      held_out_loader = std::make_unique<data::DataLoader>(held_out_set_, o);
    }

    std::vector<RunRecord> recs(n);
    for (size_t k = 0; k < n; ++k) {
      recs[k].name = e.name;
      recs[k].student = n > 1 ? distill::student_label(int64_t(k)) : "";
      recs[k].model = r_.students[k];
      recs[k].objectives = describe(e);
    }
    io_.err << fmt::format(
        "tutor distill: experiment {}: {} ({} parameters{}){}{}{}{}{}\n", e.name,
        recs[0].objectives, student_parameters,
        objective_parameters ? fmt::format(", {} in the objectives", objective_parameters) : "",
        n > 1 ? fmt::format(", {} students together", n) : "",
        offline  ? ", teacher outputs from " + r_.teacher_outputs.file
        : cached ? ", teacher logits cached"
                 : "",
        r_.data.mixup ? ", partial mixup" : "", e.ce_group.empty() ? "" : ", gradient alignment",
        outer.empty()
            ? ""
            : fmt::format(", bilevel outer step on {} held-out images", held_out_set_->size()));
    auto test_loader = eval_loader(test_set_, r_.batch_size);
    // DHO's students are also evaluated with both heads blended: the table's rows
    // "<experiment>+blend".
    std::vector<RunRecord> blended = recs;
    for (RunRecord& b : blended) b.name += "+blend";
    ProgressBar bar("");
    Stopwatch clock;
    int64_t step = 0, epoch = 0;
    std::vector<EpochMeans> means;  // per student, over the epoch
    StepFn fn = [&](data::Batch& b, int64_t at) -> StepResult {
      Tensor x = b.images, labels = b.labels;
      std::vector<int64_t> ids = b.indices;
      if (few_labels()) {
        int64_t per_epoch = labeled_loader->batches_per_epoch();
        data::Batch lb = labeled_loader->batch(at / per_epoch, at % per_epoch);
        labels = lb.labels;
        if (unlabeled_read) {
          x = cat({lb.images, b.images}, 0);
          ids = lb.indices;
          for (int64_t i : b.indices) ids.push_back(i + n_labeled_);
        } else {
          x = lb.images;
          ids = lb.indices;
        }
      }
      if (two_views) x = cat({x, b.strong_images}, 0);
      if (e.rotations) {
        x = distill::rotation_batch(x);
        labels = repeat_interleave(labels, 4);
      }
      distill::Context ctx{epoch, r_.epochs, at};
      // Mixup: the images are mixed (the loader's last transform); objectives read the mixed
      // targets, and the training accuracy counts each row's largest target as its label.
      distill::Inputs data;
      if (cost_matrix_.defined()) data.set("cost_matrix", cost_matrix_);
      if (aspect_targets_.defined()) {
        std::vector<int64_t> rows;
        for (int64_t id : ids) rows.push_back(dataset_row_[size_t(id)]);
        data.set("aspect_targets", index_select(aspect_targets_, 0,
                                                from_vector(rows, {int64_t(rows.size())},
                                                            TensorOptions(DType::i64))));
      }
      if (r_.data.mixup) {
        data.set("soft_labels", b.targets);
        labels = Tensor();
      }
      distill::Distiller::Output o;
      if (offline) {
        std::vector<int64_t> rows;
        for (int64_t id : ids) rows.push_back(dataset_row_[size_t(id)]);
        distill::Inputs t = outputs_->rows(rows);
        o = distiller.step(x, labels, ctx, &t, &data);
      } else if (cached) {
        distill::Inputs t = cache_->get(ids, [&] { return distiller.teacher_outputs(x); });
        o = distiller.step(x, labels, ctx, &t, &data);
      } else {
        o = distiller.step(x, labels, ctx, nullptr, &data);
      }
      if (outer_optimizer) {
        // Logged with every student: the held-out loss summed over the students at theta'.
        const int64_t per_epoch = held_out_loader->batches_per_epoch();
        data::Batch hb = held_out_loader->batch(at / per_epoch, at % per_epoch);
        outer_optimizer->zero_grad();
        const double held_out_ce =
            distiller.bilevel_backward(o, hb.images, hb.labels, optimizer->param_groups()[0].lr());
        outer_optimizer->step();
        o.parts.emplace_back("outer.held_out_ce", held_out_ce);
        for (auto& so : o.students) so.parts.emplace_back("outer.held_out_ce", held_out_ce);
      }
      Tensor scored = r_.data.mixup ? b.targets.argmax(1) : labels;
      // Rotation batches: the training accuracy counts the unrotated images (rows 4i); lelp's
      // subclass head its class logits.
      auto unrotated = [&](const Tensor& logits) {
        return e.rotations ? logits.reshape({-1, 4, num_classes_}).select(1, 0)
                           : distill::class_logits_of_subclasses(logits, subclasses);
      };
      if (e.rotations) scored = b.labels;
      for (size_t k = 0; k < n; ++k)
        means[k].add(o.students[k].loss.item(), unrotated(o.students[k].logits), scored,
                     o.students[k].parts);
      StepResult result{o.loss, unrotated(o.student_logits), scored, o.parts};
      if (!e.ce_group.empty())
        result.backward = [&distiller, o, &e] { distiller.backward(o, e.ce_group); };
      if (outer_optimizer) result.backward = [] {};  // bilevel_backward set the students' gradients
      return result;
    };
    for (; epoch < r_.epochs; ++epoch) {
      means.assign(n, EpochMeans());
      double lr = optimizer->param_groups()[0].lr();
      Stopwatch epoch_clock;
      bar.set_label(fmt::format("{} {}/{}", e.name, epoch + 1, r_.epochs));
      EpochStats s = train_epoch(loader, epoch, *optimizer, step, fn, bar);
      schedule->step();
      for (size_t k = 0; k < n; ++k) {
        EvalResult ev = evaluate(*students[k], *test_loader, num_classes_, &bar, subclasses);
        EpochStats own = means[k].stats();
        EpochPoint p;
        p.epoch = epoch + 1;
        p.lr = lr;
        p.train_loss = own.loss;
        p.train_acc = own.accuracy;
        p.test_loss = ev.loss;
        p.test_acc = ev.accuracy;
        p.parts = own.parts;
        p.seconds = epoch_clock.seconds();
        JsonObject record = epoch_record(e.name, r_.students[k], p, s, recs[k].student);
        std::string blend_note;
        if (kd_heads[k]) {
          DualHeadResult d = evaluate_dual_head(*students[k], *kd_heads[k], *test_loader);
          record.add("dual_head", JsonObject()
                                      .add("test_acc", d.choice.accuracy / 100)
                                      .add("alpha", d.choice.alpha)
                                      .add("beta", d.choice.beta)
                                      .add("kd_head_test_acc", d.kd_head_accuracy));
          blend_note = fmt::format(", blended heads {:.2f}% (alpha {:g}, beta {:g})",
                                   d.choice.accuracy, d.choice.alpha, d.choice.beta);
          EpochPoint bp = p;
          bp.test_acc = d.choice.accuracy / 100;
          blended[k].epochs.push_back(bp);
          blended[k].test_acc = bp.test_acc;
          blended[k].objectives = fmt::format(
              "{}, fc and kd_head blended: alpha {:g}, beta {:g} (the test split's best)",
              recs[k].objectives, d.choice.alpha, d.choice.beta);
        }
        metrics_->write(record);
        recs[k].epochs.push_back(p);
        recs[k].test_acc = ev.accuracy;
        recs[k].test_loss = ev.loss;
        io_.err << fmt::format(
            "{} epoch {}/{}: train loss {:.4f} acc {:.2f}%, test acc {:.2f}%{}\n",
            run_label(recs[k]), epoch + 1, r_.epochs, own.loss, 100 * own.accuracy,
            100 * ev.accuracy, blend_note);
      }
    }
    for (size_t k = 0; k < n; ++k) {
      recs[k].seconds = clock.seconds();
      std::map<std::string, std::string> metadata = {
          {"model", r_.students[k]}, {"recipe", r_.name}, {"experiment", e.name}};
      if (n > 1) metadata["student"] = recs[k].student;
      save_weights(
          *students[k],
          (out_ / (distill::student_label(int64_t(k)) + "-" + e.name + ".safetensors")).string(),
          metadata);
      if (kd_heads[k])
        save_safetensors(
            (out_ / (distill::student_label(int64_t(k)) + "-" + e.name + ".kd_head.safetensors"))
                .string(),
            kd_heads[k]->state_dict(), metadata);
    }
    std::vector<RunRecord> out;
    for (size_t k = 0; k < n; ++k) {
      out.push_back(recs[k]);
      if (kd_heads[k]) {
        blended[k].seconds = recs[k].seconds;
        out.push_back(blended[k]);
      }
    }
    return out;
  }

  Recipe r_;
  fs::path out_;
  bool use_cache_;
  bool fuse_teachers_;
  std::vector<std::string> teacher_hashes_;  // hash_state_dict of each teacher before folding
  Io& io_;
  std::unique_ptr<JsonlWriter> metrics_;
  std::shared_ptr<data::TensorDataset> train_set_, test_set_, labeled_set_, unlabeled_set_,
      held_out_set_;
  int64_t num_classes_ = 0, in_channels_ = 0, n_labeled_ = 0, n_unlabeled_ = 0;
  std::vector<std::shared_ptr<models::Model>> teachers_;
  std::vector<std::shared_ptr<nn::Sequential>> teacher_ss_;  // SSKD ss modules (null: none)
  std::vector<distill::Shapes> shapes_;  // per student: the inputs as its objectives see them
  std::unique_ptr<TeacherCache> cache_;
  Tensor cost_matrix_;
  std::map<std::string, distill::LelpProjection> lelp_projections_;  // by experiment
  Tensor aspect_targets_;  // multi_aspect's, [N, A] f32, a row per training image  // wkd_l's, [C,
                           // C] f32: loaded with the recipe or computed after teachers
  std::unique_ptr<TeacherOutputs> outputs_;
  std::vector<std::vector<std::string>> teacher_taps_;  // per teacher: the taps objectives read
  std::vector<int64_t> dataset_row_;  // training image id (labeled, then unlabeled) -> row
  std::vector<RunRecord> teacher_records_, student_records_;
};

void run_distill(const Args& args, Io& io) {
  if (!args.given("recipe")) throw UsageError("tutor distill: --recipe FILE is required");
  Recipe recipe = distill::load_recipe(args.get_string("recipe"));
  if (args.given("epochs")) {
    recipe.epochs = args.get_int("epochs");
    if (recipe.epochs <= 0)
      throw UsageError(
          fmt::format("tutor distill: --epochs must be positive, got {}", recipe.epochs));
    recipe.schedule.warmup_epochs = std::min(recipe.schedule.warmup_epochs, recipe.epochs - 1);
  }
  if (args.given("seed")) {
    int64_t seed = args.get_int("seed");
    if (seed < 0) throw UsageError(fmt::format("tutor distill: --seed must be >= 0, got {}", seed));
    recipe.seed = uint64_t(seed);
  }
  if (args.given("threads")) recipe.threads = args.get_int("threads");
  if (recipe.threads < 0)
    throw UsageError(fmt::format("tutor distill: --threads must be >= 0, got {}", recipe.threads));
  if (recipe.threads > 0) kernels::cpu::set_num_threads(int(recipe.threads));
  if (args.given("data-dir")) recipe.data.dir = args.get_string("data-dir");
  if (args.given("teacher-outputs")) {
    if (recipe.teachers.empty())
      throw UsageError("tutor distill: --teacher-outputs: the recipe has no teacher");
    recipe.teacher_outputs.file = args.get_string("teacher-outputs");
  }
  fs::path out =
      args.given("out") ? fs::path(args.get_string("out")) : fs::path("distill-runs") / recipe.name;
  DistillRun run(std::move(recipe), out, !args.get_bool("no-cache"), !args.get_bool("no-fuse"), io);
  run.run(args.given("only") ? args.get_string("only") : std::string());
}

}  // namespace

Command distill_command() {
  std::vector<FlagSpec> flags = {
      {"recipe", FlagType::string, "", "the recipe, a YAML file (distill/recipes/)", "FILE"},
      {"out", FlagType::string, "", "output directory (default: distill-runs/<recipe name>)",
       "DIR"},
      {"epochs", FlagType::integer, "", "student epochs (default: the recipe's)"},
      {"seed", FlagType::integer, "", "seed (default: the recipe's)"},
      {"threads", FlagType::integer, "", "CPU kernel threads (default: the recipe's)"},
      {"only", FlagType::string, "", "run the teachers and this experiment only", "EXPERIMENT"},
      {"data-dir", FlagType::string, "", "directory of the dataset (default: the recipe's)", "DIR"},
      {"no-cache", FlagType::boolean, "", "compute the teacher logits at every step"},
      {"no-fuse", FlagType::boolean, "",
       "keep an eval-mode teacher's BatchNorms apart (default: folded into its convs)"},
      {"teacher-outputs", FlagType::string, "",
       "offline KD: read the teachers' outputs on the training images from FILE, or compute and "
       "write them there when it does not exist (default: the recipe's teacher_outputs)",
       "FILE"},
  };
  CommandSpec spec{
      {"distill"},
      "distill a teacher into a student from a recipe; table, metrics and HTML report",
      "Reads the recipe (distill/recipes/README.md), trains the teacher(s) or loads their\n"
      "weights, then trains the student from the same initialization once per experiment: the\n"
      "student alone (\"baseline\": cross-entropy) and with each experiment's weighted\n"
      "objectives. Evaluates on the test split after every epoch and prints a table of the test\n"
      "accuracies with each experiment's difference to the baseline. When the training images\n"
      "are not augmented and the teachers run in eval mode, the teacher logits are computed once\n"
      "per image and reused (--no-cache turns that off); an eval-mode teacher has its\n"
      "BatchNorms folded into its convs for the students' runs (--no-fuse turns that off). With "
      "--teacher-outputs FILE (or the\n"
      "recipe's teacher_outputs), they are computed once on the un-augmented images, written to\n"
      "FILE, and read from it by later runs (checked against the teachers' weights and the\n"
      "data). A recipe with `students:` trains its students together in every experiment\n"
      "(online distillation, e.g. dml) and reports each as <experiment>/student<k>. Writes to\n"
      "OUT:\n"
      "  metrics.jsonl        one line per run and epoch: run, student (with several), model,\n"
      "                       epoch, train_loss, train_acc, test_loss, test_acc, lr, seconds,\n"
      "                       images (rows seen), labeled_images, images_per_second,\n"
      "                       parts (the epoch mean of every objective and part)\n"
      "  teacher.safetensors  each trained teacher's weights (teacher1, ... for more)\n"
      "  student-<experiment>.safetensors   each student's weights after its last epoch\n"
      "                       (student1-<experiment>, ... for further students)\n"
      "  report.html          the table and the training curves (self-contained)",
      flags,
      {}};
  return {spec, run_distill};
}

}  // namespace tutor::cli
