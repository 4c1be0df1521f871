#include "distill/distiller.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "distill/bilevel.h"
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

Distiller::Distiller(Participant student, std::vector<Participant> teachers, std::vector<Term> terms)
    : student_(std::move(student)), teachers_(std::move(teachers)), terms_(std::move(terms)) {
  TUTOR_CHECK(student_.module && student_.forward, "Distiller: the student is not set");
  TUTOR_CHECK(!terms_.empty(), "Distiller: no objectives");
  teacher_taps_.resize(teachers_.size());
  for (const Term& term : terms_) {
    TUTOR_CHECK(term.objective, "Distiller: a term has no objective");
    term.weight_at({});  // rejects an unknown schedule before training starts
    add_unique(student_taps_, term.objective->student_taps());
    for (size_t k = 0; k < teachers_.size(); ++k)
      add_unique(teacher_taps_[k], term.objective->teacher_taps(int64_t(k)));
    for (const std::string& input : term.objective->inputs()) {
      auto [owner, rest] = split_input_name(input);
      bool known = owner.empty() || owner == "student";
      for (size_t k = 0; k < teachers_.size(); ++k) known = known || owner == teacher_prefix(int64_t(k));
      TUTOR_CHECK(known, "objective {} reads '{}', but the distiller has {} teacher(s)",
                  term.objective->name(), input, teachers_.size());
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
  Inputs inputs = teacher ? *teacher : teacher_outputs(x);
  if (data)
    for (const auto& [name, t] : data->tensors()) {
      auto [owner, rest] = split_input_name(name);
      TUTOR_CHECK(owner.empty() && name != "labels" && name != "unlabeled_mask",
                  "Distiller: data input '{}' must belong to no model and not be labels or "
                  "unlabeled_mask",
                  name);
      inputs.set(name, t);
    }
  // The objectives' own modules (heads with dropout and batch norm, running buffers) train and
  // evaluate with the student.
  for (const Term& term : terms_) term.objective->train(student_.module->is_training());
  std::map<std::string, Tensor> taps;
  Tensor logits = student_.forward(x, student_taps_, taps);
  inputs.set("student.logits", logits);
  for (auto& [name, value] : taps) inputs.set("student." + name, value);
  int64_t labeled = logits.size(0);
  Inputs labeled_inputs;
  if (labels.defined()) {
    TUTOR_CHECK(labels.dim() == 1 && labels.size(0) <= logits.size(0),
                "Distiller: labels must be [L] with L <= the batch's {} rows, got {}",
                logits.size(0), labels.sizes());
    labeled = labels.size(0);
    inputs.set("labels", labels);
    if (labeled < logits.size(0)) {
      labeled_inputs = first_rows(inputs, labeled);
      // For objectives that read every row and treat the two sets apart (DHO).
      Tensor mask = zeros({logits.size(0)}, DType::i64);
      mask.narrow(0, labeled, logits.size(0) - labeled).fill_(1);
      inputs.set("unlabeled_mask", mask);
    }
  }

  Output out;
  out.student_logits = logits;
  for (const Term& term : terms_) {
    const std::string& name = term.objective->name();
    Result r;
    try {
      std::vector<std::string> reads = term.objective->inputs();
      bool cut = labeled < logits.size(0) &&
                 std::find(reads.begin(), reads.end(), "labels") != reads.end();
      r = term.objective->compute(cut ? labeled_inputs : inputs, ctx);
    } catch (const Error& e) {
      throw Error(fmt::format("objective {}: {}", name, e.what()));
    }
    double value = r.loss.item();
    TUTOR_CHECK(std::isfinite(value), "step {} (epoch {}): objective {} produced a loss of {}",
                ctx.step, ctx.epoch, name, value);
    out.parts.emplace_back(name, value);
    for (auto& [part, t] : r.parts) out.parts.emplace_back(name + "." + part, t.item());
    Tensor weighted = r.loss * term.weight_at(ctx);
    out.terms.push_back(weighted);
    out.loss = out.loss.defined() ? out.loss + weighted : weighted;
  }
  return out;
}

void Distiller::backward(const Output& out, const std::vector<bool>& ce_group) {
  if (ce_group.empty()) {
    out.loss.backward();
    return;
  }
  TUTOR_CHECK(ce_group.size() == out.terms.size(),
              "Distiller: gradient alignment needs a group for each of the {} terms, got {}",
              out.terms.size(), ce_group.size());
  Tensor ce, kd;
  for (size_t i = 0; i < ce_group.size(); ++i) {
    Tensor& sum = ce_group[i] ? ce : kd;
    sum = sum.defined() ? sum + out.terms[i] : out.terms[i];
  }
  TUTOR_CHECK(ce.defined() && kd.defined(),
              "Distiller: gradient alignment needs a term in each group (CE and KD)");
  align_gradients(trainable_parameters(), ce, kd);
}

std::vector<Tensor> Distiller::trainable_parameters() const {
  std::vector<Tensor> params = student_.module->parameters();
  const std::vector<Tensor> outer = outer_parameters();
  for (const Term& term : terms_)
    for (const Tensor& p : term.objective->parameters())
      if (std::none_of(outer.begin(), outer.end(), [&](const Tensor& o) { return o.is_same(p); }))
        params.push_back(p);
  return params;
}

std::vector<Tensor> Distiller::outer_parameters() const {
  std::vector<Tensor> params;
  for (const Term& term : terms_)
    for (const Tensor& p : term.objective->outer_parameters()) params.push_back(p);
  return params;
}

double Distiller::bilevel_backward(const Output& out, const Tensor& held_out_x,
                                   const Tensor& held_out_labels, double lr) {
  BilevelParameters params{trainable_parameters(), outer_parameters(), {}};
  for (auto& [name, b] : student_.module->named_buffers()) params.buffers.push_back(b);
  return distill::bilevel_backward(out.loss, params, lr, [&] {
    std::map<std::string, Tensor> taps;
    return cross_entropy(student_.forward(held_out_x, {}, taps), held_out_labels);
  });
}

}  // namespace tutor::distill
