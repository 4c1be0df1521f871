#include <cmath>
#include <functional>

#include "support/op_test.h"

using namespace tutor;
using testing::check_close;
using testing::check_error;
using testing::check_gradient;
using testing::rand_leaf;

namespace {

const Reduction kReductions[] = {Reduction::none, Reduction::mean, Reduction::sum};

Tensor f64(const NestedList& v) { return tensor(v, DType::f64); }
Tensor idx(const NestedList& v) { return tensor(v, DType::i64); }
Tensor scalar(double v) { return scalar_tensor(v, DType::f64); }

// log softmax of one row of logits, by its definition.
std::vector<double> log_softmax_row(const std::vector<double>& z) {
  double s = 0;
  for (double v : z) s += std::exp(v);
  std::vector<double> out;
  for (double v : z) out.push_back(v - std::log(s));
  return out;
}

// Checks loss(r) for r in none / mean / sum against the per-element values, their sum and
// sum / mean_divisor.
template <class F>
void check_reductions(F loss, const Tensor& per_element, double mean_divisor) {
  check_close(loss(Reduction::none), per_element);
  double total = 0;
  for (double v : per_element.to_vector<double>()) total += v;
  check_close(loss(Reduction::sum), scalar(total));
  check_close(loss(Reduction::mean), scalar(total / mean_divisor));
}

// Gradient check of loss(x..., r) for every reduction.
template <class F>
void check_gradient_all_reductions(F loss, const TensorList& inputs) {
  for (Reduction r : kReductions) {
    INFO("reduction ", reduction_name(r));
    check_gradient([&](const TensorList& x) { return TensorList{loss(x, r)}; }, inputs);
  }
}

const double kLse123 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));

// The second derivative along the incoming gradient: the gradients of loss(x, t) in the inputs
// that require grad, built with create_graph at a fixed (x, t), as a function of the output
// gradient v, checked by finite differences (they are linear in v).
void check_incoming_gradient_derivative(const std::function<Tensor(const TensorList&)>& loss,
                                        const TensorList& inputs) {
  Shape out_shape = loss(inputs).sizes();
  TensorList wrt;
  for (const Tensor& t : inputs)
    if (t.requires_grad()) wrt.push_back(t);
  check_gradient(
      [&](const TensorList& v) {
        EnableGradGuard grad_mode;
        return autograd::grad({loss(inputs)}, wrt, {v[0]}, /*retain_graph=*/false,
                              /*create_graph=*/true);
      },
      {rand_leaf(out_shape, 11)});
}

}  // namespace

// ---- cross_entropy ----

OP_TEST("cross_entropy", "values") {
  // one row: -log softmax([1, 2, 3])[2] = log(e^1 + e^2 + e^3) - 3
  check_close(cross_entropy(f64({{1, 2, 3}}), idx({2}), {}, -100, Reduction::none),
              f64({kLse123 - 3}));
  // two rows; the second is uniform over 3 classes: log 3. The logits arrive transposed.
  const Tensor x = f64({{1, 0}, {2, 0}, {3, 0}}).t();
  const double l0 = kLse123 - 3, l1 = std::log(3.0);
  check_reductions(
      [&](Reduction r) {
        return cross_entropy(x, idx({2, 0}), {}, -100, r);
      },
      f64({l0, l1}), 2);
  // class weights: 'mean' divides by the weights of the targets, w_2 + w_0
  const Tensor w = f64({0.2, 0.3, 0.5});
  check_reductions(
      [&](Reduction r) {
        return cross_entropy(x, idx({2, 0}), w, -100, r);
      },
      f64({0.5 * l0, 0.2 * l1}), 0.5 + 0.2);
  // ignore_index: ignored targets contribute 0 and leave the 'mean' denominator
  check_reductions(
      [&](Reduction r) {
        return cross_entropy(x, idx({2, -100}), {}, -100, r);
      },
      f64({l0, 0}), 1);
  check_reductions(
      [&](Reduction r) {
        return cross_entropy(x, idx({2, 0}), w, 0, r);
      },
      f64({0.5 * l0, 0}), 0.5);
  // all targets ignored: 'mean' is 0 / 0
  CHECK(std::isnan(cross_entropy(x, idx({-100, -100})).item()));
  // unbatched: input [C], 0-dim target
  check_close(cross_entropy(f64({1, 2, 3}), tensor(2, DType::i64)), scalar(kLse123 - 3));
  check_close(cross_entropy(f64({1, 2, 3}), tensor(2, DType::i64), {}, -100, Reduction::none),
              scalar(kLse123 - 3));
  // one class: the loss is always 0; empty batch: 'sum' 0, 'mean' 0 / 0
  check_close(cross_entropy(f64({{5}, {-2}}), idx({0, 0}), {}, -100, Reduction::none), f64({0, 0}));
  check_close(
      cross_entropy(zeros({0, 3}, DType::f64), zeros({0}, DType::i64), {}, -100, Reduction::sum),
      scalar(0));
  CHECK(std::isnan(cross_entropy(zeros({0, 3}, DType::f64), zeros({0}, DType::i64)).item()));
  // large logits do not overflow (log_softmax is max-shifted)
  check_close(cross_entropy(f64({{1000, 0}}), idx({1}), {}, -100, Reduction::none), f64({1000}));
  // f32
  check_close(cross_entropy(tensor({{1, 2, 3}}), idx({2})), scalar(kLse123 - 3), 1e-5);
}

OP_TEST("cross_entropy", "label smoothing") {
  // PyTorch: l = (1 - eps) w_y (-log p_y) + (eps / C) sum_c w_c (-log p_c); 'mean' divides by
  // the summed w_y of non-ignored targets, with or without smoothing.
  const std::vector<std::vector<double>> rows = {{1, 2, 3}, {0.5, -1, 0}, {2, 2, -1}};
  const std::vector<int64_t> y = {2, 0, -100};
  const std::vector<double> w = {0.2, 0.3, 0.5};
  const double eps = 0.1, C = 3;
  for (bool weighted : {false, true}) {
    std::vector<double> expected;
    double denom = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      std::vector<double> lp = log_softmax_row(rows[i]);
      if (y[i] == -100) {
        expected.push_back(0);
        continue;
      }
      auto wc = [&](size_t c) { return weighted ? w[c] : 1.0; };
      double smooth = 0;
      for (size_t c = 0; c < 3; ++c) smooth -= wc(c) * lp[c];
      expected.push_back((1 - eps) * wc(size_t(y[i])) * -lp[size_t(y[i])] + eps / C * smooth);
      denom += wc(size_t(y[i]));
    }
    Tensor weight = weighted ? f64({0.2, 0.3, 0.5}) : Tensor();
    check_reductions(
        [&](Reduction r) {
          return cross_entropy(f64({{1, 2, 3}, {0.5, -1, 0}, {2, 2, -1}}), idx({2, 0, -100}),
                               weight, -100, r, eps);
        },
        from_vector(expected, {3}, DType::f64), denom);
  }
  // eps = 1: the target is ignored and the loss is the mean of -log p over the classes
  check_close(cross_entropy(f64({{1, 2, 3}}), idx({0}), {}, -100, Reduction::sum, 1.0),
              scalar(kLse123 - 2));
}

OP_TEST("cross_entropy", "probability targets") {
  // l = -sum_c w_c t'_c log p_c with t' = (1 - eps) t + eps / C; 'mean' divides by N (not by
  // the weights), as PyTorch.
  const std::vector<std::vector<double>> rows = {{1, 2, 3}, {0, 0, 0}};
  const std::vector<std::vector<double>> t = {{0.1, 0.2, 0.7}, {1, 0, 0}};
  const std::vector<double> w = {0.2, 0.3, 0.5};
  for (double eps : {0.0, 0.3})
    for (bool weighted : {false, true}) {
      std::vector<double> expected;
      for (size_t i = 0; i < 2; ++i) {
        std::vector<double> lp = log_softmax_row(rows[i]);
        double l = 0;
        for (size_t c = 0; c < 3; ++c)
          l -= (weighted ? w[c] : 1.0) * ((1 - eps) * t[i][c] + eps / 3) * lp[c];
        expected.push_back(l);
      }
      Tensor weight = weighted ? f64({0.2, 0.3, 0.5}) : Tensor();
      check_reductions(
          [&](Reduction r) {
            return cross_entropy(f64({{1, 2, 3}, {0, 0, 0}}), f64({{0.1, 0.2, 0.7}, {1, 0, 0}}),
                                 weight, -100, r, eps);
          },
          from_vector(expected, {2}, DType::f64), 2);
    }
  // a one-hot probability target equals the class index
  check_close(cross_entropy(f64({{1, 2, 3}}), f64({{0, 0, 1}})), scalar(kLse123 - 3));
}

OP_TEST("cross_entropy", "spatial") {
  // [N, C, d] equals the [N d, C] case with the class dim moved last
  Tensor x = f64({{{1, 0.5}, {2, -1}, {3, 0}}});  // [1, 3, 2]
  Tensor flat = x.permute({0, 2, 1}).reshape({2, 3});
  check_close(cross_entropy(x, idx({{2, 0}}), {}, -100, Reduction::none),
              cross_entropy(flat, idx({2, 0}), {}, -100, Reduction::none).reshape({1, 2}));
  Tensor w = f64({0.2, 0.3, 0.5});
  check_close(cross_entropy(x, idx({{2, 0}}), w, -100, Reduction::mean, 0.2),
              cross_entropy(flat, idx({2, 0}), w, -100, Reduction::mean, 0.2));
  Tensor probs = f64({{{0.2, 0.5}, {0.3, 0.5}, {0.5, 0}}});
  check_close(
      cross_entropy(x, probs, {}, -100, Reduction::none),
      cross_entropy(flat, probs.permute({0, 2, 1}).reshape({2, 3}), {}, -100, Reduction::none)
          .reshape({1, 2}));
}

OP_TEST("cross_entropy", "gradient") {
  Tensor w = f64({0.2, 0.3, 0.5});
  for (double eps : {0.0, 0.2}) {
    INFO("label_smoothing ", eps);
    // indices, weights, an ignored target, logits transposed inside the lambda
    check_gradient_all_reductions(
        [&](const TensorList& x, Reduction r) {
          return cross_entropy(x[0].t(), idx({2, 0, -100, 1}), w, -100, r, eps);
        },
        {rand_leaf({3, 4}, 1, -2, 2)});
    // spatial [N, C, d]
    check_gradient_all_reductions(
        [&](const TensorList& x, Reduction r) {
          return cross_entropy(x[0], idx({{0, 2}, {1, 1}}), {}, -100, r, eps);
        },
        {rand_leaf({2, 3, 2}, 2, -2, 2)});
    // probability targets: gradient wrt the logits and the target
    check_gradient_all_reductions(
        [&](const TensorList& x, Reduction r) {
          return cross_entropy(x[0], x[1].t(), w, -100, r, eps);
        },
        {rand_leaf({2, 3}, 3, -2, 2), rand_leaf({3, 2}, 4, 0, 1)});
  }
  // unbatched; empty batch
  check_gradient(
      [](const TensorList& x) { return TensorList{cross_entropy(x[0], tensor(1, DType::i64))}; },
      {rand_leaf({4}, 5)});
  check_gradient(
      [](const TensorList& x) {
        return TensorList{cross_entropy(x[0], zeros({0}, DType::i64), {}, -100, Reduction::sum)};
      },
      {rand_leaf({0, 3}, 6)});
}

OP_TEST("cross_entropy", "errors") {
  check_error(
      [] {
        cross_entropy(zeros({2, 5}), zeros({3}, DType::i64));
      },
      {"cross_entropy", "[3]", "[2, 5]"});
  check_error(
      [] {
        cross_entropy(zeros({2, 5}), zeros({2, 4}));
      },
      {"cross_entropy", "[2, 4]", "[2, 5]"});
  check_error(
      [] {
        cross_entropy(zeros({2, 5}), zeros({2}, DType::b8));
      },
      {"cross_entropy", "i64", "bool", "[2]"});
  check_error(
      [] {
        cross_entropy(zeros({2, 5}), idx({1, 7}));
      },
      {"cross_entropy", "7", "5 classes"});
  check_error(
      [] {
        cross_entropy(zeros({2, 5}), idx({-1, 0}));
      },
      {"cross_entropy", "-1", "5 classes"});
  check_error(
      [] {
        cross_entropy(zeros({2, 5}), idx({1, 0}), zeros({4}));
      },
      {"cross_entropy", "weight", "[4]", "[2, 5]"});
  check_error(
      [] {
        cross_entropy(zeros({2, 5}), zeros({2, 5}, DType::f64));
      },
      {"cross_entropy", "f32", "f64"});
  check_error(
      [] {
        cross_entropy(zeros({2, 5}), idx({1, 0}), {}, -100, Reduction::batchmean);
      },
      {"cross_entropy", "batchmean"});
  check_error(
      [] {
        cross_entropy(zeros({2, 5}), idx({1, 0}), {}, -100, Reduction::mean, 1.5);
      },
      {"cross_entropy", "label_smoothing", "1.5"});
  check_error(
      [] {
        cross_entropy(zeros({2, 5}), idx({1, 0}), zeros({5}).requires_grad_());
      },
      {"cross_entropy", "weight", "gradient"});
  // double backward is refused rather than silently zero
  check_error(
      [] {
        Tensor x = rand_leaf({2, 3});
        Tensor gx = autograd::grad({cross_entropy(x, idx({0, 1}))}, {x}, {}, false, true)[0];
        sum(mul(gx, gx)).backward();
      },
      {"cross_entropy", "double backward"});
}

OP_TEST("cross_entropy", "double backward in the incoming gradient") {
  Tensor x = rand_leaf({4, 5}, 1), y = idx({1, 0, 4, 2});
  for (Reduction r : kReductions) {
    INFO("reduction ", reduction_name(r));
    check_incoming_gradient_derivative(
        [&](const TensorList& t) { return cross_entropy(t[0], y, {}, -100, r); }, {x});
  }
  // class weights, an ignored row and label smoothing
  Tensor w = f64({0.5, 1, 2, 1.5, 1});
  check_incoming_gradient_derivative(
      [&](const TensorList& t) {
        return cross_entropy(t[0], idx({1, -100, 4, 2}), w, -100, Reduction::none, 0.2);
      },
      {x});
  // probability targets carry a gradient too
  check_incoming_gradient_derivative(
      [](const TensorList& t) {
        return cross_entropy(t[0], softmax(t[1], 1), {}, -100, Reduction::none);
      },
      {rand_leaf({3, 4}, 2), rand_leaf({3, 4}, 3)});
  // spatial: [N, C, d] with per-position gradients
  check_incoming_gradient_derivative(
      [](const TensorList& t) {
        return cross_entropy(t[0], idx({{0, 2}, {1, 1}}), {}, -100, Reduction::none);
      },
      {rand_leaf({2, 3, 2}, 4)});
}

// ---- nll_loss ----

OP_TEST("nll_loss", "values") {
  Tensor lp = f64({{-1, -2, -3}, {-0.5, -1, -2}});
  check_reductions(
      [&](Reduction r) {
        return nll_loss(lp, idx({2, 0}), {}, -100, r);
      },
      f64({3, 0.5}), 2);
  Tensor w = f64({0.2, 0.3, 0.5});
  check_reductions(
      [&](Reduction r) {
        return nll_loss(lp, idx({2, 0}), w, -100, r);
      },
      f64({1.5, 0.1}), 0.7);
  check_reductions(
      [&](Reduction r) {
        return nll_loss(lp, idx({2, 5}), w, 5, r);
      },
      f64({1.5, 0}), 0.5);
  // transposed input, spatial [N, C, d], unbatched
  check_close(
      nll_loss(f64({{-1, -0.5}, {-2, -1}, {-3, -2}}).t(), idx({2, 1}), {}, -100, Reduction::none),
      f64({3, 1}));
  check_close(
      nll_loss(f64({{{-1, -4}, {-2, -5}, {-3, -6}}}), idx({{0, 2}}), {}, -100, Reduction::none),
      f64({{1, 6}}));
  check_close(nll_loss(f64({-1, -2, -3}), tensor(1, DType::i64)), scalar(2));
  check_close(
      nll_loss(zeros({0, 2}, DType::f64), zeros({0}, DType::i64), {}, -100, Reduction::none),
      zeros({0}, DType::f64));
}

OP_TEST("nll_loss", "gradient") {
  Tensor w = f64({0.2, 0.3, 0.5});
  check_gradient_all_reductions(
      [&](const TensorList& x, Reduction r) {
        return nll_loss(x[0].t(), idx({2, -100, 1}), w, -100, r);
      },
      {rand_leaf({3, 3}, 1)});
  check_gradient_all_reductions(
      [&](const TensorList& x, Reduction r) {
        return nll_loss(x[0], idx({{0, 2}, {1, 1}}), {}, -100, r);
      },
      {rand_leaf({2, 3, 2}, 2)});
}

OP_TEST("nll_loss", "errors") {
  check_error([] { nll_loss(zeros({2, 3}), idx({0, 3})); }, {"nll_loss", "3", "3 classes"});
  check_error([] { nll_loss(zeros({2, 3}), zeros({2, 3})); }, {"nll_loss", "i64", "f32", "[2, 3]"});
  check_error(
      [] {
        nll_loss(zeros({2, 3, 4}), idx({0, 1}));
      },
      {"nll_loss", "[2]", "[2, 3, 4]", "[2, 4]"});
  check_error(
      [] {
        nll_loss(zeros({2, 3}), idx({0, 1}), {}, -100, static_cast<Reduction>(9));
      },
      {"nll_loss", "unknown reduction"});
}

// ---- kl_div ----

OP_TEST("kl_div", "values") {
  // input = log q, target p: p (log p - log q), 0 where p == 0
  Tensor q = f64({{0.5, 0.25, 0.25}, {0.1, 0.6, 0.3}});
  Tensor p = f64({{0.5, 0.5, 0}, {0.2, 0.2, 0.6}});
  Tensor logq = f64({{std::log(0.5), std::log(0.25), std::log(0.25)},
                     {std::log(0.1), std::log(0.6), std::log(0.3)}});
  std::vector<double> qv = q.to_vector<double>(), pv = p.to_vector<double>(), e;
  for (size_t i = 0; i < 6; ++i) e.push_back(pv[i] == 0 ? 0 : pv[i] * std::log(pv[i] / qv[i]));
  Tensor expected = from_vector(e, {2, 3}, DType::f64);
  check_reductions([&](Reduction r) { return kl_div(logq, p, r); }, expected, 6);
  double total = 0;
  for (double v : e) total += v;
  check_close(kl_div(logq, p, Reduction::batchmean), scalar(total / 2));
  // log_target: exp(t) (t - x) is the same divergence
  Tensor logp =
      f64({{std::log(0.5), std::log(0.5), -1e300}, {std::log(0.2), std::log(0.2), std::log(0.6)}});
  check_close(kl_div(logq, logp, Reduction::none, true), expected, 1e-12);
  // transposed input; 0-dim batchmean is the sum
  check_close(kl_div(logq.t(), p.t(), Reduction::none), expected.t());
  check_close(kl_div(scalar(-1), scalar(0.5), Reduction::batchmean),
              scalar(0.5 * (std::log(0.5) + 1)));
}

OP_TEST("kl_div", "gradient") {
  for (Reduction r : {Reduction::none, Reduction::mean, Reduction::sum, Reduction::batchmean}) {
    INFO("reduction ", reduction_name(r));
    check_gradient([&](const TensorList& x) { return TensorList{kl_div(x[0], x[1].t(), r)}; },
                   {rand_leaf({2, 3}, 1), rand_leaf({3, 2}, 2, 0.1, 1)});
    check_gradient([&](const TensorList& x) { return TensorList{kl_div(x[0], x[1], r, true)}; },
                   {rand_leaf({2, 3}, 3), rand_leaf({2, 3}, 4)});
  }
}

OP_TEST("kl_div", "double backward in the incoming gradient") {
  for (Reduction r : {Reduction::none, Reduction::sum, Reduction::batchmean}) {
    INFO("reduction ", reduction_name(r));
    check_incoming_gradient_derivative(
        [&](const TensorList& t) { return kl_div(t[0], t[1], r); },
        {rand_leaf({2, 3}, 1), rand_leaf({2, 3}, 2, 0.1, 1)});
    check_incoming_gradient_derivative(
        [&](const TensorList& t) { return kl_div(t[0], t[1], r, true); },
        {rand_leaf({2, 3}, 3), rand_leaf({2, 3}, 4)});
  }
  // a second derivative in the input itself is refused, not silently zero
  Tensor x = rand_leaf({2, 3}, 5);
  Tensor gx = autograd::grad({kl_div(x, f64({{0.2, 0.3, 0.5}, {0.1, 0.1, 0.8}}),
                                     Reduction::sum)},
                             {x}, {}, false, /*create_graph=*/true)[0];
  check_error([&] { autograd::grad({sum(mul(gx, gx))}, {x}); },
              {"kl_div_backward", "double backward", "incoming gradient"});
}

OP_TEST("mse_loss", "double backward in the incoming gradient") {
  check_incoming_gradient_derivative(
      [](const TensorList& t) { return mse_loss(t[0], t[1], Reduction::none); },
      {rand_leaf({3, 2}, 1), rand_leaf({3, 2}, 2)});
  check_incoming_gradient_derivative(
      [](const TensorList& t) {
        return binary_cross_entropy_with_logits(t[0], t[1], {}, Reduction::mean,
                                                f64({1.5, 0.5}));
      },
      {rand_leaf({3, 2}, 3), rand_leaf({3, 2}, 4, 0, 1)});
}

OP_TEST("kl_div", "errors") {
  check_error([] { kl_div(zeros({2, 3}), zeros({2})); }, {"kl_div", "[2]", "[2, 3]"});
  check_error([] { reduction_from_string("avg", "kl_div"); }, {"kl_div", "avg"});
  CHECK(reduction_from_string("batchmean", "kl_div") == Reduction::batchmean);
}

// ---- element-wise regression losses ----
// Shared case: d = x - t = [0.5, -1, 2, 0, 2, -0.5], x transposed.

namespace {
const Tensor& reg_input() {
  static const Tensor x = f64({{0.5, 0}, {-1, 3}, {2, 1}});
  return x;
}
Tensor reg_x() { return reg_input().t(); }  // [[0.5, -1, 2], [0, 3, 1]]
Tensor reg_t() { return f64({{0, 0, 0}, {0, 1, 1.5}}); }
}  // namespace

OP_TEST("mse_loss", "values") {
  check_reductions([](Reduction r) { return mse_loss(reg_x(), reg_t(), r); },
                   f64({{0.25, 1, 4}, {0, 4, 0.25}}), 6);
  check_close(mse_loss(zeros({0, 2}), zeros({0, 2}), Reduction::sum), scalar_tensor(0));
}

OP_TEST("l1_loss", "values") {
  check_reductions([](Reduction r) { return l1_loss(reg_x(), reg_t(), r); },
                   f64({{0.5, 1, 2}, {0, 2, 0.5}}), 6);
}

OP_TEST("smooth_l1_loss", "values") {
  check_reductions([](Reduction r) { return smooth_l1_loss(reg_x(), reg_t(), r); },
                   f64({{0.125, 0.5, 1.5}, {0, 1.5, 0.125}}), 6);
  check_close(smooth_l1_loss(reg_x(), reg_t(), Reduction::none, 2.0),
              f64({{0.0625, 0.25, 1}, {0, 1, 0.0625}}));
  check_close(smooth_l1_loss(reg_x(), reg_t(), Reduction::none, 0.0),
              l1_loss(reg_x(), reg_t(), Reduction::none));
}

OP_TEST("huber_loss", "values") {
  check_reductions([](Reduction r) { return huber_loss(reg_x(), reg_t(), r); },
                   f64({{0.125, 0.5, 1.5}, {0, 1.5, 0.125}}), 6);
  check_close(huber_loss(reg_x(), reg_t(), Reduction::none, 0.5),
              f64({{0.125, 0.375, 0.875}, {0, 0.875, 0.125}}));
}

OP_TEST("l1_loss", "subgradient") {
  // d|x - t|/dx = sign(x - t), 0 where x == t (PyTorch)
  Tensor x = f64({1, 2, 3}).requires_grad_();
  l1_loss(x, f64({0, 2, 5}), Reduction::sum).backward();
  check_close(x.grad(), f64({1, 0, -1}));
}

OP_TEST("mse_loss", "gradient") {
  check_gradient_all_reductions(
      [](const TensorList& x, Reduction r) { return mse_loss(x[0].t(), x[1], r); },
      {rand_leaf({3, 2}, 1), rand_leaf({2, 3}, 2)});
  check_gradient_all_reductions(
      [](const TensorList& x, Reduction r) { return mse_loss(x[0], x[1], r); },
      {rand_leaf({1}, 1), rand_leaf({1}, 2)});
  check_gradient(
      [](const TensorList& x) { return TensorList{mse_loss(x[0], x[1], Reduction::sum)}; },
      {rand_leaf({0, 3}, 1), rand_leaf({0, 3}, 2)});
}

OP_TEST("l1_loss", "gradient") {
  check_gradient_all_reductions(
      [](const TensorList& x, Reduction r) { return l1_loss(x[0].t(), x[1], r); },
      {rand_leaf({3, 2}, 1), rand_leaf({2, 3}, 2)});
}

OP_TEST("smooth_l1_loss", "gradient") {
  for (double beta : {1.0, 0.5, 0.0})
    check_gradient_all_reductions(
        [beta](const TensorList& x, Reduction r) {
          return smooth_l1_loss(x[0].t(), x[1], r, beta);
        },
        {rand_leaf({3, 2}, 1, -2, 2), rand_leaf({2, 3}, 2)});
}

OP_TEST("huber_loss", "gradient") {
  for (double delta : {1.0, 0.3})
    check_gradient_all_reductions(
        [delta](const TensorList& x, Reduction r) { return huber_loss(x[0].t(), x[1], r, delta); },
        {rand_leaf({3, 2}, 1, -2, 2), rand_leaf({2, 3}, 2)});
}

OP_TEST("mse_loss", "errors") {
  check_error([] { mse_loss(zeros({2, 3}), zeros({3, 2})); }, {"mse_loss", "[3, 2]", "[2, 3]"});
  check_error([] { mse_loss(zeros({2, 3}), zeros({3})); }, {"mse_loss", "[3]", "[2, 3]"});
  check_error([] { mse_loss(zeros({2}), zeros({2}, DType::f64)); }, {"mse_loss", "f32", "f64"});
  check_error([] { mse_loss(zeros({2}), zeros({2}), Reduction::batchmean); },
              {"mse_loss", "batchmean"});
  check_error([] { mse_loss(zeros({2}, DType::i64), zeros({2}, DType::i64)); },
              {"mse_loss", "i64"});
}

OP_TEST("smooth_l1_loss", "errors") {
  check_error([] { smooth_l1_loss(zeros({2}), zeros({2}), Reduction::mean, -1); },
              {"smooth_l1_loss", "beta", "-1"});
  check_error([] { huber_loss(zeros({2}), zeros({2}), Reduction::mean, 0); },
              {"huber_loss", "delta"});
  check_error([] { l1_loss(zeros({2}), zeros({4})); }, {"l1_loss", "[4]", "[2]"});
}

// ---- binary cross entropy ----

OP_TEST("binary_cross_entropy", "values") {
  // -(t log x + (1 - t) log(1 - x)), logs clamped at -100
  Tensor x = f64({{0.5, 0.9, 0.2}, {0, 1, 0}});
  Tensor t = f64({{1, 0, 0.5}, {0, 1, 1}});
  Tensor expected = f64(
      {{std::log(2.0), -std::log(0.1), -0.5 * std::log(0.2) - 0.5 * std::log(0.8)}, {0, 0, 100}});
  check_reductions([&](Reduction r) { return binary_cross_entropy(x, t, {}, r); }, expected, 6);
  // weight [3] broadcasts over rows; 'mean' still divides by the element count
  Tensor w = f64({1, 2, 3});
  check_reductions([&](Reduction r) { return binary_cross_entropy(x, t, w, r); }, mul(expected, w),
                   6);
  check_close(binary_cross_entropy(x.t(), t.t(), {}, Reduction::none), expected.t());
}

OP_TEST("binary_cross_entropy", "gradient") {
  check_gradient_all_reductions(
      [](const TensorList& x, Reduction r) {
        return binary_cross_entropy(x[0].t(), x[1], x[2], r);
      },
      {rand_leaf({3, 2}, 1, 0.1, 0.9), rand_leaf({2, 3}, 2, 0, 1), rand_leaf({3}, 3, 0.5, 2)});
  check_gradient_all_reductions(
      [](const TensorList& x, Reduction r) { return binary_cross_entropy(x[0], x[1], {}, r); },
      {rand_leaf({4}, 4, 0.1, 0.9), rand_leaf({4}, 5, 0, 1)});
}

OP_TEST("binary_cross_entropy", "errors") {
  check_error(
      [] {
        binary_cross_entropy(f64({0.5, 1.5}), f64({0, 1}));
      },
      {"binary_cross_entropy", "1.5"});
  check_error(
      [] {
        binary_cross_entropy(zeros({2, 3}), zeros({2, 3}), zeros({2}));
      },
      {"binary_cross_entropy", "weight", "[2]", "[2, 3]"});
  check_error(
      [] {
        binary_cross_entropy(zeros({2, 3}), zeros({6}));
      },
      {"binary_cross_entropy", "[6]", "[2, 3]"});
}

OP_TEST("binary_cross_entropy_with_logits", "values") {
  // softplus(x) - t x, i.e. (1 - t) x + log(1 + e^-x)
  Tensor x = f64({{0, 2, -3}, {100, -100, 1}});
  Tensor t = f64({{1, 0, 0.5}, {0, 1, 1}});
  auto softplus = [](double v) { return std::log1p(std::exp(v)); };
  Tensor expected =
      f64({{std::log(2.0), softplus(2), softplus(-3) + 1.5}, {100, 100, softplus(-1)}});
  check_reductions([&](Reduction r) { return binary_cross_entropy_with_logits(x, t, {}, r); },
                   expected, 6);
  // pos_weight [3] over the last dim: (1 - t) x + (1 + (pw - 1) t) log(1 + e^-x)
  Tensor pw = f64({2, 3, 0.5});
  std::vector<double> xv = x.to_vector<double>(), tv = t.to_vector<double>(), e;
  const double pwv[] = {2, 3, 0.5};
  for (size_t i = 0; i < 6; ++i)
    e.push_back((1 - tv[i]) * xv[i] + (1 + (pwv[i % 3] - 1) * tv[i]) * softplus(-xv[i]));
  Tensor w = f64({{1}, {2}});
  check_reductions([&](Reduction r) { return binary_cross_entropy_with_logits(x, t, w, r, pw); },
                   mul(from_vector(e, {2, 3}, DType::f64), w), 6);
}

OP_TEST("binary_cross_entropy_with_logits", "gradient") {
  check_gradient_all_reductions(
      [](const TensorList& x, Reduction r) {
        return binary_cross_entropy_with_logits(x[0].t(), x[1], x[2], r, x[3]);
      },
      {rand_leaf({3, 2}, 1, -3, 3), rand_leaf({2, 3}, 2, 0, 1), rand_leaf({2, 1}, 3, 0.5, 2),
       rand_leaf({3}, 4, 0.5, 3)});
  check_gradient_all_reductions(
      [](const TensorList& x, Reduction r) {
        return binary_cross_entropy_with_logits(x[0], x[1], {}, r);
      },
      {rand_leaf({4}, 5, -3, 3), rand_leaf({4}, 6, 0, 1)});
}

OP_TEST("binary_cross_entropy_with_logits", "errors") {
  check_error(
      [] {
        binary_cross_entropy_with_logits(zeros({2, 3}), zeros({2, 3}), {}, Reduction::mean,
                                         zeros({2}));
      },
      {"binary_cross_entropy_with_logits", "pos_weight", "[2]", "[2, 3]"});
  check_error(
      [] {
        binary_cross_entropy_with_logits(zeros({2, 3}), zeros({3, 2}));
      },
      {"binary_cross_entropy_with_logits", "[3, 2]", "[2, 3]"});
}

// ---- similarity and distances ----

OP_TEST("cosine_similarity", "values") {
  check_close(cosine_similarity(f64({{1, 0}, {1, 1}}), f64({{0, 1}, {2, 2}})), f64({0, 1}));
  // broadcasting, dim 0, transposed input
  check_close(cosine_similarity(f64({{1, 0}, {1, 1}}), f64({1, 0})), f64({1, 1 / std::sqrt(2.0)}));
  check_close(cosine_similarity(f64({3, 4}), f64({4, 3}), 0), scalar(24.0 / 25));
  check_close(cosine_similarity(f64({{1, 1}, {0, 1}}).t(), f64({{0, 1}, {2, 0}}), -1),
              f64({0, 1 / std::sqrt(2.0)}));
  // each norm is clamped to eps separately (PyTorch 1.13 and 2.x): 2e-9 / (max(1e-9, 1e-8) * 2) =
  // 0.1 (the older max(|x1| |x2|, eps) would give 0.2); a zero vector gives 0
  check_close(cosine_similarity(f64({{1e-9, 0}}), f64({{2, 0}})), f64({0.1}));
  check_close(cosine_similarity(f64({{0, 0}}), f64({{2, 0}})), f64({0}));
  check_close(cosine_similarity(zeros({0, 3}, DType::f64), zeros({0, 3}, DType::f64)),
              zeros({0}, DType::f64));
}

OP_TEST("cosine_similarity", "gradient") {
  auto f = [](int64_t dim) {
    return [dim](const TensorList& x) { return TensorList{cosine_similarity(x[0], x[1], dim)}; };
  };
  check_gradient(f(1), {rand_leaf({2, 3}, 1), rand_leaf({2, 3}, 2)});
  check_gradient(f(0), {rand_leaf({2, 3}, 1), rand_leaf({3}, 2)});
  check_gradient(f(-1), {rand_leaf({2, 1, 3}, 3), rand_leaf({4, 3}, 4)});
  check_gradient([](const TensorList& x) { return TensorList{cosine_similarity(x[0].t(), x[1])}; },
                 {rand_leaf({3, 2}, 5), rand_leaf({2, 3}, 6)});
}

OP_TEST("cosine_similarity", "errors") {
  check_error(
      [] {
        cosine_similarity(zeros({2, 3}), zeros({2, 4}));
      },
      {"cosine_similarity", "[2, 3]", "[2, 4]"});
  check_error(
      [] {
        cosine_similarity(zeros({2, 3}), zeros({2, 3}), 2);
      },
      {"cosine_similarity", "2"});
}

OP_TEST("normalize", "values") {
  check_close(normalize(f64({{3, 4}, {0, 0}})), f64({{0.6, 0.8}, {0, 0}}));
  check_close(normalize(f64({{3, -4}}), 1.0), f64({{3.0 / 7, -4.0 / 7}}));
  check_close(normalize(f64({{3, 1}, {4, 0}}), 2.0, 0), f64({{0.6, 1}, {0.8, 0}}));
  check_close(normalize(f64({{3, 4}, {1, 0}}).t(), 2.0, 0), f64({{0.6, 1}, {0.8, 0}}));
  // below eps the norm is clamped: 1e-13 / 1e-12
  check_close(normalize(f64({{1e-13, 0}})), f64({{0.1, 0}}));
  check_close(normalize(zeros({0, 2}, DType::f64)), zeros({0, 2}, DType::f64));
}

OP_TEST("normalize", "gradient") {
  for (double p : {2.0, 1.0, 3.0}) {
    INFO("p ", p);
    check_gradient([p](const TensorList& x) { return TensorList{normalize(x[0], p)}; },
                   {rand_leaf({2, 3}, 1)});
    check_gradient([p](const TensorList& x) { return TensorList{normalize(x[0].t(), p, 0)}; },
                   {rand_leaf({3, 2}, 2)});
  }
  check_gradient([](const TensorList& x) { return TensorList{normalize(x[0], 2.0, -1)}; },
                 {rand_leaf({2, 1, 1}, 3)});
}

OP_TEST("normalize", "errors") {
  check_error([] { normalize(zeros({2}), 0.0); }, {"normalize", "p", "0"});
  check_error([] { normalize(zeros({2}), 2.0, 3); }, {"normalize", "3"});
}

OP_TEST("cdist", "values") {
  Tensor a = f64({{0, 0}, {1, 1}}), b = f64({{3, 4}, {0, 0}, {1, 0}});
  check_close(cdist(a, b), f64({{5, 0, 1}, {std::sqrt(13.0), std::sqrt(2.0), 1}}));
  check_close(cdist(a, b, 1.0), f64({{7, 0, 1}, {5, 2, 1}}));
  // batched, transposed input
  Tensor a3 = f64({{{0, 1}, {0, 1}}}).transpose(1, 2);  // [[[0, 0], [1, 1]]]
  check_close(cdist(a3, f64({{{3, 4}, {0, 0}, {1, 0}}})),
              f64({{{5, 0, 1}, {std::sqrt(13.0), std::sqrt(2.0), 1}}}));
  // batch dims broadcast: [1, 2, 2] against [2, 3, 2]
  const double r2 = std::sqrt(2.0);
  check_close(cdist(a3, f64({{{3, 4}, {0, 0}, {1, 0}}, {{0, 0}, {0, 0}, {0, 0}}})),
              f64({{{5, 0, 1}, {std::sqrt(13.0), r2, 1}}, {{0, 0, 0}, {r2, r2, r2}}}));
  check_close(cdist(zeros({0, 2}, DType::f64), b), zeros({0, 3}, DType::f64));
  // the p = 2 gradient at zero distance is 0, not NaN
  Tensor x = f64({{1, 2}}).requires_grad_();
  sum(cdist(x, f64({{1, 2}, {4, 6}}))).backward();
  check_close(x.grad(), f64({{-0.6, -0.8}}));
}

OP_TEST("cdist", "gradient") {
  for (double p : {2.0, 1.0}) {
    INFO("p ", p);
    check_gradient([p](const TensorList& x) { return TensorList{cdist(x[0], x[1], p)}; },
                   {rand_leaf({3, 2}, 1), rand_leaf({4, 2}, 2)});
    check_gradient(
        [p](const TensorList& x) { return TensorList{cdist(x[0].transpose(1, 2), x[1], p)}; },
        {rand_leaf({2, 3, 2}, 3), rand_leaf({2, 1, 3}, 4)});
  }
  check_gradient([](const TensorList& x) { return TensorList{cdist(x[0], x[1])}; },
                 {rand_leaf({0, 2}, 5), rand_leaf({3, 2}, 6)});
  // batch dims broadcast
  check_gradient([](const TensorList& x) { return TensorList{cdist(x[0], x[1])}; },
                 {rand_leaf({2, 1, 3, 2}, 7), rand_leaf({3, 2, 2}, 8)});
}

OP_TEST("cdist", "errors") {
  check_error([] { cdist(zeros({2, 3}), zeros({4, 2})); }, {"cdist", "[2, 3]", "[4, 2]"});
  check_error(
      [] {
        cdist(zeros({2, 2, 3}), zeros({3, 4, 3}));
      },
      {"cdist", "[2, 2, 3]", "[3, 4, 3]"});
  check_error([] { cdist(zeros({2, 3}), zeros({4, 3}), 3.0); }, {"cdist", "p = 3"});
  check_error([] { cdist(zeros({3}), zeros({4, 3})); }, {"cdist", "[3]", "[4, 3]"});
}

// ---- the f32 kernels compute what the f64 ones do ----

TEST_CASE("losses: f32 kernels agree with f64, forward and backward") {
  using Fn = std::function<Tensor(const TensorList&)>;
  struct Input {
    Shape shape;
    double lo, hi;
  };
  struct Case {
    const char* name;
    Fn f;
    std::vector<Input> inputs;
  };
  auto cast = [](const Tensor& t, const TensorList& like) { return t.to(like[0].dtype()); };
  const std::vector<Case> cases = {
      {"cross_entropy",
       [&](const TensorList& x) {
         return cross_entropy(x[0], idx({2, 0, -100}), cast(f64({0.2, 0.3, 0.5}), x), -100,
                              Reduction::mean, 0.1);
       },
       {{{3, 3}, -3, 3}}},
      {"cross_entropy probs",
       [](const TensorList& x) { return cross_entropy(x[0], x[1], {}, -100, Reduction::sum); },
       {{{2, 4}, -3, 3}, {{2, 4}, 0, 1}}},
      {"nll_loss",
       [&](const TensorList& x) {
         return nll_loss(x[0], idx({1, 2}), cast(f64({0.2, 0.3, 0.5}), x));
       },
       {{{2, 3}, -3, 0}}},
      {"kl_div",
       [](const TensorList& x) { return kl_div(x[0], x[1], Reduction::batchmean); },
       {{{2, 3}, -3, 0}, {{2, 3}, 0.1, 1}}},
      {"kl_div log_target",
       [](const TensorList& x) { return kl_div(x[0], x[1], Reduction::sum, true); },
       {{{2, 3}, -3, 0}, {{2, 3}, -3, 0}}},
      {"mse_loss",
       [](const TensorList& x) { return mse_loss(x[0], x[1]); },
       {{{5}, -2, 2}, {{5}, -2, 2}}},
      {"l1_loss",
       [](const TensorList& x) { return l1_loss(x[0], x[1]); },
       {{{5}, -2, 2}, {{5}, -2, 2}}},
      {"smooth_l1_loss",
       [](const TensorList& x) { return smooth_l1_loss(x[0], x[1], Reduction::sum, 0.5); },
       {{{5}, -2, 2}, {{5}, -2, 2}}},
      {"huber_loss",
       [](const TensorList& x) { return huber_loss(x[0], x[1], Reduction::sum, 0.5); },
       {{{5}, -2, 2}, {{5}, -2, 2}}},
      {"binary_cross_entropy",
       [](const TensorList& x) { return binary_cross_entropy(x[0], x[1], x[2]); },
       {{{2, 3}, 0.05, 0.95}, {{2, 3}, 0, 1}, {{3}, 0.5, 2}}},
      {"binary_cross_entropy_with_logits",
       [](const TensorList& x) {
         return binary_cross_entropy_with_logits(x[0], x[1], {}, Reduction::mean, x[2]);
       },
       {{{2, 3}, -5, 5}, {{2, 3}, 0, 1}, {{3}, 0.5, 2}}},
      {"cosine_similarity",
       [](const TensorList& x) { return cosine_similarity(x[0], x[1]); },
       {{{2, 4}, -1, 1}, {{2, 4}, -1, 1}}},
      {"normalize", [](const TensorList& x) { return normalize(x[0], 3.0); }, {{{2, 4}, -1, 1}}},
      {"cdist",
       [](const TensorList& x) { return cdist(x[0], x[1]); },
       {{{3, 2}, -1, 1}, {{4, 2}, -1, 1}}},
  };
  for (const Case& c : cases) {
    INFO("case ", c.name);
    TensorList x64, x32;
    uint64_t seed = 11;
    for (const Input& in : c.inputs) {
      x64.push_back(rand_leaf(in.shape, seed++, in.lo, in.hi));
      x32.push_back(x64.back().detach().to(DType::f32).requires_grad_());
    }
    Tensor y64 = c.f(x64), y32 = c.f(x32);
    CHECK(y32.dtype() == DType::f32);
    check_close(y32, y64, 1e-5, 1e-4);
    sum(y64).backward();
    sum(y32).backward();
    for (size_t i = 0; i < x64.size(); ++i) check_close(x32[i].grad(), x64[i].grad(), 1e-5, 1e-4);
  }
}

// ---- a few values printed by PyTorch 1.13.1 (Debian's python3-torch), f64 ----

TEST_CASE("losses: values printed by PyTorch") {
  Tensor x = f64({{1, 2, 3}, {0.5, -1, 0}, {2, 2, -1}});
  Tensor w = f64({0.2, 0.3, 0.5});
  // F.cross_entropy(x, [2, 0, -100], w, label_smoothing=0.1)
  check_close(cross_entropy(x, idx({2, 0, -100}), w, -100, Reduction::mean, 0.1),
              scalar(0.5322248742189799), 1e-12);
  // F.cross_entropy(x, probabilities, w, label_smoothing=0.3)
  check_close(cross_entropy(x, f64({{0.1, 0.2, 0.7}, {1, 0, 0}, {0.3, 0.3, 0.4}}), w, -100,
                            Reduction::mean, 0.3),
              scalar(0.4453534096543412), 1e-12);
  // F.binary_cross_entropy_with_logits(x, t, weight [[1], [2]], pos_weight=[2, 3, 0.5])
  check_close(binary_cross_entropy_with_logits(f64({{0, 2, -3}, {100, -100, 1}}),
                                               f64({{1, 0, 0.5}, {0, 1, 1}}), f64({{1}, {2}}),
                                               Reduction::mean, f64({2, 3, 0.5})),
              scalar(134.10215409556022), 1e-12);
  // F.kl_div([[-0.5, -1, -2]], [[0.2, 0, 0.8]], reduction='batchmean')
  check_close(kl_div(f64({{-0.5, -1, -2}}), f64({{0.2, 0, 0.8}}), Reduction::batchmean),
              scalar(1.1995975764618123), 1e-12);
}
