// The Distiller with several students (online distillation, distill/distiller.h): one backward
// over the sum gives each student the gradient of its own loss, computed here apart with plain
// ops; peers arrive detached, so no student's loss reaches another; peer taps are asked of the
// right student; per-student gradient alignment; errors.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "distill/distiller.h"
#include "engine/autograd/grad_mode.h"
#include "engine/core/random.h"
#include "engine/core/rng.h"
#include "engine/nn/linear.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::distill;

namespace {

// A linear model as a Participant that records the taps asked of it; its "pooled" tap is its
// input plus `offset` (so each student's tap differs).
Participant linear(std::shared_ptr<nn::Linear> m, std::vector<std::string>* asked = nullptr,
                   double offset = 0) {
  return {m,
          [m, asked, offset](const Tensor& x, const std::vector<std::string>& requested,
                             std::map<std::string, Tensor>& taps) {
            if (asked) *asked = requested;
            for (const std::string& tap : requested)
              if (tap == "pooled") taps["pooled"] = x + offset;
            return m->forward(x);
          },
          false};
}

Term term(const std::string& name, double weight, std::map<std::string, std::string> params = {}) {
  return {make_objective(name, params), weight, "constant", 0};
}

// Reads the inputs it is told to and records them; its loss is 0 * sum(student.logits).
class Recorder : public Objective {
 public:
  explicit Recorder(std::vector<std::string> reads) : Objective("recorder"), reads_(reads) {}
  std::vector<std::string> inputs() const override { return reads_; }
  Result compute(const Inputs& in, const Context&) override {
    seen = in;
    return {in.at("student.logits").sum() * 0.0, {}};
  }
  Inputs seen;

 private:
  std::vector<std::string> reads_;
};

// 0.5 CE + 1.5 * T^2 * mean over the others of batchmean KL(softmax(z_j / T) || softmax(z_k / T))
// for student k, with the others' logits constants: DML's loss (objectives.md §5.1) by hand.
Tensor dml_by_hand(const std::vector<Tensor>& z, size_t k, const Tensor& labels, double T) {
  Tensor mimicry;
  for (size_t j = 0; j < z.size(); ++j) {
    if (j == k) continue;
    Tensor kl = kl_div(log_softmax(z[k] / T, 1), log_softmax(z[j].detach() / T, 1),
                       Reduction::batchmean, /*log_target=*/true) *
                (T * T);
    mimicry = mimicry.defined() ? mimicry + kl : kl;
  }
  return cross_entropy(z[k], labels) * 0.5 + mimicry / double(z.size() - 1) * 1.5;
}

std::vector<Tensor> grads_of(const std::vector<Tensor>& params) {
  std::vector<Tensor> out;
  for (const Tensor& p : params)
    out.push_back(p.grad().defined() ? p.grad().clone() : zeros_like(p));
  return out;
}

void clear(const std::vector<Tensor>& params) {
  for (Tensor p : params) p.mutable_grad() = Tensor();
}

}  // namespace

TEST_CASE("distiller students: one backward gives each student its own loss's gradient") {
  manual_seed(21);
  std::vector<std::shared_ptr<nn::Linear>> models;
  for (int k = 0; k < 3; ++k) models.push_back(std::make_shared<nn::Linear>(6, 5));
  std::vector<Student> students;
  for (auto& m : models)
    students.push_back(
        {linear(m), {term("ce", 0.5), term("dml", 1.5, {{"T", "2"}, {"peers", "2"}})}});
  Distiller d(std::move(students), {});
  REQUIRE(d.num_students() == 3);
  Tensor x = randn({8, 6});
  Tensor labels = randint(0, 5, {8});
  Distiller::Output out = d.step(x, labels, {});
  clear(d.trainable_parameters());
  out.loss.backward();

  std::vector<Tensor> z;
  for (auto& m : models) z.push_back(m->forward(x));
  double total = 0;
  for (size_t k = 0; k < 3; ++k) {
    INFO("student ", k);
    std::vector<Tensor> params = d.trainable_parameters(int64_t(k));
    REQUIRE(params.size() == 2);
    std::vector<Tensor> from_step = grads_of(params);
    clear(params);
    Tensor loss = dml_by_hand(z, k, labels, 2);
    loss.backward(Tensor(), /*retain_graph=*/true);
    std::vector<Tensor> apart = grads_of(params);
    for (size_t i = 0; i < params.size(); ++i)
      tutor::testing::check_close(from_step[i], apart[i], 1e-6, 1e-5);
    total += loss.item();
    // Parts per student: ce and dml unweighted, dml's per-peer parts.
    const Distiller::StudentOutput& s = out.students[k];
    REQUIRE(s.parts.size() == 4);
    CHECK(s.parts[0].first == "ce");
    CHECK(s.parts[0].second == doctest::Approx(cross_entropy(z[k], labels).item()).epsilon(1e-6));
    CHECK(s.parts[1].first == "dml");
    CHECK(s.parts[2].first == "dml.peer");
    CHECK(s.parts[3].first == "dml.peer1");
    CHECK(s.loss.item() == doctest::Approx(loss.item()).epsilon(1e-6));
    tutor::testing::check_close(s.logits, z[k], 0, 0);
  }
  CHECK(out.loss.item() == doctest::Approx(total).epsilon(1e-6));
  // The first student's fields, as a one-student caller reads them.
  CHECK(out.parts == out.students[0].parts);
  CHECK(out.terms.size() == 2);
  tutor::testing::check_close(out.student_logits, z[0], 0, 0);
}

TEST_CASE("distiller students: peers arrive detached, so a student's loss trains no other") {
  manual_seed(22);
  auto a = std::make_shared<nn::Linear>(4, 3), b = std::make_shared<nn::Linear>(4, 3);
  auto reader =
      std::make_shared<Recorder>(std::vector<std::string>{"student.logits", "peer.logits"});
  Distiller d(
      {{linear(a), {term("dml", 1), {reader, 1, "constant", 0}}}, {linear(b), {term("dml", 1)}}},
      {});
  Tensor x = randn({5, 4});
  Distiller::Output out = d.step(x, {}, {});
  CHECK(reader->seen.at("student.logits").requires_grad());
  CHECK(!reader->seen.at("peer.logits").requires_grad());
  tutor::testing::check_close(reader->seen.at("peer.logits"), b->forward(x), 0, 0);

  // Only student a's loss: b's parameters get no gradient, a's do.
  clear(d.trainable_parameters());
  out.students[0].loss.backward();
  for (const Tensor& p : d.trainable_parameters(1))
    CHECK((!p.grad().defined() || p.grad().abs().sum().item() == 0));
  double reached = 0;
  for (const Tensor& p : d.trainable_parameters(0)) reached += p.grad().abs().sum().item();
  CHECK(reached > 0);
}

TEST_CASE("distiller students: taps an objective reads of a peer are asked of that student") {
  manual_seed(23);
  std::vector<std::shared_ptr<nn::Linear>> m;
  for (int k = 0; k < 3; ++k) m.push_back(std::make_shared<nn::Linear>(4, 3));
  std::vector<std::vector<std::string>> asked(3);
  // Student 1 reads its second peer's "pooled": student 2 (its peers are students 0 and 2).
  auto reader =
      std::make_shared<Recorder>(std::vector<std::string>{"student.logits", "peer1.pooled"});
  std::vector<Student> students;
  for (size_t k = 0; k < 3; ++k)
    students.push_back({linear(m[k], &asked[k], double(k)), {term("ce", 1)}});
  students[1].terms.push_back({reader, 1, "constant", 0});
  Distiller d(std::move(students), {});
  Tensor x = randn({2, 4});
  d.step(x, randint(0, 3, {2}), {});
  CHECK(asked[0].empty());
  CHECK(asked[1].empty());
  CHECK(asked[2] == std::vector<std::string>{"pooled"});
  tutor::testing::check_close(reader->seen.at("peer1.pooled"), x + 2.0, 0, 0);
  tutor::testing::check_close(reader->seen.at("peer.logits"), m[0]->forward(x), 0, 0);
}

TEST_CASE("distiller students: with few labels, label readers see the labeled rows, peers all") {
  manual_seed(25);
  auto a = std::make_shared<nn::Linear>(4, 3), b = std::make_shared<nn::Linear>(4, 3);
  auto labeled = std::make_shared<Recorder>(std::vector<std::string>{"student.logits", "labels"});
  auto all = std::make_shared<Recorder>(std::vector<std::string>{"student.logits", "peer.logits"});
  Distiller d({{linear(a), {term("ce", 1)}},
               {linear(b), {{labeled, 1, "constant", 0}, {all, 1, "constant", 0}}}},
              {});
  Tensor x = randn({5, 4});
  d.step(x, tensor({2, 0}).to(DType::i64), {});
  CHECK(labeled->seen.at("student.logits").size(0) == 2);
  CHECK(labeled->seen.at("peer.logits").size(0) == 2);
  CHECK(!labeled->seen.has("unlabeled_mask"));
  tutor::testing::check_close(all->seen.at("peer.logits"), a->forward(x), 0, 0);
  CHECK(all->seen.at("unlabeled_mask").to_vector<int64_t>() == std::vector<int64_t>{0, 0, 1, 1, 1});
}

TEST_CASE("distiller students: gradient alignment aligns each student over its own parameters") {
  manual_seed(24);
  auto a = std::make_shared<nn::Linear>(6, 5), b = std::make_shared<nn::Linear>(6, 5);
  auto make = [&](auto& model) {
    return Student{linear(model), {term("ce", 0.5), term("dml", 1.5, {{"T", "2"}})}};
  };
  Distiller d({make(a), make(b)}, {});
  Tensor x = randn({8, 6});
  // Labels student b finds least likely, so that student a's CE and DML pull apart.
  Tensor labels = (b->forward(x).detach() * -1.0).argmax(1);
  clear(d.trainable_parameters());
  d.backward(d.step(x, labels, {}), {true, false});

  std::vector<Tensor> z = {a->forward(x), b->forward(x)};
  bool projected = false;
  for (size_t k = 0; k < 2; ++k) {
    INFO("student ", k);
    std::vector<Tensor> params = d.trainable_parameters(int64_t(k));
    std::vector<Tensor> from_step = grads_of(params);
    // g_CE and g_KD of this student's own two terms, then DHKD's one-sided projection.
    clear(params);
    (cross_entropy(z[k], labels) * 0.5).backward(Tensor(), true);
    std::vector<Tensor> g_ce = grads_of(params);
    clear(params);
    Tensor kd = kl_div(log_softmax(z[k] / 2.0, 1), log_softmax(z[1 - k].detach() / 2.0, 1),
                       Reduction::batchmean, true) *
                6.0;
    kd.backward(Tensor(), true);
    std::vector<Tensor> g_kd = grads_of(params);
    double dot = 0, norm = 0;
    for (size_t i = 0; i < params.size(); ++i) {
      dot += (g_ce[i].to(DType::f64) * g_kd[i].to(DType::f64)).sum().item();
      norm += (g_ce[i].to(DType::f64) * g_ce[i].to(DType::f64)).sum().item();
    }
    projected = projected || dot < 0;
    for (size_t i = 0; i < params.size(); ++i) {
      Tensor expected = dot < 0 ? g_ce[i] + g_kd[i] - g_ce[i] * (dot / norm) : g_ce[i] + g_kd[i];
      tutor::testing::check_close(from_step[i], expected, 1e-6, 1e-5);
    }
  }
  CHECK(projected);  // a student's gradients conflicted: the projection was exercised
}

TEST_CASE("distiller students: errors name the student, the objective and the input") {
  auto a = std::make_shared<nn::Linear>(3, 4), b = std::make_shared<nn::Linear>(3, 4);
  tutor::testing::check_error(
      [&] { Distiller(linear(a), {}, {term("dml", 1)}); },
      {"objective dml reads 'peer.logits'", "0 teacher(s) and 1 student(s)"});
  tutor::testing::check_error(
      [&] {
        Distiller({{linear(a), {term("dml", 1, {{"peers", "2"}})}}, {linear(b), {term("ce", 1)}}},
                  {});
      },
      {"student: objective dml reads 'peer1.logits'", "2 student(s)"});
  Term shared = term("ce", 1);
  tutor::testing::check_error(
      [&] {
        Distiller({{linear(a), {shared}}, {linear(b), {shared}}}, {});
      },
      {"student1: objective ce is given twice"});
  tutor::testing::check_error(
      [&] {
        Distiller({{linear(a), {}}, {linear(b), {term("ce", 1)}}}, {});
      },
      {"Distiller: student: no objectives"});
  tutor::testing::check_error([&] { Distiller(std::vector<Student>{}, {}); }, {"no student"});

  // A NaN loss names the step, the student and the objective.
  Distiller d({{linear(a), {term("ce", 1)}}, {linear(b), {term("ce", 1), term("dml", 1)}}}, {});
  {
    NoGradGuard no_grad;
    b->bias.fill_(std::numeric_limits<double>::quiet_NaN());
  }
  tutor::testing::check_error(
      [&] {
        d.step(randn({2, 3}), randint(0, 4, {2}), {.epoch = 1, .step = 7});
      },
      {"step 7 (epoch 1): student1: objective ce produced a loss of nan"});
}
