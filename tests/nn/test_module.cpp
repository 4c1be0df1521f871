// Module: registration, dotted names in PyTorch's order, state dicts, conversion, train/eval.
#include <doctest/doctest.h>

#include "engine/nn/module.h"
#include "engine/ops/ops.h"

using namespace tutor;

namespace {

// y = x * scale + shift, with a running counter buffer.
class Affine : public nn::Module {
 public:
  explicit Affine(int64_t n, bool with_shift = true) : Module("Affine") {
    scale = register_parameter("scale", ones({n}));
    shift = register_parameter("shift", with_shift ? zeros({n}) : Tensor());
    calls = register_buffer("calls", zeros({1}, DType::i64));
    scratch = register_buffer("scratch", zeros({n}), /*persistent=*/false);
  }
  Tensor forward(const Tensor& x) override {
    return shift.defined() ? x * scale + shift : x * scale;
  }
  Tensor scale, shift, calls, scratch;

 protected:
  std::string extra_repr() const override { return fmt::format("n={}", scale.numel()); }
};

class Net : public nn::Module {
 public:
  Net() : Module("Net") {
    first = register_module("first", std::make_shared<Affine>(3));
    gain = register_parameter("gain", full({1}, 2.0));
    second = register_module("second", std::make_shared<Affine>(3, false));
  }
  Tensor forward(const Tensor& x) override { return (*second)((*first)(x)) * gain; }
  std::shared_ptr<Affine> first, second;
  Tensor gain;
};

std::vector<std::string> names(const nn::NamedTensors& list) {
  std::vector<std::string> out;
  for (const auto& [n, t] : list) out.push_back(n);
  return out;
}

}  // namespace

TEST_CASE("module: dotted names in PyTorch's order") {
  Net net;
  CHECK(names(net.named_parameters()) ==
        std::vector<std::string>{"gain", "first.scale", "first.shift", "second.scale"});
  CHECK(names(net.named_buffers()) ==
        std::vector<std::string>{"first.calls", "first.scratch", "second.calls", "second.scratch"});
  // state_dict: per module, parameters then persistent buffers, then children
  CHECK(names(net.state_dict()) == std::vector<std::string>{"gain", "first.scale", "first.shift",
                                                            "first.calls", "second.scale",
                                                            "second.calls"});
  CHECK(names(net.named_parameters(false)) == std::vector<std::string>{"gain"});
  CHECK(net.named_modules().size() == 2);
  CHECK(net.num_parameters() == 1 + 3 + 3 + 3);
  CHECK(net.submodule("first").get() == net.first.get());
  CHECK(net.tensor_at("first.scale").is_same(net.first->scale));
  CHECK_THROWS_WITH_AS(net.submodule("third"), doctest::Contains("third"), Error);
  CHECK_THROWS_WITH_AS(net.tensor_at("first.bias"), doctest::Contains("first.bias"), Error);
}

TEST_CASE("module: registration errors") {
  Affine a(2);
  CHECK_THROWS_WITH_AS(a.register_parameter("scale", ones({1})), doctest::Contains("already"),
                       Error);
  CHECK_THROWS_WITH_AS(a.register_buffer("a.b", ones({1})), doctest::Contains("'a.b'"), Error);
  Tensor non_leaf = ones({1}).requires_grad_() * 2.0;
  CHECK_THROWS_WITH_AS(a.register_parameter("w", non_leaf), doctest::Contains("leaf"), Error);
}

TEST_CASE("module: parameters train, and zero_grad drops gradients") {
  Net net;
  CHECK(net.gain.requires_grad());
  CHECK(!net.first->calls.requires_grad());
  Tensor y = sum(net.forward(tensor({1, 2, 3})));
  y.backward();
  // y = 2 * sum(x * s1 + b1) * s2 with s = 1, b = 0: dy/dgain = sum(x) = 6
  CHECK(net.gain.grad().item() == 6.0);
  CHECK(net.first->shift.grad().to_vector<float>() == std::vector<float>{2, 2, 2});
  net.zero_grad();
  CHECK(!net.gain.grad().defined());
  net.requires_grad_(false);
  CHECK(!net.forward(tensor({1, 2, 3})).requires_grad());
}

TEST_CASE("module: train and eval reach every descendant") {
  Net net;
  CHECK(net.is_training());
  net.eval();
  CHECK(!net.is_training());
  CHECK(!net.first->is_training());
  net.train();
  CHECK(net.second->is_training());
}

TEST_CASE("module: to(dtype) converts in place and keeps member handles") {
  Net net;
  Tensor handle = net.first->scale;
  net.to(DType::f64);
  CHECK(handle.dtype() == DType::f64);
  CHECK(net.first->scale.dtype() == DType::f64);
  CHECK(net.first->calls.dtype() == DType::i64);  // integer buffers stay
  CHECK(net.first->scale.requires_grad());
  Tensor y = sum(net.forward(tensor({1, 2, 3}, DType::f64)));
  y.backward();
  CHECK(net.gain.grad().dtype() == DType::f64);
  CHECK_THROWS_WITH_AS(net.to(DType::i64), doctest::Contains("floating"), Error);
  CHECK_THROWS_WITH_AS(net.to(Device("cuda:0")), doctest::Contains("cuda:0"), Error);
}

TEST_CASE("module: state_dict round trip and strict loading") {
  Net a, b;
  {
    NoGradGuard g;
    a.first->scale.copy_(tensor({1, 2, 3}));
    a.gain.fill_(5);
    a.first->calls.fill_(7);
  }
  b.load_state_dict(a.state_dict());
  CHECK(b.first->scale.to_vector<float>() == std::vector<float>{1, 2, 3});
  CHECK(b.gain.item() == 5.0);
  CHECK(b.first->calls.item<int64_t>() == 7);
  CHECK(!b.first->scale.shares_storage(a.first->scale));  // copied, not aliased

  nn::NamedTensors bad = a.state_dict();
  bad.erase(bad.begin());                       // drop "gain"
  bad.emplace_back("extra.weight", ones({1}));  // unknown
  bad[0].second = ones({4});                    // first.scale with a wrong shape
  try {
    b.load_state_dict(bad);
    FAIL("expected an error");
  } catch (const Error& e) {
    std::string m = e.what();
    CHECK(m.find("missing keys: gain") != std::string::npos);
    CHECK(m.find("unexpected keys: extra.weight") != std::string::npos);
    CHECK(m.find("first.scale: given [4] vs module [3]") != std::string::npos);
  }
  nn::LoadReport r = b.load_state_dict(bad, /*strict=*/false);
  CHECK(r.missing == std::vector<std::string>{"gain"});
  CHECK(r.unexpected == std::vector<std::string>{"extra.weight"});
  CHECK(r.mismatched.size() == 1);
}

TEST_CASE("module: loading converts dtypes and bumps versions") {
  Net net;
  Tensor s = net.first->scale;
  Tensor saved_for_backward = sum(s * tensor({1, 1, 1}));
  nn::NamedTensors state = net.state_dict();
  for (auto& [n, t] : state)
    if (t.is_floating_point()) t = t.to(DType::f64) + 1.0;
  net.load_state_dict(state);
  CHECK(net.first->scale.dtype() == DType::f32);
  CHECK(net.first->scale.to_vector<float>() == std::vector<float>{2, 2, 2});
  // mul saved the parameter for the gradient of its other input: loading changed it in place
  Tensor w = tensor({1, 1, 1}).requires_grad_();
  Tensor uses_s = sum(s * w);
  net.load_state_dict(state);
  CHECK_THROWS_WITH_AS(uses_s.backward(), doctest::Contains("modified in place"), Error);
  CHECK_NOTHROW(saved_for_backward.backward());
}

TEST_CASE("module: printing as PyTorch's repr") {
  Net net;
  CHECK(net.str() == "Net(\n  (first): Affine(n=3)\n  (second): Affine(n=3)\n)");
}

namespace {

// Reads Affine checkpoints, whose "calls" it has no use for.
class Reader : public nn::Module {
 public:
  Reader() : Module("Reader") { scale = register_parameter("scale", ones({3})); }
  Tensor scale;

 protected:
  std::vector<std::string> ignored_state_keys() const override { return {"calls"}; }
};

}  // namespace

TEST_CASE("module: load_state_dict drops the keys a module ignores, at any depth") {
  Affine source(3, false);
  nn::NamedTensors state = source.state_dict();  // scale, calls
  Reader reader;
  nn::LoadReport r = reader.load_state_dict(state);
  CHECK(r.ok());
  nn::Module parent("Parent");
  parent.register_module("r", std::make_shared<Reader>());
  nn::NamedTensors nested = {{"r.scale", ones({3})}, {"r.calls", zeros({1})}, {"calls", ones({1})}};
  r = parent.load_state_dict(nested, /*strict=*/false);
  CHECK(r.unexpected == std::vector<std::string>{"calls"});  // only the Reader's own key is dropped
  CHECK(r.missing.empty());
}
