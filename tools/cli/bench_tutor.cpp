#include "tools/cli/bench_tutor.h"

#include <chrono>
#include <optional>

#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::cli {

std::vector<double> time_runs(const std::function<void()>& step, int warmup, int repeat,
                              std::vector<ops::KernelTime>* kernels) {
  for (int i = 0; i < warmup; ++i) step();
  std::optional<ops::KernelProfile> profile;
  if (kernels) profile.emplace();
  std::vector<double> ms;
  for (int i = 0; i < repeat; ++i) {
    auto start = std::chrono::steady_clock::now();
    step();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  if (kernels) *kernels = profile->times();
  return ms;
}

namespace {

// The inputs of one workload and the op applied to them.
struct Prepared {
  std::vector<Tensor> leaves;  // the tensors gradients flow to
  std::function<Tensor()> forward;
};

Prepared prepare(const Workload& w, Generator& gen) {
  const std::vector<int64_t>& d = w.dims;
  TensorOptions grad = TensorOptions().requires_grad(w.backward);
  auto normal = [&](const Shape& shape) { return randn(shape, grad, &gen); };
  if (w.op == "conv2d") {
    Tensor x = normal({d[0], d[1], d[2], d[3]}), weight = normal({d[4], d[1], d[5], d[6]});
    if (w.channels_last)
      x = x.detach().contiguous(MemoryFormat::ChannelsLast).requires_grad_(w.backward);
    int64_t stride = d[7], pad = d[8];
    return {{x, weight}, [=] { return conv2d(x, weight, Tensor(), stride, pad); }};
  }
  if (w.op == "matmul") {
    Tensor a = normal({d[0], d[1]}), b = normal({d[1], d[2]});
    return {{a, b}, [=] { return matmul(a, b); }};
  }
  if (w.op == "linear_gelu" || w.op == "linear_then_gelu") {
    Tensor x = normal({d[0], d[1]}), weight = normal({d[2], d[1]}), bias = normal({d[2]});
    if (w.op == "linear_gelu")
      return {{x, weight, bias}, [=] { return linear_gelu(x, weight, bias); }};
    return {{x, weight, bias}, [=] { return gelu(linear(x, weight, bias)); }};
  }
  if (w.op == "sdpa") {
    Tensor q = normal(d), k = normal(d), v = normal(d);
    return {{q, k, v}, [=] { return scaled_dot_product_attention(q, k, v).output; }};
  }
  if (w.op == "layer_norm") {
    Tensor x = normal({d[0], d[1]}), weight = normal({d[1]}), bias = normal({d[1]});
    return {{x, weight, bias}, [=] { return layer_norm(x, {d[1]}, weight, bias); }};
  }
  if (w.op == "batch_norm") {
    Tensor x = normal(d), weight = normal({d[1]}), bias = normal({d[1]});
    if (w.channels_last)
      x = x.detach().contiguous(MemoryFormat::ChannelsLast).requires_grad_(w.backward);
    Tensor mean = zeros({d[1]}), var = ones({d[1]});
    return {{x, weight, bias},
            [=] { return batch_norm(x, mean, var, weight, bias, /*training=*/true); }};
  }
  if (w.op == "softmax") {
    Tensor x = normal({d[0], d[1]});
    return {{x}, [=] { return softmax(x, 1); }};
  }
  if (w.op == "cross_entropy") {
    Tensor x = normal({d[0], d[1]});
    Tensor target = randint(0, d[1], {d[0]}, DType::i64, &gen);
    return {{x}, [=] { return cross_entropy(x, target); }};
  }
  fail("bench ops: workload '{}': unknown op '{}'", w.name, w.op);
}

}  // namespace

std::vector<double> time_tutor_workload(const Workload& w, int warmup, int repeat) {
  Generator gen(0);
  Prepared p = prepare(w, gen);
  if (!w.backward) {
    NoGradGuard no_grad;
    return time_runs([&] { p.forward(); }, warmup, repeat);
  }
  // The output gradient is made once, outside the timed step; a scalar loss needs none.
  Tensor out = p.forward();
  Tensor grad_out = out.dim() == 0 ? Tensor() : randn(out.shape(), {}, &gen);
  if (w.channels_last) grad_out = grad_out.contiguous(MemoryFormat::ChannelsLast);
  return time_runs(
      [&] {
        for (const Tensor& leaf : p.leaves) leaf.mutable_grad() = Tensor();
        p.forward().backward(grad_out);
      },
      warmup, repeat);
}

}  // namespace tutor::cli
