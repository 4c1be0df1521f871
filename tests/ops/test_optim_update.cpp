// sgd_update_ (engine/ops/optim_update.h): PyTorch's SGD formula worked by hand in f64, the CPU
// f32 kernel against the reference kernel over several steps and layouts, and its errors.
#include "engine/ops/dispatch.h"
#include "engine/ops/optim_update.h"
#include "support/op_test.h"

using namespace tutor;
using testing::check_close;
using testing::check_error;

OP_TEST("sgd_update_", "values") {
  // p = [1, -2], g = [0.5, 1], lr 0.5, weight decay 0.1, momentum 0.9, dampening 0.1:
  // step 1: d = g + 0.1 p = [0.6, 0.8]; buf = d; p -= 0.5 buf -> [0.7, -2.4]
  // step 2: d = [0.57, 0.76]; buf = 0.9 [0.6, 0.8] + 0.9 d = [1.053, 1.404];
  //         p -= 0.5 buf -> [0.1735, -3.102]
  Tensor p = tensor({1.0, -2.0}), g = tensor({0.5, 1.0}), buf;
  SgdUpdate o{.lr = 0.5, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.1};
  sgd_update_(p, g, buf, o);
  check_close(p, tensor({0.7, -2.4}), 1e-15);
  check_close(buf, tensor({0.6, 0.8}), 1e-15);
  sgd_update_(p, g, buf, o);
  check_close(p, tensor({0.1735, -3.102}), 1e-15);
  check_close(buf, tensor({1.053, 1.404}), 1e-15);

  // Nesterov (dampening 0): step 1: buf = d = [0.6, 0.8]; d + 0.9 buf = [1.14, 1.52];
  // p = [1 - 0.57, -2 - 0.76].
  Tensor q = tensor({1.0, -2.0}), qbuf;
  sgd_update_(q, g, qbuf, {.lr = 0.5, .momentum = 0.9, .weight_decay = 0.1, .nesterov = true});
  check_close(q, tensor({0.43, -2.76}), 1e-15);

  // No momentum: no buffer; p -= lr (g + wd p) = [1 - 0.3, -2 - 0.4].
  Tensor r = tensor({1.0, -2.0}), none;
  sgd_update_(r, g, none, {.lr = 0.5, .weight_decay = 0.1});
  check_close(r, tensor({0.7, -2.4}), 1e-15);
  CHECK(!none.defined());
}

TEST_CASE("sgd_update_: the CPU f32 kernel agrees with the reference over steps and layouts") {
  for (bool nesterov : {false, true})
    for (double momentum : {0.0, 0.9})
      for (bool channels_last : {false, true}) {
        INFO("nesterov ", nesterov, " momentum ", momentum, " channels_last ", channels_last);
        if (nesterov && momentum == 0) continue;
        const SgdUpdate o{.lr = 0.05,
                          .momentum = momentum,
                          .dampening = nesterov ? 0.0 : 0.25,
                          .weight_decay = 5e-4,
                          .nesterov = nesterov};
        Generator gen(11);
        const Shape shape{3, 37, 5, 7};  // odd sizes: not a multiple of any vector width
        Tensor p0 = randn(shape, {}, &gen);
        if (channels_last) p0 = p0.contiguous(MemoryFormat::ChannelsLast);
        auto copy_of = [](const Tensor& t) {
          Tensor c = empty_strided(t.sizes(), t.strides(), t.options());
          c.copy_raw_(t);
          return c;
        };
        Tensor fast = copy_of(p0), slow = copy_of(p0);
        Tensor fast_buf, slow_buf;
        for (int step = 0; step < 3; ++step) {
          // The gradient arrives contiguous whatever the parameter's layout: copied into it.
          Tensor g = randn(shape, {}, &gen);
          sgd_update_(fast, g, fast_buf, o);
          ops::ReferenceOnlyGuard reference;
          sgd_update_(slow, g, slow_buf, o);
        }
        CHECK(fast.strides() == p0.strides());
        check_close(fast, slow, 1e-6, 1e-5);
        if (momentum != 0) {
          CHECK(fast_buf.strides() == p0.strides());
          check_close(fast_buf, slow_buf, 1e-6, 1e-5);
        }
      }
}

OP_TEST("sgd_update_", "errors") {
  Tensor p = zeros({2, 3}), buf;
  check_error(
      [&] {
        sgd_update_(p, zeros({3, 2}), buf, {.lr = 1});
      },
      {"sgd_update_", "grad of shape [3, 2]", "param of shape [2, 3]"});
  check_error(
      [&] {
        sgd_update_(p, zeros({2, 3}, DType::f64), buf, {.lr = 1});
      },
      {"sgd_update_", "f64"});
  Tensor wide = zeros({2, 6});
  check_error(
      [&] {
        sgd_update_(wide.narrow(1, 0, 3), zeros({2, 3}), buf, {.lr = 1});
      },
      {"sgd_update_", "not dense"});
  Tensor transposed_buf = zeros({3, 2}).t();
  check_error(
      [&] {
        sgd_update_(p, zeros({2, 3}), transposed_buf, {.lr = 1, .momentum = 0.9});
      },
      {"sgd_update_", "momentum_buffer", "strides [1, 2]"});
  Tensor ints = zeros({2}, DType::i64), none;
  check_error([&] { sgd_update_(ints, zeros({2}, DType::i64), none, {.lr = 1}); },
              {"sgd_update_", "floating point"});
}
