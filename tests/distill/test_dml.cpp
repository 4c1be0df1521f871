// DML: hand-worked values, the identity with KD against each peer, the closed-form gradient
// (peers constant), f64 finite differences, parity with the paper's formula and the authors'
// guarded TensorFlow KL (tools/golden/objectives/dml.py), and errors.
#include <doctest/doctest.h>

#include <cmath>

#include "distill/objective_check.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;
using namespace tutor::testing;

namespace {

distill::Inputs peer_inputs(const Tensor& z, const std::vector<Tensor>& peers) {
  distill::Inputs in({{"student.logits", z}});
  for (size_t p = 0; p < peers.size(); ++p)
    in.set(distill::peer_prefix(int64_t(p)) + ".logits", peers[p]);
  return in;
}

}  // namespace

TEST_CASE("dml: values worked by hand") {
  // One sample, two classes, T = 1: q = softmax([0, 2]) = [1, e^2] / (1 + e^2), p = [1/2, 1/2];
  // KL(q || p) = sum_c q_c log(2 q_c).
  Tensor z = tensor({{0.0, 0.0}}).to(DType::f64), zp = tensor({{0.0, 2.0}}).to(DType::f64);
  double e2 = std::exp(2.0), q0 = 1 / (1 + e2), q1 = e2 / (1 + e2);
  double kl = q0 * std::log(2 * q0) + q1 * std::log(2 * q1);
  CHECK(objective_loss("dml", {}, peer_inputs(z, {zp})) == doctest::Approx(kl).epsilon(1e-12));
  // The authors' guard: sum_c q_c log(eps + q_c / (1/2 + eps)).
  double eps = 1e-3;
  double guarded = q0 * std::log(eps + q0 / (0.5 + eps)) + q1 * std::log(eps + q1 / (0.5 + eps));
  CHECK(objective_loss("dml", {{"eps", "1e-3"}}, peer_inputs(z, {zp})) ==
        doctest::Approx(guarded).epsilon(1e-12));
  // T = 2 on doubled logits: the same distributions, times T^2 = 4.
  CHECK(objective_loss("dml", {{"T", "2"}}, peer_inputs(z * 2.0, {zp * 2.0})) ==
        doctest::Approx(4 * kl).epsilon(1e-12));
  // A peer that agrees teaches nothing.
  CHECK(objective_loss("dml", {}, peer_inputs(zp, {zp})) == doctest::Approx(0).epsilon(1e-12));
}

TEST_CASE("dml: with two peers, the mean (or sum) of KD against each, parts per peer") {
  Tensor z = randn({6, 5}, TensorOptions(DType::f64)) * 3;
  Tensor a = randn({6, 5}, TensorOptions(DType::f64)) * 3;
  Tensor b = randn({6, 5}, TensorOptions(DType::f64)) * 3;
  double kd_a = objective_loss("kd", {{"T", "2"}}, logit_inputs(z, a));
  double kd_b = objective_loss("kd", {{"T", "2"}}, logit_inputs(z, b));
  distill::Inputs in = peer_inputs(z, {a, b});
  // peers 0 (the default) counts the peers in the shapes it is built with.
  auto objective = distill::make_objective("dml", {{"T", "2"}}, distill::shapes_of(in));
  CHECK(objective->inputs() ==
        std::vector<std::string>{"student.logits", "peer.logits", "peer1.logits"});
  distill::Evaluation ev = distill::evaluate(*objective, in);
  CHECK(ev.loss.item() == doctest::Approx((kd_a + kd_b) / 2).epsilon(1e-12));
  CHECK(part(ev, "peer") == doctest::Approx(kd_a).epsilon(1e-12));
  CHECK(part(ev, "peer1") == doctest::Approx(kd_b).epsilon(1e-12));
  CHECK(objective_loss("dml", {{"T", "2"}, {"average_peers", "false"}}, in) ==
        doctest::Approx(kd_a + kd_b).epsilon(1e-12));
  // peers 1 reads the first peer only; without shapes the default is one peer.
  CHECK(objective_loss("dml", {{"T", "2"}, {"peers", "1"}}, in) ==
        doctest::Approx(kd_a).epsilon(1e-12));
  CHECK(distill::make_objective("dml")->inputs() ==
        std::vector<std::string>{"student.logits", "peer.logits"});
}

TEST_CASE("dml: gradient is (T / (P B)) sum_p (softmax(z / T) - softmax(z_p / T)), none to peers") {
  Tensor z = randn({5, 7}, TensorOptions(DType::f64)) * 3;
  Tensor a = randn({5, 7}, TensorOptions(DType::f64)) * 3;
  Tensor b = randn({5, 7}, TensorOptions(DType::f64)) * 3;
  double T = 3;
  auto objective = distill::make_objective("dml", {{"T", "3"}, {"peers", "2"}});
  distill::Evaluation ev = distill::evaluate(*objective, peer_inputs(z, {a, b}));
  Tensor expected =
      (softmax(z / T, 1) * 2.0 - softmax(a / T, 1) - softmax(b / T, 1)) * (T / (2 * 5));
  check_close(ev.input_grads.at("student.logits"), expected, 1e-12, 1e-10);
  check_close(ev.input_grads.at("peer.logits"), zeros_like(a), 0, 0);
  check_close(ev.input_grads.at("peer1.logits"), zeros_like(b), 0, 0);
}

TEST_CASE("dml: finite differences, exact and guarded, one and two peers") {
  Tensor z = randn({4, 6}, TensorOptions(DType::f64)) * 2;
  Tensor a = randn({4, 6}, TensorOptions(DType::f64)) * 2;
  Tensor b = randn({4, 6}, TensorOptions(DType::f64)) * 2;
  check_objective_gradient("dml", {{"T", "2"}}, peer_inputs(z, {a}));
  check_objective_gradient("dml", {{"peers", "2"}}, peer_inputs(z, {a, b}));
  check_objective_gradient("dml", {{"eps", "1e-3"}, {"T", "4"}}, peer_inputs(z, {a, b}));
}

TEST_CASE("dml: matches the paper's formula at T = 1, 2, 4, 8 and the authors' guarded KL") {
  for (int T : {1, 2, 4, 8}) {
    std::string t = std::to_string(T);
    check_fixture("dml_T" + t + "_peers1");
    check_fixture("dml_T" + t + "_peers2");
    check_fixture("dml_T" + t + "_peers2_sum");
  }
  check_fixture("dml_tf_peers1");
  check_fixture("dml_tf_peers2");
}

TEST_CASE("dml: errors name the objective, the input and the shapes") {
  Tensor a = randn({2, 3}), b = randn({2, 4});
  check_error([&] { objective_loss("dml", {}, peer_inputs(a, {b})); }, {"dml", "[2, 3]", "[2, 4]"});
  check_error(
      [&] {
        objective_loss("dml", {}, distill::Inputs({{"student.logits", a}}));
      },
      {"dml", "peer.logits", "missing"});
  check_error(
      [&] {
        objective_loss("dml", {{"peers", "2"}}, peer_inputs(a, {a}));
      },
      {"dml", "peer1.logits", "missing"});
  check_error([&] { distill::make_objective("dml", {{"peers", "-1"}}); }, {"dml", "peers", "-1"});
  check_error([&] { distill::make_objective("dml", {{"T", "0"}}); }, {"dml", "T"});
  check_error([&] { distill::make_objective("dml", {{"eps", "-1"}}); }, {"dml", "eps"});
  check_error(
      [&] {
        distill::make_objective("dml", {{"tau", "2"}});
      },
      {"dml", "tau", "T, average_peers, eps, peers"});
}
