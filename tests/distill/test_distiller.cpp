// The Distiller's few-label rows and precomputed teacher outputs (distill/distiller.h step()).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "distill/distiller.h"
#include "engine/core/random.h"
#include "engine/core/rng.h"
#include "engine/nn/linear.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::distill;

namespace {

// A linear model as a Participant; `calls` counts its forwards.
Participant linear(std::shared_ptr<nn::Linear> m, int* calls) {
  return {
      m,
      [m, calls](const Tensor& x, const std::vector<std::string>&, std::map<std::string, Tensor>&) {
        ++*calls;
        return m->forward(x);
      },
      false};
}

Term term(const std::string& name, double weight, std::map<std::string, std::string> params = {}) {
  return {make_objective(name, params), weight, "constant", 0};
}

// Records what it was given; its loss is 0 * sum(student.logits).
class Probe : public Objective {
 public:
  explicit Probe(bool reads_labels) : Objective("probe"), reads_labels_(reads_labels) {}
  std::vector<std::string> inputs() const override {
    if (reads_labels_) return {"student.logits", "labels"};
    return {"student.logits"};
  }
  Result compute(const Inputs& in, const Context&) override {
    rows = in.at("student.logits").size(0);
    mask = in.has("unlabeled_mask") ? in.at("unlabeled_mask").to_vector<int64_t>()
                                    : std::vector<int64_t>{};
    return {in.at("student.logits").sum() * 0.0, {}};
  }
  int64_t rows = -1;
  std::vector<int64_t> mask;

 private:
  bool reads_labels_;
};

}  // namespace

TEST_CASE("distiller: objectives reading every row get unlabeled_mask with few labels") {
  auto student = std::make_shared<nn::Linear>(3, 4);
  int calls = 0;
  auto all_rows = std::make_shared<Probe>(false), labeled_rows = std::make_shared<Probe>(true);
  Distiller d(linear(student, &calls), {},
              {{all_rows, 1, "constant", 0}, {labeled_rows, 1, "constant", 0}});
  d.step(randn({5, 3}), tensor({1, 3}).to(DType::i64), {});
  CHECK(all_rows->rows == 5);
  CHECK(all_rows->mask == std::vector<int64_t>{0, 0, 1, 1, 1});
  CHECK(labeled_rows->rows == 2);
  CHECK(labeled_rows->mask.empty());  // every row it sees is labeled
  // Every row labeled: no mask.
  d.step(randn({2, 3}), tensor({1, 3}).to(DType::i64), {});
  CHECK(all_rows->rows == 2);
  CHECK(all_rows->mask.empty());
}

TEST_CASE("distiller: labels for the first L rows; label readers see those rows, the others all") {
  manual_seed(4);
  auto student = std::make_shared<nn::Linear>(6, 5);
  auto teacher = std::make_shared<nn::Linear>(6, 5);
  int student_calls = 0, teacher_calls = 0;
  Distiller d(linear(student, &student_calls), {linear(teacher, &teacher_calls)},
              {term("ce", 0.5), term("kd", 2, {{"T", "3"}})});
  Tensor x = randn({7, 6});
  Tensor labels = tensor({2, 0, 4}).to(DType::i64);  // rows 0..2 labeled, 3..6 not
  Distiller::Output out = d.step(x, labels, {});
  CHECK(teacher_calls == 1);

  Tensor zs = student->forward(x), zt = teacher->forward(x).detach();
  double ce = cross_entropy(zs.narrow(0, 0, 3), labels).item();
  double kd =
      (kl_div(log_softmax(zs / 3, 1), log_softmax(zt / 3, 1), Reduction::batchmean, true) * 9)
          .item();
  REQUIRE(out.parts.size() == 2);
  CHECK(out.parts[0].first == "ce");
  CHECK(out.parts[0].second == doctest::Approx(ce).epsilon(1e-6));
  CHECK(out.parts[1].first == "kd");
  CHECK(out.parts[1].second == doctest::Approx(kd).epsilon(1e-6));
  CHECK(out.loss.item() == doctest::Approx(0.5 * ce + 2 * kd).epsilon(1e-6));
  CHECK(out.student_logits.size(0) == 7);

  // Teacher outputs given to step() replace the teachers' forward.
  Inputs given;
  given.set("teacher.logits", zt);
  Distiller::Output again = d.step(x, labels, {}, &given);
  CHECK(teacher_calls == 1);
  CHECK(again.loss.item() == doctest::Approx(out.loss.item()).epsilon(1e-6));

  // More labels than rows is an error.
  tutor::testing::check_error([&] { d.step(x, randint(0, 5, {8}), {}); },
                              {"labels must be [L] with L <= the batch's 7 rows"});
}

TEST_CASE("distiller: a NaN loss stops the step, naming it and the objective") {
  auto student = std::make_shared<nn::Linear>(3, 4);
  auto teacher = std::make_shared<nn::Linear>(3, 4);
  int calls = 0;
  Distiller d(linear(student, &calls), {linear(teacher, &calls)}, {term("ce", 1), term("kd", 1)});
  Tensor x = full({2, 3}, std::numeric_limits<double>::quiet_NaN());
  tutor::testing::check_error([&] { d.step(x, randint(0, 4, {2}), {.epoch = 1, .step = 12}); },
                              {"step 12 (epoch 1): objective ce produced a loss of nan"});
}

// Distiller::backward with groups sets every trainable parameter's gradient to g_CE + g_KD, g_KD
// projected onto the normal plane of g_CE when they conflict (distill/gradient_alignment.h),
// computed here by hand from the two groups' gradients; the objectives' own parameters (dhkd's
// head) are trained too, and a plain backward gives the unprojected sum.
TEST_CASE("distiller: backward with gradient alignment applies the projected CE + KD gradient") {
  manual_seed(11);
  auto student = std::make_shared<nn::Linear>(6, 5);
  auto teacher = std::make_shared<nn::Linear>(6, 5);
  int calls = 0;
  Participant s = linear(student, &calls);
  auto pooled = [student](const Tensor& x, const std::vector<std::string>& requested,
                          std::map<std::string, Tensor>& taps) {
    if (!requested.empty()) taps["pooled"] = x;  // the "feature" is the input itself
    return student->forward(x);
  };
  s.forward = pooled;
  Term head{make_objective("dhkd", {{"head", "linear"}},
                           {{"student.pooled", {8, 6}}, {"teacher.logits", {8, 5}}}),
            0.7, "constant", 0};
  Distiller d(s, {linear(teacher, &calls)}, {term("ce", 0.5), term("kd", 2, {{"T", "2"}}), head});
  std::vector<Tensor> params = d.trainable_parameters();
  REQUIRE(params.size() == 4);  // the student's weight and bias, then fc2's

  Tensor x = randn({8, 6});
  // Labels the teacher finds least likely, so that CE and KD pull apart.
  Tensor labels = (teacher->forward(x).detach() * -1.0).argmax(1);
  const std::vector<bool> groups = {true, false, false};

  // By hand: g_CE = d(0.5 ce)/d theta, g_KD = d(2 kd + 0.7 dhkd)/d theta.
  Distiller::Output ref = d.step(x, labels, {});
  REQUIRE(ref.terms.size() == 3);
  CHECK((ref.terms[0] + ref.terms[1] + ref.terms[2]).item() ==
        doctest::Approx(ref.loss.item()).epsilon(1e-12));
  auto grads = [&](const Tensor& loss) {
    for (Tensor& p : params) p.mutable_grad() = Tensor();
    loss.backward(Tensor(), /*retain_graph=*/true);
    std::vector<Tensor> g;
    for (Tensor& p : params)
      g.push_back(p.grad().defined() ? p.grad().clone() : zeros_like(p));
    return g;
  };
  std::vector<Tensor> g_ce = grads(ref.terms[0]), g_kd = grads(ref.terms[1] + ref.terms[2]);
  double dot = 0, norm = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    dot += (g_ce[i].to(DType::f64) * g_kd[i].to(DType::f64)).sum().item();
    norm += (g_ce[i].to(DType::f64) * g_ce[i].to(DType::f64)).sum().item();
  }
  REQUIRE(dot < 0);  // the case where alignment changes the gradient
  CHECK(g_ce[2].abs().sum().item() == 0);  // CE does not reach the head

  for (Tensor& p : params) p.mutable_grad() = Tensor();
  d.backward(d.step(x, labels, {}), groups);
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor expected = g_ce[i] + g_kd[i] - g_ce[i] * (dot / norm);
    INFO("parameter ", i);
    tutor::testing::check_close(params[i].grad(), expected, 1e-6, 1e-5);
  }
  // The projected gradient is orthogonal to g_CE in the KD part: <g - g_CE, g_CE> = 0.
  double residual = 0;
  for (size_t i = 0; i < params.size(); ++i)
    residual +=
        ((params[i].grad() - g_ce[i]).to(DType::f64) * g_ce[i].to(DType::f64)).sum().item();
  CHECK(std::abs(residual) < 1e-5 * norm);

  // Without groups: the plain sum.
  for (Tensor& p : params) p.mutable_grad() = Tensor();
  d.backward(d.step(x, labels, {}), {});
  for (size_t i = 0; i < params.size(); ++i)
    tutor::testing::check_close(params[i].grad(), g_ce[i] + g_kd[i], 1e-6, 1e-5);

  tutor::testing::check_error([&] { d.backward(d.step(x, labels, {}), {true, true}); },
                              {"gradient alignment needs a group for each of the 3 terms, got 2"});
  tutor::testing::check_error([&] { d.backward(d.step(x, labels, {}), {true, true, true}); },
                              {"gradient alignment needs a term in each group"});
}

// Inputs that belong to no model reach the objectives (mix_kd's soft_labels).
TEST_CASE("distiller: data inputs such as soft_labels reach the objectives") {
  manual_seed(5);
  auto student = std::make_shared<nn::Linear>(4, 3);
  auto teacher = std::make_shared<nn::Linear>(4, 3);
  int calls = 0;
  Distiller d(linear(student, &calls), {linear(teacher, &calls)}, {term("mix_kd", 1)});
  Tensor x = randn({5, 4});
  Inputs data;
  data.set("soft_labels", softmax(randn({5, 3}), 1));
  Distiller::Output out = d.step(x, Tensor(), {}, nullptr, &data);
  Inputs direct;
  direct.set("student.logits", student->forward(x));
  direct.set("teacher.logits", teacher->forward(x).detach());
  direct.set("soft_labels", data.at("soft_labels"));
  double expected = make_objective("mix_kd")->compute(direct, {}).loss.item();
  CHECK(out.loss.item() == doctest::Approx(expected).epsilon(1e-6));
  tutor::testing::check_error([&] { d.step(x, Tensor(), {}); },
                              {"objective mix_kd", "soft_labels"});
  Inputs bad;
  bad.set("student.logits", x);
  tutor::testing::check_error([&] { d.step(x, Tensor(), {}, nullptr, &bad); },
                              {"data input 'student.logits' must belong to no model"});
}

TEST_CASE("distiller: objectives follow the student's train/eval mode at every step") {
  manual_seed(0);
  int calls = 0;
  auto student = std::make_shared<nn::Linear>(3, 4);
  auto teacher = std::make_shared<nn::Linear>(3, 4);
  Term kd = term("kd", 1.0);
  kd.objective->eval();  // as tutor distill leaves it after its probe forward
  Distiller distiller(linear(student, &calls), {linear(teacher, &calls)}, {kd});
  Tensor x = randn({2, 3});
  student->train();
  distiller.step(x, {}, {});
  CHECK(kd.objective->is_training());
  student->eval();
  distiller.step(x, {}, {});
  CHECK(!kd.objective->is_training());
}
