// The tape: accumulation, retain_graph, NoGradGuard, detach, the version counter, create_graph,
// autograd::grad, retain_grad, and the error messages of each misuse.
#include <doctest/doctest.h>

#include "engine/autograd/gradcheck.h"
#include "engine/ops/ops.h"
#include "support/op_test.h"

using namespace tutor;

namespace {
Tensor scalar(double v) { return tensor({v}, DType::f64).requires_grad_(); }
}  // namespace

TEST_CASE("autograd: product rule by hand") {
  Tensor x = scalar(2.0);
  Tensor y = x * x + x;  // dy/dx = 2x + 1 = 5
  y.backward();
  CHECK(x.grad().item() == 5.0);
  CHECK(x.is_leaf());
  CHECK(!y.is_leaf());
  CHECK(y.grad_fn()->name() == "add");
}

TEST_CASE("autograd: a value used twice sums both paths (diamond)") {
  Tensor x = scalar(3.0);
  Tensor a = x * 2.0, b = x * x;
  (a * b).backward();  // d(2x^3)/dx = 6x^2 = 54
  CHECK(x.grad().item() == 54.0);
}

TEST_CASE("autograd: gradients accumulate across backward calls; zeroing resets") {
  Tensor x = scalar(1.5);
  (x * 4.0).backward();
  (x * 4.0).backward();
  CHECK(x.grad().item() == 8.0);
  x.mutable_grad() = Tensor();
  (x * 3.0).backward();
  CHECK(x.grad().item() == 3.0);
}

TEST_CASE("autograd: backward with an explicit output gradient") {
  Tensor x = tensor({1, 2, 3}, DType::f64).requires_grad_();
  Tensor y = x * x;
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("one-element"), Error);
  y.backward(tensor({1, 10, 100}, DType::f64));
  CHECK(x.grad().to_vector<double>() == std::vector<double>{2, 40, 600});
  Tensor z = x * 2.0;
  CHECK_THROWS_WITH_AS(z.backward(ones({2}, DType::f64)), doctest::Contains("[2]"), Error);
}

TEST_CASE("autograd: retain_graph") {
  Tensor x = scalar(2.0);
  Tensor y = exp(x);
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  CHECK(x.grad().item() == doctest::Approx(2 * std::exp(2.0)));
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("retain_graph"), Error);
}

TEST_CASE("autograd: NoGradGuard records nothing, and restores the mode") {
  Tensor x = scalar(1.0);
  {
    NoGradGuard g;
    Tensor y = x * 2.0;
    CHECK(!y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
    {
      EnableGradGuard e;
      CHECK((x * 2.0).requires_grad());
    }
    CHECK(!GradMode::is_enabled());
  }
  CHECK(GradMode::is_enabled());
  CHECK((x * 2.0).requires_grad());
}

TEST_CASE("autograd: detach cuts the graph but shares storage") {
  Tensor x = scalar(2.0);
  Tensor d = (x * 3.0).detach();
  CHECK(!d.requires_grad());
  CHECK(d.is_leaf());
  Tensor y = x * d;  // d is a constant: dy/dx = 6
  y.backward();
  CHECK(x.grad().item() == 6.0);
  Tensor e = x.detach();
  CHECK(e.shares_storage(x));
}

TEST_CASE("autograd: requires_grad_ only on leaves") {
  Tensor x = scalar(1.0);
  Tensor y = x * 2.0;
  CHECK_THROWS_WITH_AS(y.requires_grad_(false), doctest::Contains("leaf"), Error);
  Tensor c = tensor({1.0});
  CHECK(!(c * 2.0).requires_grad());
  c.requires_grad_();
  CHECK((c * 2.0).requires_grad());
  CHECK_THROWS_WITH_AS(sum(c * 2.0).detach().backward(), doctest::Contains("does not require grad"), Error);
}

TEST_CASE("autograd: modifying a saved tensor in place is an error, not a wrong gradient") {
  Tensor x = tensor({1, 2}, DType::f64).requires_grad_();
  Tensor w = tensor({3, 4}, DType::f64);
  Tensor y = sum(x * w);
  w.fill_(0);  // mul saved w for backward
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("'mul'"), Error);
  // a change under NoGradGuard to a leaf that an op saved is caught the same way
  Tensor a = tensor({1.0}, DType::f64).requires_grad_();
  Tensor b = exp(a) * a;
  {
    NoGradGuard g;
    a.fill_(5);
  }
  CHECK_THROWS_WITH_AS(b.backward(), doctest::Contains("modified in place"), Error);
  // views share the version counter of their base
  Tensor base = tensor({1, 2, 3}, DType::f64);
  Tensor z = tensor({1, 1, 1}, DType::f64).requires_grad_();
  Tensor out = sum(z * base);
  base.narrow(0, 0, 1).fill_(9);
  CHECK_THROWS_AS(out.backward(), Error);
}

TEST_CASE("autograd: create_graph gives second derivatives") {
  Tensor x = scalar(2.0);
  Tensor y = x * x * x;  // y' = 3x^2 = 12, y'' = 6x = 12
  TensorList g = autograd::grad({y}, {x}, {}, /*retain_graph=*/false, /*create_graph=*/true);
  CHECK(g[0].item() == 12.0);
  CHECK(g[0].requires_grad());
  g[0].backward();
  CHECK(x.grad().item() == 12.0);
  // through a saved output: exp'' = exp
  Tensor u = scalar(0.5);
  TensorList gu = autograd::grad({exp(u)}, {u}, {}, false, true);
  TensorList guu = autograd::grad({gu[0]}, {u});
  CHECK(guu[0].item() == doctest::Approx(std::exp(0.5)));
}

TEST_CASE("autograd: grad() leaves .grad() alone") {
  Tensor x = scalar(3.0), w = scalar(2.0);
  TensorList g = autograd::grad({x * w}, {x});
  CHECK(g[0].item() == 2.0);
  CHECK(!x.grad().defined());
  CHECK(!w.grad().defined());
  CHECK_THROWS_WITH_AS(autograd::grad({x * w}, {tensor({1.0})}), doctest::Contains("input 0"), Error);
}

TEST_CASE("autograd: retain_grad keeps a non-leaf's gradient") {
  Tensor x = scalar(2.0);
  Tensor h = x * 3.0;
  h.retain_grad();
  (h * h).backward();  // d/dh h^2 = 2h = 12
  CHECK(h.grad().item() == 12.0);
  CHECK(x.grad().item() == 36.0);
}

TEST_CASE("autograd: leaves never alias the caller's gradient or each other") {
  Tensor a = tensor({1, 2}, DType::f64).requires_grad_();
  Tensor b = tensor({3, 4}, DType::f64).requires_grad_();
  Tensor seed = ones({2}, DType::f64);
  (a + b).backward(seed);
  CHECK(!a.grad().shares_storage(b.grad()));
  CHECK(!a.grad().shares_storage(seed));
}

// A gradient that only the engine holds becomes the leaf's .grad() without a copy; one that a
// retained gradient (or any other tensor) shares storage with is copied.
TEST_CASE("autograd: leaves never alias a retained gradient, also through a view") {
  Tensor x = tensor({1, 2, 3, 4}, DType::f64).requires_grad_();
  Tensor h = x.reshape({2, 2});
  h.retain_grad();
  sum(h * 3.0).backward();
  CHECK(h.grad().to_vector<double>() == std::vector<double>{3, 3, 3, 3});
  CHECK(x.grad().to_vector<double>() == std::vector<double>{3, 3, 3, 3});
  CHECK(!x.grad().shares_storage(h.grad()));

  Tensor u = tensor({1, 2}, DType::f64).requires_grad_();
  Tensor v = u * 2.0;
  v.retain_grad();
  sum(v * 5.0).backward();
  CHECK(v.grad().to_vector<double>() == std::vector<double>{5, 5});
  CHECK(u.grad().to_vector<double>() == std::vector<double>{10, 10});
  CHECK(!u.grad().shares_storage(v.grad()));
  sum(u * 2.0).backward();  // accumulates into the gradient taken without a copy
  CHECK(u.grad().to_vector<double>() == std::vector<double>{12, 12});
}

TEST_CASE("autograd: deep chains neither overflow the stack in backward nor when freed") {
  Tensor x = scalar(1.0);
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = y * 1.0;
  y.backward();
  CHECK(x.grad().item() == 1.0);
}

TEST_CASE("gradcheck: catches a wrong backward rule") {
  // a function whose recorded gradient is deliberately wrong: y = 2x, but backward says 3g
  auto wrong = [](const TensorList& in) {
    Tensor y = in[0].detach() * 2.0;
    autograd::record("wrong", {in[0]}, {y}, [](const autograd::FunctionNode&, const TensorList& g) {
      return TensorList{g[0] * 3.0};
    });
    return TensorList{y};
  };
  Tensor x = tensor({0.5, -1.0}, DType::f64).requires_grad_();
  autograd::GradcheckResult r = autograd::gradcheck(wrong, {x});
  CHECK(!r.ok);
  CHECK(r.message.find("analytic") != std::string::npos);
  autograd::GradcheckResult good =
      autograd::gradcheck([](const TensorList& in) { return TensorList{in[0] * 2.0}; }, {x});
  CHECK(good.ok);
  CHECK(good.elements_checked == 2);
}

// grad() runs only the nodes that lead to its inputs (PyTorch's exec_info): a rule on a branch
// that reaches no requested input is neither run nor asked for that input's gradient.
TEST_CASE("autograd: grad runs only the nodes that lead to its inputs") {
  Tensor a = testing::rand_leaf({3}, 1), b = testing::rand_leaf({3}, 2);
  Tensor ab = mul(a, b);
  Tensor c = empty({3}, DType::f64);
  c.copy_raw_(ab.detach());
  std::vector<bool> asked;
  autograd::record("only_a", {a, b}, {c},
                   [&](const autograd::FunctionNode& n, const TensorList& g) -> TensorList {
                     asked = {n.needs_input_grad(0), n.needs_input_grad(1)};
                     return {mul(g[0], b.detach()), mul(g[0], a.detach())};
                   });
  Tensor d = exp(b);
  autograd::record("throws", {b}, {d}, [](const autograd::FunctionNode&, const TensorList&)
                                            -> TensorList { fail("throws: must not run"); });
  Tensor loss = add(sum(c), sum(d));
  TensorList ga = autograd::grad({loss}, {a}, {}, /*retain_graph=*/true);
  testing::check_close(ga[0], b.detach());
  CHECK(asked == std::vector<bool>{true, false});
  testing::check_error([&] { loss.backward(); }, {"throws: must not run"});
}

// A root given twice (as two outputs of one op would be): the walk counts each edge once, so the
// leaves still run, and the two seeds add.
TEST_CASE("autograd: roots that share a node") {
  Tensor x = testing::rand_leaf({4}, 3);
  Tensor y = mul(x, x);
  TensorList g = autograd::grad({y, y}, {x}, {ones({4}, DType::f64), full({4}, 3.0, DType::f64)});
  REQUIRE(g[0].defined());
  testing::check_close(g[0], mul(x.detach(), 8.0));
}
