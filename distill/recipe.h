// Distillation recipes: YAML files that name the data, the teacher(s), the student, the optimizer
// and schedule, and the experiments (each a list of weighted objectives). `tutor distill
// --recipe FILE` runs them; the shipped ones live in distill/recipes/ (README.md there describes
// the schema with examples).
//
// Schema (every key optional unless marked; an unknown key or a wrong value is an Error naming
// the file, the key path such as `experiments[1].objectives[0].params.T`, and what was expected):
//
//   name: STRING                  (required) names the run in the report
//   seed: INT >= 0                0: initialization, shuffling and augmentation
//   epochs: INT > 0               15: student epochs
//   batch_size: INT > 0           128
//   threads: INT >= 0             0: CPU kernel threads (0: the library default)
//   data:
//     name: fashion-mnist         the only dataset so far
//     dir: PATH                   default: /usr/share/datasets/fashion-mnist
//     limit_train: INT >= 0       use the first N training images (0: all)
//     limit_test: INT >= 0        use the first N test images (0: all)
//     crop_padding: INT >= 0      2: RandomCrop padding of the training images (0: no crop)
//     flip: BOOL                  false: random horizontal flips of the training images
//     labeled: INT >= 0           0: all training images keep their labels. N > 0: a seeded
//                                 random N of them are labeled, the rest are unlabeled; each step
//                                 then takes batch_size unlabeled images and labeled_batch_size
//                                 labeled ones, and an epoch is one pass over the unlabeled pool
//     labeled_batch_size: INT > 0 32: labeled images per step when `labeled` is set
//     strong_view:                MLKD's strong view of every student training batch: crop and
//       ops: INT >= 0             2   flip drawn anew, RandAugment(ops) and Cutout (engine/data/
//                                     rand_augment.h); read as <model>.logits_strong
//     held_out: REAL | INT        0: none. A fraction in (0, 1) or a count >= 1 of the training
//                                 images (the last ones) kept out of training for the bilevel
//                                 outer step of objectives with outer parameters (tgeo_kd
//                                 bilevel: true, distill/bilevel.h): each step draws the next
//                                 batch_size of them, un-augmented. Every experiment of the run
//                                 trains without them. Not with `labeled`
//     mixup:                      MIX-KD's partial mixup of every training batch (engine/data/
//       partial: REAL in [0, 1]   0.9   mixing.h partial_mixup), after normalization: teachers
//       beta: REAL > 0            1.0   and student see the mixed images, objectives read the
//                                       mixed one-hot targets as `soft_labels`. Objectives that
//                                       read `labels` are refused (the hard labels no longer
//                                       describe the images), so is `labeled`
//   teacher:                      one teacher, or `teachers:` a list of them (not both)
//     model: NAME                 (required) a models/ registry name (resnet20, ...)
//     weights: PATH               a safetensors state dict to load (relative to the recipe), or
//     train:                      train it first with cross-entropy on every training image
//       epochs: INT > 0           (required)
//       batch_size, optimizer, schedule   as below; default: the recipe's own
//     mode: eval | train          eval: the teacher runs in eval mode (train: batch statistics)
//     ss_module:                  SSKD stage 1: an ss module on the teacher's pooled feature
//       epochs: INT > 0           (required) trained with sskd_aux on rotation batches, the
//       batch_size, optimizer, schedule   teacher frozen; read as teacher.ss_feat
//   teacher_outputs:              offline KD: the teachers' outputs on the training images
//     file: PATH                  (required) a safetensors file (relative to the recipe)
//     mode: auto | write | read   auto: read the file when it exists, else compute and write it
//   cost_matrix:                  wkd_l's [C, C] category cost matrix (input cost_matrix):
//     file: PATH                  a safetensors file with the tensor "cost_matrix", or
//     features: TAP | logits      computed by CKA (distill/cost_matrix.h) from the teacher's
//     per_class: INT > 0          100   features on the first per_class training images of
//     sharpen: REAL >= 0          1     each class, written to the output folder
//   lelp_projection:              lelp's null-space PCA projection (distill/lelp.h), fitted on
//     per_class: INT > 0          100   the first teacher's embeddings of the first per_class
//                                       training images of each class, written to the output
//                                       folder; an experiment with lelp gets a C*k-way student
//   aspect_targets:               multi_aspect's targets (input aspect_targets); the student gets
//     file: PATH                  an aspect head Linear(pooled, A) (tap aspect_logits)
//   student:                      one student, or `students:` a list of them (not both)
//     model: NAME                 (required)
//                                 Several students train together in every experiment (online
//                                 distillation: one step runs them all, distill/distiller.h),
//                                 each with its own instances of the experiment's objectives;
//                                 objectives read the other students as peer.*, peer1.*, ...
//   optimizer:
//     name: sgd | adam | adamw    sgd
//     lr: REAL > 0                0.05
//     momentum: REAL >= 0         0.9 (sgd)
//     weight_decay: REAL >= 0     5e-4
//     nesterov: BOOL              false (sgd)
//   outer_optimizer:              the optimizer of the outer parameters (keys as optimizer);
//                                 default adam, lr 0.1, weight_decay 0.05, the controller's in
//                                 Chengming0501/TGeo-KD src/fusion_ratio_bilevel.py
//   schedule:
//     name: cosine | step | constant   cosine, per epoch
//     step_size: INT > 0          5 (step: x0.1 every step_size epochs)
//     warmup_epochs: INT >= 0     0: linear warmup from lr / (K + 1)
//   baseline: BOOL                true: add the experiment "baseline" (objective ce, weight 1)
//   experiments:                  (a list; names unique, "baseline" reserved)
//     - name: STRING              (required)
//       gradient_alignment: BOOL | {ce: [OBJECTIVE, ...]}
//                                 false. true: the step backpropagates with DHKD's gradient
//                                 alignment (distill/gradient_alignment.h) between the "CE"
//                                 group (the objectives named ce; or those listed) and the "KD"
//                                 group (every other objective), each group's weighted sum
//       rotations: BOOL           false. true: each batch of n images becomes SSKD's rotation
//                                 batch of 4n rows (distill/rotation.h), labels repeated; needed
//                                 by objectives reading ss_feat; not with labeled, mixup or
//                                 teacher_outputs
//       objectives:               (required, non-empty)
//         - name: OBJECTIVE       (required) a registered objective (`tutor loss --list`)
//           weight: REAL          1
//           schedule: constant | warmup | cosine   constant (distill/distiller.h Term)
//           warmup_epochs: INT >= 0
//           params: {KEY: VALUE}  the objective's parameters, checked against its spec
//           view: weak | strong   weak. strong: every <model>.logits it reads is the strong
//                                 view's (needs data.strong_view), named "<name>[strong]"
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "distill/distiller.h"

namespace tutor::distill {

struct OptimizerSpec {
  std::string name = "sgd";
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  bool nesterov = false;
};

struct ScheduleSpec {
  std::string name = "cosine";
  int64_t step_size = 5;
  int64_t warmup_epochs = 0;
};

// MIX-KD's partial mixup (the reference's partmixup and beta_a).
struct MixupSpec {
  double partial = 0.9;
  double beta = 1.0;
};

// MLKD's strong view (engine/data/rand_augment.h StrongView): the crop and flip drawn anew, then
// FixMatch's RandAugment with `ops` ops and Cutout.
struct StrongViewSpec {
  int64_t ops = 2;
};

struct DataSpec {
  std::string name = "fashion-mnist";
  std::string dir;  // empty: the dataset's default location
  int64_t limit_train = 0;
  int64_t limit_test = 0;
  int64_t crop_padding = 2;
  bool flip = false;
  int64_t labeled = 0;
  int64_t labeled_batch_size = 32;
  double held_out = 0;  // < 1: a fraction of the training images; >= 1: a count; 0: none
  std::optional<MixupSpec> mixup;
  std::optional<StrongViewSpec> strong_view;

  // The number of the `train` training images held out.
  int64_t held_out_count(int64_t train) const;

  // Whether a training image differs from one epoch to the next (no teacher-logit cache then).
  // The strong view leaves the images as they are; the experiments that read it read teacher
  // logits on it, which no cache holds.
  bool augments() const { return crop_padding > 0 || flip || mixup.has_value(); }
};

struct TeacherTraining {
  int64_t epochs = 0;
  int64_t batch_size = 0;
  OptimizerSpec optimizer;
  ScheduleSpec schedule;
};

struct TeacherSpec {
  std::string model;
  std::string weights;                   // a file to load, resolved against the recipe's folder
  std::optional<TeacherTraining> train;  // exactly one of weights and train is set
  bool train_mode = false;               // mode: train
  // SSKD stage 1: an ss module (distill/ss_module.h) on the teacher's pooled feature, trained
  // with sskd_aux on rotation batches while the teacher's own weights stay fixed.
  std::optional<TeacherTraining> ss_module;
};

// Teacher outputs (logits and the taps the objectives read) on every un-augmented training image,
// stored in a file once and read by later runs instead of running the teachers
// (tools/cli/teacher_outputs.h).
struct TeacherOutputsSpec {
  std::string file;           // empty: not used; resolved against the recipe's folder
  std::string mode = "auto";  // auto | write | read
};

// WKD-L's [C, C] category cost matrix (distill/cost_matrix.h), the input `cost_matrix`: read
// from a file, or computed by linear CKA from the first teacher's class features once it is
// trained or loaded.
struct CostMatrixSpec {
  std::string file;         // a safetensors file holding "cost_matrix" [C, C]; or, when empty:
  std::string features;     // the teacher's tap (every spatial position a sample) or "logits"
  int64_t per_class = 100;  // the first N training images of each class
  double sharpen = 1;       // kappa of M <- 1 - exp(-kappa M) (0: none)
};

// lelp's projection (distill/lelp.h lelp_fit), fitted once the first teacher is trained or
// loaded, on its embedding tap (the lelp objective's `embedding`) of the un-augmented training
// images, with its classifier weight.
struct LelpProjectionSpec {
  int64_t per_class = 100;  // the first N training images of each class
};

struct ObjectiveEntry {
  std::string name;
  double weight = 1;
  std::string schedule = "constant";
  int64_t warmup_epochs = 0;
  std::map<std::string, std::string> params;
  std::string view = "weak";  // strong: reads the strong view's logits (distill/strong_view.h)
};

struct Experiment {
  std::string name;
  std::vector<ObjectiveEntry> objectives;
  // Gradient alignment: ce_group[j] says whether objectives[j] is in the "CE" group; empty: a
  // plain backward of the weighted sum.
  std::vector<bool> ce_group;
  // Every training batch of n images becomes SSKD's rotation batch of 4n rows (distill/
  // rotation.h), each row labeled with its image's label; the student gets an ss module when an
  // objective reads student.ss_feat.
  bool rotations = false;
};

struct Recipe {
  std::string path;  // the file it was read from ("" when parsed from text)
  std::string name;
  uint64_t seed = 0;
  int64_t epochs = 15;
  int64_t batch_size = 128;
  int64_t threads = 0;
  DataSpec data;
  std::vector<TeacherSpec> teachers;
  TeacherOutputsSpec teacher_outputs;
  std::optional<CostMatrixSpec> cost_matrix;
  std::optional<LelpProjectionSpec> lelp_projection;
  // multi_aspect's soft aspect targets: a safetensors file holding "aspect_targets" [N, A] in
  // [0, 1], one row per training image in the dataset's order ("" when not given).
  std::string aspect_targets;
  std::string student;                // the first (or only) student's model
  std::vector<std::string> students;  // every student's model; students[0] == student
  OptimizerSpec optimizer;
  OptimizerSpec outer_optimizer{"adam", 0.1, 0.9, 0.05, false};
  ScheduleSpec schedule;
  std::vector<Experiment> experiments;  // the baseline first, when it is added
};

// Reads and checks a recipe file. Errors name the file and the key path.
Recipe load_recipe(const std::string& path);
// The same from YAML text; `origin` names it in errors and resolves relative weight paths (its
// folder).
Recipe parse_recipe(const std::string& yaml, const std::string& origin);

// The Distiller terms of `experiment`, each objective built with its parameters and the shapes of
// the inputs it will see; a bad parameter value is an Error naming the recipe, the experiment and
// the objective's position.
std::vector<Term> make_terms(const Recipe& recipe, const Experiment& experiment,
                             const Shapes& shapes);

// The k of the experiment's lelp objective, whose student has a C*k-way classifier (column
// c*k + j: subclass j of class c); 1 without lelp.
int64_t subclasses_per_class(const Experiment& experiment);

// The experiment "baseline" that `baseline: true` adds: the student alone, objective ce, weight 1
// (each student alone, with several).
Experiment baseline_experiment();

}  // namespace tutor::distill
