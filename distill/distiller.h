// The Distiller: frozen teachers teach a student through weighted objectives.
//
// One step: every teacher runs under NoGradGuard (in eval mode unless its Participant says
// train, as mdistiller's OFD does), the student runs with grad, each objective reads the named
// outputs it asked for (distill/objective.h), and the loss is sum_i w_i(epoch) * L_i. The caller
// backpropagates (backward(): plainly, or with DHKD's gradient alignment between two groups of
// terms) and steps the optimizer over trainable_parameters(). A loss that is NaN or Inf is an
// Error naming the step and the objective.
//
// Several students (online distillation, DML: objectives.md §5.1) train together in one step:
// every student runs, each computes its own terms, and the loss is the sum over the students. A
// student's objectives read its own outputs as student.* and the other students' as peer.*,
// peer1.*, ... (objective.h): peers are numbered relative to the reader, like teachers, so one
// experiment's objectives serve every student unchanged (student k's peer p is student p for
// p < k and student p + 1 otherwise), and an objective needs no index of its own student. Peers'
// outputs arrive detached: a student's loss trains that student (and its objectives' modules)
// only, as DML computes each network's gradient from its own loss with the others' predictions
// as constants (YingZhangDUT/Deep-Mutual-Learning train_models.py: each network's loss is
// differentiated with respect to its own variables only).
//
// The Distiller knows no model class: a Participant is a module plus a forward that fills
// requested taps, so models/ and distill/ stay independent (DESIGN.md).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "distill/objective.h"

namespace tutor::distill {

struct Participant {
  std::shared_ptr<nn::Module> module;
  // Runs the model on x, storing each requested tap (never "logits") in `taps`; returns logits.
  std::function<Tensor(const Tensor& x, const std::vector<std::string>& requested,
                       std::map<std::string, Tensor>& taps)>
      forward;
  bool train_mode = false;  // teachers only: run in train mode (batch statistics)
};

// How an objective's weight moves over the run (epoch e of E, 0-based):
//   constant  w
//   warmup    w * min((e + 1) / warmup_epochs, 1)   (DKD's min(epoch / W, 1) with 1-based epochs)
//   cosine    w * (1 + cos(pi * e / E)) / 2
struct Term {
  std::shared_ptr<Objective> objective;
  double weight = 1;
  std::string schedule = "constant";
  int64_t warmup_epochs = 0;

  double weight_at(const Context& ctx) const;
};

// The weight schedules a Term accepts, for error messages and recipes.
const std::vector<std::string>& weight_schedules();

// One student and its terms; its objectives are its own (their modules train with it).
struct Student {
  Participant participant;
  std::vector<Term> terms;
};

// How a student is named in logs and reports: "student" for student 0, "student<k>" after it,
// as teacher_prefix names teachers.
std::string student_label(int64_t k);

// The student that student `reader`'s peer p is: p for p < reader, p + 1 otherwise.
int64_t peer_student(int64_t reader, int64_t p);

class Distiller {
 public:
  Distiller(Participant student, std::vector<Participant> teachers, std::vector<Term> terms);
  // Several students trained together; each objective instance belongs to one student.
  Distiller(std::vector<Student> students, std::vector<Participant> teachers);

  // What one student computed in a step.
  struct StudentOutput {
    Tensor loss;                // the sum of its weighted terms, with its graph
    Tensor logits;              // [B, C]
    std::vector<Tensor> terms;  // w_i(epoch) * L_i of each of its terms, in order
    // "<objective>" -> its unweighted loss, "<objective>.<part>" -> each part.
    std::vector<std::pair<std::string, double>> parts;
  };

  struct Output {
    Tensor loss;  // the sum over the students of their weighted terms, scalar
    // The first student's (the only one's with one student): logits [B, C], terms (which sum
    // to loss with one student) and parts.
    Tensor student_logits;
    std::vector<Tensor> terms;
    std::vector<std::pair<std::string, double>> parts;
    std::vector<StudentOutput> students;  // every student's, in order
  };
  //
  // `labels` may cover only the first L <= B rows of x (few-label training: labeled images
  // first, unlabeled ones after): an objective that reads "labels" then sees every input cut to
  // those L rows, the others see all B and the input "unlabeled_mask" (i64 [B], 1 on the rows
  // past L). `teacher` (optional) holds teacher outputs computed
  // earlier for exactly these rows (a teacher-logit cache); the teachers do not run then.
  // `data` (optional) holds inputs that belong to no model, one row per row of x where they have
  // rows, such as soft_labels (mixed targets) or aspect_targets.
  Output step(const Tensor& x, const Tensor& labels, const Context& ctx,
              const Inputs* teacher = nullptr, const Inputs* data = nullptr);

  // Backpropagates `out`: out.loss.backward() when `ce_group` is empty; otherwise DHKD's gradient
  // alignment (distill/gradient_alignment.h) of L_CE = the sum of the terms i with ce_group[i]
  // and L_KD = the sum of the others, over trainable_parameters(), whose .grad() it sets. With
  // several students each is aligned apart, over its own trainable_parameters(k) (a student's
  // loss reaches no other's), and ce_group applies to each student's terms.
  void backward(const Output& out, const std::vector<bool>& ce_group);

  // Teacher outputs for x as objectives name them ("teacher.logits", "teacher1.layer3"), computed
  // without grad; step() calls it, and a teacher-logit cache can call it ahead of time.
  Inputs teacher_outputs(const Tensor& x);

  // Every student's parameters, each followed by those of its objectives' own modules.
  std::vector<Tensor> trainable_parameters() const;
  // Student k's parameters followed by those of its objectives' modules.
  std::vector<Tensor> trainable_parameters(int64_t k) const;

  // The tap names the objectives read from teacher k (besides its logits).
  const std::vector<std::string>& teacher_taps(int64_t k) const { return teacher_taps_.at(size_t(k)); }
  int64_t num_teachers() const { return int64_t(teachers_.size()); }
  int64_t num_students() const { return int64_t(students_.size()); }

  Participant& student(int64_t k = 0) { return students_.at(size_t(k)).participant; }
  const std::vector<Term>& terms(int64_t k = 0) const { return students_.at(size_t(k)).terms; }

 private:
  std::vector<Student> students_;
  std::vector<Participant> teachers_;
  std::vector<std::vector<std::string>> student_taps_;  // per student: what any objective reads
  std::vector<std::vector<std::string>> teacher_taps_;
};

}  // namespace tutor::distill
