// The CPU backend against the reference backend, in the spirit of ggml's test-backend-ops: each
// case builds its inputs from a seed and runs forward and backward through the public ops twice,
// once with the reference kernels only (ops::ReferenceOnlyGuard) and once normally (the cpu
// kernels), and every output and every input gradient must agree to a normalized MSE
// sum((a - b)^2) / sum(b^2) <= 1e-7 (DESIGN.md, Numerics). The loss is sum_i <out_i, r_i> for
// random r_i, so each input gradient is every backward kernel applied to a random cotangent.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "engine/core/random.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/ops.h"
#include "kernels/cpu/onednn.h"
#include "kernels/cpu/threads.h"

namespace tutor {
namespace {

// What a case draws its inputs from; every leaf requires grad and gets its gradient compared.
struct Inputs {
  Generator gen;
  TensorList leaves;

  Tensor leaf(const Shape& shape, DType dtype = DType::f32) {
    Tensor t = randn(shape, DType::f32, &gen).to(dtype);
    t.requires_grad_();
    leaves.push_back(t);
    return t;
  }
};

struct Case {
  std::string name;
  std::function<TensorList(Inputs&)> run;  // builds leaves, applies ops, returns the outputs
};

struct Results {
  TensorList outputs, grads;
};

Results run_case(const Case& c, uint64_t seed) {
  Inputs in{Generator(seed), {}};
  TensorList outs = c.run(in);
  Tensor loss;
  for (const Tensor& out : outs) {
    Tensor term = sum(mul(out, randn(out.sizes(), out.dtype(), &in.gen)));
    loss = loss.defined() ? add(loss, term) : term;
  }
  loss.backward();
  Results r;
  for (const Tensor& out : outs) r.outputs.push_back(out.detach());
  for (const Tensor& l : in.leaves) r.grads.push_back(l.grad());
  return r;
}

// sum((a - b)^2) / sum(b^2), in double; exact agreement required when b is all zeros.
double nmse(const Tensor& a, const Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  const std::vector<double> av = a.to_vector<double>(), bv = b.to_vector<double>();
  double err = 0, ref = 0;
  for (size_t i = 0; i < av.size(); ++i) {
    err += (av[i] - bv[i]) * (av[i] - bv[i]);
    ref += bv[i] * bv[i];
  }
  return ref == 0 ? (err == 0 ? 0 : 1) : err / ref;
}

void check_against_reference(const Case& c, double bound = 1e-7) {
  constexpr uint64_t kSeed = 20261123;
  Results expected;
  {
    ops::ReferenceOnlyGuard reference_only;
    expected = run_case(c, kSeed);
  }
  const Results actual = run_case(c, kSeed);
  REQUIRE(actual.grads.size() == expected.grads.size());
  for (size_t i = 0; i < expected.outputs.size(); ++i) {
    INFO(c.name, ": output ", i, " of shape ", shape_str(expected.outputs[i].sizes()));
    CHECK(nmse(actual.outputs[i], expected.outputs[i]) <= bound);
  }
  for (size_t i = 0; i < expected.grads.size(); ++i) {
    INFO(c.name, ": gradient of input ", i, " of shape ", shape_str(expected.grads[i].sizes()));
    REQUIRE(actual.grads[i].defined());
    CHECK(nmse(actual.grads[i], expected.grads[i]) <= bound);
  }
}

// ---- matmul ----

Case mm(const std::string& name, const Shape& a, const Shape& b) {
  return {name, [a, b](Inputs& in) {
            Tensor x = in.leaf(a), y = in.leaf(b);
            return TensorList{matmul(x, y)};
          }};
}

// a^T b^T with both operands transposed views of contiguous leaves: [.., M, K] x [.., K, N].
Case mm_transposed(const std::string& name, int64_t batch, int64_t m, int64_t k, int64_t n) {
  return {name, [=](Inputs& in) {
            Tensor at = in.leaf({batch, k, m}), bt = in.leaf({batch, n, k});
            return TensorList{matmul(at.transpose(1, 2), bt.transpose(1, 2))};
          }};
}

std::vector<Case> matmul_cases() {
  return {
      mm("odd sizes", {7, 13}, {13, 5}),
      mm("batch 1", {1, 9, 31}, {1, 31, 3}),
      mm("batched", {3, 17, 33}, {3, 33, 9}),
      mm("vector times matrix", {19}, {19, 6}),
      mm("matrix times vector", {6, 19}, {19}),
      mm("broadcast right operand", {2, 3, 5, 7}, {7, 4}),
      mm("broadcast left operand", {5, 7}, {3, 7, 4}),
      mm_transposed("transposed operands", 2, 11, 23, 6),
      {"sliced rows (row stride > width)",
       [](Inputs& in) {
         Tensor a = in.leaf({12, 20}), b = in.leaf({20, 9});
         return TensorList{matmul(a.narrow(1, 3, 15), b.narrow(0, 2, 15))};
       }},
      {"stepped columns (no unit stride)",
       [](Inputs& in) {
         Tensor a = in.leaf({6, 16}), b = in.leaf({8, 5});
         return TensorList{matmul(a.slice(1, 0, std::nullopt, 2), b)};
       }},
      // benchmarks.md shapes, batch scaled down: vit_small28's qkv projection (tokens x 64 x 192),
      // its attention scores q k^T and weights v (4 heads of 16 over 49 tokens), and
      // mixer_small28's token MLP (49 -> 32 on the transposed activations).
      mm("vit qkv projection", {2, 49, 64}, {64, 192}),
      {"vit attention",
       [](Inputs& in) {
         Tensor q = in.leaf({2, 4, 49, 16}), k = in.leaf({2, 4, 49, 16}),
                v = in.leaf({2, 4, 49, 16});
         Tensor scores = matmul(q, k.transpose(-2, -1));
         return TensorList{scores, matmul(scores, v)};
       }},
      {"mixer token mlp",
       [](Inputs& in) {
         Tensor x = in.leaf({2, 49, 64}), w = in.leaf({32, 49});
         return TensorList{matmul(x.transpose(1, 2), w.t())};
       }},
      mm("square 128", {128, 128}, {128, 128}),
      mm("empty contraction", {4, 0}, {0, 3}),
  };
}

// ---- conv2d and conv_transpose2d ----

struct Conv {
  Shape x, w;
  Size2 stride = 1, padding = 0, dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  bool permuted_input = false;  // x is an NHWC leaf seen through permute: strides, no copy
};

Case conv(const std::string& name, Conv c) {
  return {name, [c](Inputs& in) {
            Tensor x = c.permuted_input
                           ? in.leaf({c.x[0], c.x[2], c.x[3], c.x[1]}).permute({0, 3, 1, 2})
                           : in.leaf(c.x);
            Tensor w = in.leaf(c.w);
            Tensor b = c.bias ? in.leaf({c.w[0]}) : Tensor();
            return TensorList{conv2d(x, w, b, c.stride, c.padding, c.dilation, c.groups)};
          }};
}

std::vector<Case> conv_cases() {
  return {
      conv("3x3 padding 1 with bias", {{2, 3, 9, 11}, {5, 3, 3, 3}, 1, 1}),
      conv("batch 1, odd sizes, no bias",
           {{1, 5, 13, 7}, {6, 5, 3, 2}, {2, 1}, {1, 0}, 1, 1, false}),
      conv("stride 2 with the last column unused", {{2, 3, 8, 7}, {4, 3, 3, 3}, 2, 1}),
      conv("1x1 stride 2", {{2, 6, 7, 6}, {5, 6, 1, 1}, 2, 0, 1, 1, false}),
      conv("dilation 2", {{2, 3, 12, 10}, {4, 3, 3, 3}, 1, 2, 2}),
      conv("dilation and stride", {{1, 4, 15, 13}, {3, 4, 3, 2}, {2, 3}, {1, 2}, {3, 2}}),
      conv("groups 2", {{2, 4, 8, 9}, {6, 2, 3, 3}, 1, 1, 1, 2}),
      conv("depthwise stride 2", {{2, 8, 10, 10}, {8, 1, 3, 3}, 2, 1, 1, 8}),
      conv("depthwise multiplier 2, no bias", {{1, 4, 9, 9}, {8, 1, 5, 5}, 1, 2, 1, 4, false}),
      conv("256 channels", {{1, 256, 6, 6}, {256, 256, 3, 3}, 1, 1, 1, 1, false}),
      // The ResNet-18 stem's class: 3 input channels, 7x7, stride 2 (its backward data runs on
      // plain NCHW layouts: the blocked kernel would pad 3 channels to 16).
      conv("3-channel 7x7 stride-2 stem", {{2, 3, 30, 30}, {16, 3, 7, 7}, 2, 3, 1, 1, false}),
      conv("permuted (NHWC) input", {{2, 8, 7, 9}, {4, 8, 3, 3}, 1, 1, 1, 1, true, true}),
      conv("permuted input, groups", {{2, 6, 6, 5}, {6, 3, 3, 3}, 2, 1, 1, 2, false, true}),
      conv("kernel as large as the padded input", {{2, 2, 4, 4}, {3, 2, 6, 6}, 1, 1}),
      conv("no input channels: the output is the bias", {{2, 0, 5, 5}, {3, 0, 3, 3}, 1, 1}),
      conv("batch 0", {{0, 3, 5, 5}, {4, 3, 3, 3}, 1, 1}),
      {"conv_transpose2d with output_padding and bias",
       [](Inputs& in) {
         Tensor x = in.leaf({2, 4, 5, 6}), w = in.leaf({4, 3, 3, 3}), b = in.leaf({3});
         return TensorList{conv_transpose2d(x, w, b, 2, 1, 1)};
       }},
      {"conv_transpose2d, output_padding below the dilation",
       [](Inputs& in) {
         Tensor x = in.leaf({1, 4, 5, 5}), w = in.leaf({4, 2, 3, 3});
         return TensorList{conv_transpose2d(x, w, Tensor(), 1, 0, 1, 2, 2)};
       }},
  };
}

// The convolutions of the CIFAR ResNets in benchmarks.md (1x28x28 input, widths 16/32/64), batch 8.
std::vector<Case> cifar_resnet_cases() {
  return {
      conv("stem 1->16", {{8, 1, 28, 28}, {16, 1, 3, 3}, 1, 1, 1, 1, false}),
      conv("stage 1 16->16", {{8, 16, 28, 28}, {16, 16, 3, 3}, 1, 1, 1, 1, false}),
      conv("stage 2 down 16->32", {{8, 16, 28, 28}, {32, 16, 3, 3}, 2, 1, 1, 1, false}),
      conv("stage 2 shortcut 1x1", {{8, 16, 28, 28}, {32, 16, 1, 1}, 2, 0, 1, 1, false}),
      conv("stage 2 32->32", {{8, 32, 14, 14}, {32, 32, 3, 3}, 1, 1, 1, 1, false}),
      conv("stage 3 down 32->64", {{8, 32, 14, 14}, {64, 32, 3, 3}, 2, 1, 1, 1, false}),
      conv("stage 3 shortcut 1x1", {{8, 32, 14, 14}, {64, 32, 1, 1}, 2, 0, 1, 1, false}),
      conv("stage 3 64->64", {{8, 64, 7, 7}, {64, 64, 3, 3}, 1, 1, 1, 1, false}),
  };
}

void check_all(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    CAPTURE(c.name);
    check_against_reference(c);
  }
}

TEST_CASE("cpu backend: matmul against the reference kernels") { check_all(matmul_cases()); }

TEST_CASE("cpu backend: conv2d against the reference kernels") { check_all(conv_cases()); }

TEST_CASE("cpu backend: CIFAR-ResNet convolutions against the reference kernels") {
  check_all(cifar_resnet_cases());
}

// bf16: the cpu kernels on bf16 inputs against the f32 reference kernels on the same values (the
// reference has no bf16). oneDNN accumulates in f32 and rounds each result to bf16 (relative
// error up to 2^-9, so a normalized MSE near 2^-18 / 3 = 1.3e-6); the bound is 1e-5.
void check_bf16(const std::string& name, const std::vector<Shape>& shapes,
                const std::function<Tensor(const TensorList&)>& op) {
  CAPTURE(name);
  Generator gen(7);
  TensorList l16, l32;
  for (const Shape& shape : shapes) {
    Tensor t = randn(shape, DType::f32, &gen).to(DType::bf16);
    l16.push_back(t.clone().requires_grad_());
    l32.push_back(t.to(DType::f32).requires_grad_());
  }
  Tensor y16 = op(l16), y32;
  {
    ops::ReferenceOnlyGuard reference_only;
    y32 = op(l32);
  }
  REQUIRE(y16.dtype() == DType::bf16);
  Tensor r = randn(y32.sizes(), DType::f32, &gen).to(DType::bf16);
  y16.backward(r);
  {
    ops::ReferenceOnlyGuard reference_only;
    y32.backward(r.to(DType::f32));
  }
  CHECK(nmse(y16, y32) <= 1e-5);
  for (size_t i = 0; i < l16.size(); ++i) {
    INFO("gradient of input ", i);
    REQUIRE(l16[i].grad().dtype() == DType::bf16);
    CHECK(nmse(l16[i].grad(), l32[i].grad()) <= 1e-5);
  }
}

TEST_CASE("cpu backend: bf16 kernels against the f32 reference kernels") {
  check_bf16("matmul, transposed operand", {{3, 24, 17}, {3, 40, 24}}, [](const TensorList& t) {
    return matmul(t[0].transpose(1, 2), t[1].transpose(1, 2));
  });
  check_bf16("conv2d 3x3 stride 2", {{2, 16, 11, 11}, {32, 16, 3, 3}},
             [](const TensorList& t) { return conv2d(t[0], t[1], Tensor(), 2, 1); });
  check_bf16("conv2d depthwise, dilation 2", {{2, 8, 9, 9}, {8, 1, 3, 3}},
             [](const TensorList& t) { return conv2d(t[0], t[1], Tensor(), 1, 2, 2, 8); });
}

// The bf16 softmax family and norms (kernels/cpu/bf16_via_f32.cpp) compute in f32 and round
// each output to bf16, as oneDNN's bf16 kernels do: the same bound.
TEST_CASE(
    "cpu backend: bf16 softmax, log_softmax, layer_norm, batch_norm against the f32 reference") {
  for (const char* name :
       {"softmax", "log_softmax", "softmax_backward", "log_softmax_backward", "layer_norm",
        "layer_norm_backward", "batch_norm", "batch_norm_backward"}) {
    INFO(name);
    CHECK(ops::backend_for(ops::Kernel(name), kCPU, DType::bf16) == kernels::Backend::cpu);
  }
  check_bf16("softmax along the last dim", {{33, 1000}},
             [](const TensorList& t) { return softmax(t[0], 1); });
  check_bf16("softmax along dim 0 of a transposed input", {{17, 65}},
             [](const TensorList& t) { return softmax(t[0].t(), 0); });
  check_bf16("log_softmax", {{7, 1, 129}},
             [](const TensorList& t) { return log_softmax(t[0], 2); });
  check_bf16("layer_norm with weight and bias", {{64, 49, 96}, {96}, {96}},
             [](const TensorList& t) { return layer_norm(t[0], {96}, t[1], t[2], 1e-5); });
  check_bf16("batch_norm training with weight and bias", {{8, 16, 7, 7}, {16}, {16}},
             [](const TensorList& t) {
               return batch_norm(t[0], Tensor(), Tensor(), t[1], t[2], true, 0.1, 1e-5);
             });
}

TEST_CASE("cpu backend: the cpu kernels serve f32 and the reference kernels f64") {
  for (const char* name : {"matmul", "conv2d", "conv2d_backward_input", "conv2d_backward_weight"}) {
    CAPTURE(name);
    const ops::Kernel k(name);
    CHECK(ops::backend_for(k, kCPU, DType::f32) == kernels::Backend::cpu);
    CHECK(ops::backend_for(k, kCPU, DType::bf16) == kernels::Backend::cpu);
    CHECK(ops::backend_for(k, kCPU, DType::f64) == kernels::Backend::reference);
    ops::ReferenceOnlyGuard reference_only;
    CHECK(ops::backend_for(k, kCPU, DType::f32) == kernels::Backend::reference);
  }
}

TEST_CASE("cpu backend: the primitive cache keeps the most recent entries and stays correct") {
  Generator gen(3);
  auto product_matches = [&gen](int64_t k) {
    Tensor a = randn({2, k}, DType::f32, &gen), b = randn({k, 3}, DType::f32, &gen);
    Tensor fast = matmul(a, b), expected;
    {
      ops::ReferenceOnlyGuard reference_only;
      expected = matmul(a, b);
    }
    return nmse(fast, expected) <= 1e-7;
  };
  CHECK(product_matches(1));
  const size_t extra = 40;  // distinct shapes beyond the capacity
  bool all = true;
  for (size_t k = 2; k < kernels::cpu::onednn::kCacheCapacity + extra; ++k)
    all = all && product_matches(int64_t(k));
  CHECK(all);
  CHECK(kernels::cpu::onednn::cache_size() == kernels::cpu::onednn::kCacheCapacity);
  CHECK(product_matches(1));  // evicted long ago: created again
}

TEST_CASE("cpu backend: a conv weight's kept reorder follows in-place changes and new weights") {
  // conv2d keeps each weight's blocked copy between calls (onednn::Exec::input_kept); every
  // output must still equal the reference kernel's for the weight's current values.
  Generator gen(11);
  const Tensor x = randn({2, 8, 6, 6}, DType::f32, &gen);
  auto matches = [&x](const Tensor& w) {
    Tensor fast = conv2d(x, w, {}, 1, 1), expected;
    {
      ops::ReferenceOnlyGuard reference_only;
      expected = conv2d(x, w, {}, 1, 1);
    }
    return nmse(fast, expected) <= 1e-7;
  };
  Tensor w = randn({16, 8, 3, 3}, DType::f32, &gen);
  CHECK(matches(w));
  const size_t kept = kernels::cpu::onednn::kept_size();
  CHECK(kept >= 1);
  CHECK(matches(w));
  CHECK(kernels::cpu::onednn::kept_size() == kept);  // the same weight: its copy reused
  // With other input shapes, one copy per layout the primitives want, a few at most.
  for (int64_t n : {1, 3, 5, 7}) {
    const Tensor xn = randn({n, 8, 6 + n, 5}, DType::f32, &gen);
    Tensor fast = conv2d(xn, w, {}, 1, 1), expected;
    {
      ops::ReferenceOnlyGuard reference_only;
      expected = conv2d(xn, w, {}, 1, 1);
    }
    CHECK(nmse(fast, expected) <= 1e-7);
  }
  CHECK(kernels::cpu::onednn::kept_size() <= kept + 3);
  mul_(w, -2.0);
  CHECK(matches(w));
  w.copy_(randn({16, 8, 3, 3}, DType::f32, &gen));
  CHECK(matches(w));
  // Weights freed and made anew, which the allocator may place where the last one was.
  bool all = true;
  for (int i = 0; i < 200; ++i) all = all && matches(randn({16, 8, 3, 3}, DType::f32, &gen));
  CHECK(all);
  CHECK(kernels::cpu::onednn::kept_size() < 200);  // copies of freed weights are swept
}

TEST_CASE("cpu backend: TUTOR_NUM_THREADS takes a positive integer") {
  CHECK(kernels::cpu::parse_num_threads("3") == 3);
  for (const char* bad : {"0", "-2", "two", "4 ", ""})
    CHECK_THROWS_WITH_AS(kernels::cpu::parse_num_threads(bad),
                         doctest::Contains(fmt::format("TUTOR_NUM_THREADS: expected a positive "
                                                       "integer, got '{}'",
                                                       bad)
                                               .c_str()),
                         Error);
}

TEST_CASE("cpu backend: set_num_threads sets the thread count, results stay right") {
  const Case c = conv("3x3 with bias", {{4, 8, 10, 10}, {8, 8, 3, 3}, 1, 1});
  const int before = kernels::cpu::num_threads();
  kernels::cpu::set_num_threads(1);
  CHECK(kernels::cpu::num_threads() == 1);
  check_against_reference(c);
  kernels::cpu::set_num_threads(before);
  CHECK(kernels::cpu::num_threads() == before);
  check_against_reference(c);
  CHECK_THROWS_WITH_AS(
      kernels::cpu::set_num_threads(0),
      doctest::Contains("set_num_threads: expected a positive thread count, got 0"), Error);
}

}  // namespace
}  // namespace tutor
