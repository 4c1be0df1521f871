#include "distill/distiller.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "distill/gradient_alignment.h"
#include "engine/autograd/grad_mode.h"
#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

const std::vector<std::string>& weight_schedules() {
  static const std::vector<std::string> names = {"constant", "warmup", "cosine"};
  return names;
}

double Term::weight_at(const Context& ctx) const {
  if (schedule == "constant") return weight;
  if (schedule == "warmup") {
    TUTOR_CHECK(warmup_epochs > 0, "objective {}: the warmup schedule needs warmup_epochs > 0",
                objective->name());
    return weight * std::min(double(ctx.epoch + 1) / double(warmup_epochs), 1.0);
  }
  if (schedule == "cosine")
    return weight * 0.5 * (1 + std::cos(std::numbers::pi * double(ctx.epoch) / double(ctx.epochs)));
  fail("objective {}: unknown weight schedule '{}' (known: {})", objective->name(), schedule,
       fmt::join(weight_schedules(), ", "));
}

static void add_unique(std::vector<std::string>& list, const std::vector<std::string>& more) {
  for (const std::string& s : more)
    if (std::find(list.begin(), list.end(), s) == list.end()) list.push_back(s);
}

std::string student_label(int64_t k) { return k == 0 ? "student" : fmt::format("student{}", k); }

int64_t peer_student(int64_t reader, int64_t p) { return p < reader ? p : p + 1; }

// "student<k>: " before a message about student k of n; nothing with one student, whose messages
// read as they did before students were several.
static std::string whose(size_t k, size_t n) {
  return n == 1 ? std::string() : student_label(int64_t(k)) + ": ";
}

Distiller::Distiller(Participant student, std::vector<Participant> teachers,
                     std::vector<Term> terms)
    : Distiller(std::vector<Student>{{std::move(student), std::move(terms)}}, std::move(teachers)) {
}

Distiller::Distiller(std::vector<Student> students, std::vector<Participant> teachers)
    : students_(std::move(students)), teachers_(std::move(teachers)) {
  TUTOR_CHECK(!students_.empty(), "Distiller: no student");
  const size_t n = students_.size();
  student_taps_.resize(n);
  teacher_taps_.resize(teachers_.size());
  std::vector<const Objective*> seen;
  for (size_t k = 0; k < n; ++k) {
    const Student& s = students_[k];
    TUTOR_CHECK(s.participant.module && s.participant.forward,
                "Distiller: {}the student is not set", whose(k, n));
    TUTOR_CHECK(!s.terms.empty(), "Distiller: {}no objectives", whose(k, n));
    for (const Term& term : s.terms) {
      TUTOR_CHECK(term.objective, "Distiller: {}a term has no objective", whose(k, n));
      // An objective's modules train with one student: a shared instance would train with two.
      TUTOR_CHECK(std::find(seen.begin(), seen.end(), term.objective.get()) == seen.end(),
                  "Distiller: {}objective {} is given twice (each student needs its own)",
                  whose(k, n), term.objective->name());
      seen.push_back(term.objective.get());
      term.weight_at({});  // rejects an unknown schedule before training starts
      add_unique(student_taps_[k], term.objective->student_taps());
      for (size_t t = 0; t < teachers_.size(); ++t)
        add_unique(teacher_taps_[t], term.objective->teacher_taps(int64_t(t)));
      for (size_t p = 0; p + 1 < n; ++p)
        add_unique(student_taps_[size_t(peer_student(int64_t(k), int64_t(p)))],
                   term.objective->peer_taps(int64_t(p)));
      for (const std::string& input : term.objective->inputs()) {
        auto [owner, rest] = split_input_name(input);
        int64_t teacher = prefix_index(owner, "teacher"), peer = prefix_index(owner, "peer");
        bool known = owner.empty() || owner == "student" ||
                     (teacher >= 0 && size_t(teacher) < teachers_.size()) ||
                     (peer >= 0 && size_t(peer) + 1 < n);
        TUTOR_CHECK(known,
                    "{}objective {} reads '{}', but the distiller has {} teacher(s) and {} "
                    "student(s)",
                    whose(k, n), term.objective->name(), input, teachers_.size(), n);
      }
    }
  }
  for (Participant& t : teachers_) {
    TUTOR_CHECK(t.module && t.forward, "Distiller: a teacher is not set");
    t.module->requires_grad_(false);
  }
}

Inputs Distiller::teacher_outputs(const Tensor& x) {
  NoGradGuard no_grad;
  Inputs out;
  for (size_t k = 0; k < teachers_.size(); ++k) {
    Participant& t = teachers_[k];
    t.module->train(t.train_mode);
    std::map<std::string, Tensor> taps;
    std::string prefix = teacher_prefix(int64_t(k));
    out.set(prefix + ".logits", t.forward(x, teacher_taps_[k], taps));
    for (auto& [name, value] : taps) out.set(prefix + "." + name, value);
  }
  return out;
}

// `in` with every tensor cut to its first `rows` rows.
static Inputs first_rows(const Inputs& in, int64_t rows) {
  Inputs out;
  for (const auto& [name, t] : in.tensors())
    out.set(name, t.dim() > 0 && t.size(0) > rows ? t.narrow(0, 0, rows) : t);
  return out;
}

Distiller::Output Distiller::step(const Tensor& x, const Tensor& labels, const Context& ctx,
                                  const Inputs* teacher, const Inputs* data) {
  Inputs shared = teacher ? *teacher : teacher_outputs(x);
  if (data)
    for (const auto& [name, t] : data->tensors()) {
      auto [owner, rest] = split_input_name(name);
      TUTOR_CHECK(owner.empty() && name != "labels" && name != "unlabeled_mask",
                  "Distiller: data input '{}' must belong to no model and not be labels or "
                  "unlabeled_mask",
                  name);
      shared.set(name, t);
    }
  const size_t n = students_.size();
  // Every student's logits and taps, "logits" among them.
  std::vector<std::map<std::string, Tensor>> outputs(n);
  for (size_t k = 0; k < n; ++k) {
    Participant& s = students_[k].participant;
    // The objectives' own modules (heads with dropout and batch norm, running buffers) train and
    // evaluate with their student.
    for (const Term& term : students_[k].terms) term.objective->train(s.module->is_training());
    Tensor logits = s.forward(x, student_taps_[k], outputs[k]);
    outputs[k]["logits"] = logits;
  }
  const int64_t rows = outputs[0]["logits"].size(0);
  int64_t labeled = rows;
  if (labels.defined()) {
    TUTOR_CHECK(labels.dim() == 1 && labels.size(0) <= rows,
                "Distiller: labels must be [L] with L <= the batch's {} rows, got {}", rows,
                labels.sizes());
    labeled = labels.size(0);
    shared.set("labels", labels);
  }
  // For objectives that read every row and treat the two sets apart (DHO).
  Tensor unlabeled_mask;
  if (labeled < rows) {
    unlabeled_mask = zeros({rows}, DType::i64);
    unlabeled_mask.narrow(0, labeled, rows - labeled).fill_(1);
  }

  Output out;
  for (size_t k = 0; k < n; ++k) {
    Inputs inputs = shared;
    for (auto& [name, value] : outputs[k]) inputs.set("student." + name, value);
    for (size_t p = 0; p + 1 < n; ++p)
      for (auto& [name, value] : outputs[size_t(peer_student(int64_t(k), int64_t(p)))])
        inputs.set(peer_prefix(int64_t(p)) + "." + name, value.detach());
    Inputs labeled_inputs;
    if (labeled < rows) {
      labeled_inputs = first_rows(inputs, labeled);
      inputs.set("unlabeled_mask", unlabeled_mask);
    }
    StudentOutput so;
    so.logits = outputs[k]["logits"];
    for (const Term& term : students_[k].terms) {
      const std::string& name = term.objective->name();
      Result r;
      try {
        std::vector<std::string> reads = term.objective->inputs();
        bool cut = labeled < rows && std::find(reads.begin(), reads.end(), "labels") != reads.end();
        r = term.objective->compute(cut ? labeled_inputs : inputs, ctx);
      } catch (const Error& e) {
        throw Error(fmt::format("{}objective {}: {}", whose(k, n), name, e.what()));
      }
      double value = r.loss.item();
      TUTOR_CHECK(std::isfinite(value), "step {} (epoch {}): {}objective {} produced a loss of {}",
                  ctx.step, ctx.epoch, whose(k, n), name, value);
      so.parts.emplace_back(name, value);
      for (auto& [part, t] : r.parts) so.parts.emplace_back(name + "." + part, t.item());
      Tensor weighted = r.loss * term.weight_at(ctx);
      so.terms.push_back(weighted);
      so.loss = so.loss.defined() ? so.loss + weighted : weighted;
    }
    out.loss = out.loss.defined() ? out.loss + so.loss : so.loss;
    out.students.push_back(std::move(so));
  }
  out.student_logits = out.students[0].logits;
  out.terms = out.students[0].terms;
  out.parts = out.students[0].parts;
  return out;
}

void Distiller::backward(const Output& out, const std::vector<bool>& ce_group) {
  if (ce_group.empty()) {
    out.loss.backward();
    return;
  }
  TUTOR_CHECK(out.students.size() == students_.size(),
              "Distiller: backward needs the output of a step of this distiller");
  for (size_t k = 0; k < students_.size(); ++k) {
    const std::vector<Tensor>& terms = out.students[k].terms;
    TUTOR_CHECK(ce_group.size() == terms.size(),
                "Distiller: gradient alignment needs a group for each of the {} terms, got {}",
                terms.size(), ce_group.size());
    Tensor ce, kd;
    for (size_t i = 0; i < ce_group.size(); ++i) {
      Tensor& sum = ce_group[i] ? ce : kd;
      sum = sum.defined() ? sum + terms[i] : terms[i];
    }
    TUTOR_CHECK(ce.defined() && kd.defined(),
                "Distiller: gradient alignment needs a term in each group (CE and KD)");
    align_gradients(trainable_parameters(int64_t(k)), ce, kd);
  }
}

std::vector<Tensor> Distiller::trainable_parameters(int64_t k) const {
  const Student& s = students_.at(size_t(k));
  std::vector<Tensor> params = s.participant.module->parameters();
  for (const Term& term : s.terms)
    for (const Tensor& p : term.objective->parameters()) params.push_back(p);
  return params;
}

std::vector<Tensor> Distiller::trainable_parameters() const {
  std::vector<Tensor> params;
  for (size_t k = 0; k < students_.size(); ++k)
    for (const Tensor& p : trainable_parameters(int64_t(k))) params.push_back(p);
  return params;
}

}  // namespace tutor::distill
