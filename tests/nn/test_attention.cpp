// MultiheadAttention: PyTorch 1.13's names, repr and initialization; golden outputs from PyTorch
// for self-attention, masked cross-attention and batch_first with an additive 3-D mask; layouts;
// dropout; gradients; errors.
#include <doctest/doctest.h>

#include "nn_test.h"

using namespace tutor;
using testing::check_close;

namespace {

// (fn(arange(n) * a + off) * scale).reshape(shape) computed in f64, then f32: the golden inputs'
// recipe, the same expression as f() in the Python snippet below.
Tensor pattern(int64_t n, double a, Tensor (*fn)(const Tensor&), double scale, const Shape& shape,
               double off = 0) {
  return mul(fn(add(mul(arange(0, double(n), 1, DType::f64), a), off)), scale)
      .reshape(shape)
      .to(DType::f32);
}
Tensor sin_(const Tensor& t) { return sin(t); }
Tensor cos_(const Tensor& t) { return cos(t); }

std::shared_ptr<nn::MultiheadAttention> golden_module(bool batch_first) {
  auto m = std::make_shared<nn::MultiheadAttention>(4, 2, 0.0, true, batch_first);
  NoGradGuard g;
  m->in_proj_weight.copy_(pattern(48, 0.37, sin_, 0.5, {12, 4}));
  m->in_proj_bias.copy_(pattern(12, 0.5, cos_, 0.1, {12}));
  m->out_proj->weight.copy_(pattern(16, 0.29, cos_, 0.4, {4, 4}));
  m->out_proj->bias.copy_(tensor({-0.1, -0.05, 0, 0.05}));
  return m;
}

Tensor from(const std::vector<double>& v, const Shape& shape) { return from_vector(v, shape); }

}  // namespace

TEST_CASE("MultiheadAttention: names, shapes, repr and initialization as PyTorch") {
  // nn.MultiheadAttention(8, 2) and nn.MultiheadAttention(8, 2, bias=False): print(m) and the
  // state_dict listing
  nn::MultiheadAttention a(8, 2), b(8, 2, 0.0, false);
  CHECK(testing::state_listing(a) ==
        std::vector<std::string>{"in_proj_weight [24, 8] f32", "in_proj_bias [24] f32",
                                 "out_proj.weight [8, 8] f32", "out_proj.bias [8] f32"});
  CHECK(testing::state_listing(b) ==
        std::vector<std::string>{"in_proj_weight [24, 8] f32", "out_proj.weight [8, 8] f32"});
  CHECK(a.str() ==
        "MultiheadAttention(\n"
        "  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)\n"
        ")");
  CHECK(b.str() ==
        "MultiheadAttention(\n"
        "  (out_proj): NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=False)\n"
        ")");
  CHECK(testing::moments(a.in_proj_bias).max == 0);
  CHECK(testing::moments(a.out_proj->bias).min == 0);

  manual_seed(12);
  nn::MultiheadAttention big(128, 4);
  // xavier_uniform_ on [3E, E]: a = sqrt(6 / (E + 3E))
  double xa = std::sqrt(6.0 / (4 * 128));
  auto m = testing::moments(big.in_proj_weight);
  CHECK(m.min >= -xa);
  CHECK(m.max <= xa);
  CHECK(std::fabs(m.var / (xa * xa / 3) - 1) < 0.03);
  // out_proj keeps Linear's U(-1/sqrt(E), 1/sqrt(E))
  m = testing::moments(big.out_proj->weight);
  CHECK(m.max <= 1 / std::sqrt(128.0));
  CHECK(m.max > 0.98 / std::sqrt(128.0));
}

// Golden values: PyTorch 1.13.1, float32, printed rounded to 7 decimals by
//   def f(n, a, fn, scale, shape, off=0.0):
//       t = torch.arange(n, dtype=torch.float64) * a + off
//       return (fn(t) * scale).reshape(shape).float()
//   def make(batch_first):
//       m = nn.MultiheadAttention(4, 2, batch_first=batch_first)
//       with torch.no_grad():
//           m.in_proj_weight.copy_(f(48, 0.37, torch.sin, 0.5, (12, 4)))
//           m.in_proj_bias.copy_(f(12, 0.5, torch.cos, 0.1, (12,)))
//           m.out_proj.weight.copy_(f(16, 0.29, torch.cos, 0.4, (4, 4)))
//           m.out_proj.bias.copy_(torch.arange(4.) * 0.05 - 0.1)
//       return m
//   q = f(24, 0.7, torch.sin, 1.0, (3, 2, 4), 0.3)   # [L, N, E]
//   k = f(16, 0.45, torch.cos, 1.0, (2, 2, 4))       # [S, N, E]
//   v = f(16, 0.9, torch.sin, 1.0, (2, 2, 4), 1.0)
//   m = make(False)
//   out, w = m(q, q, q)  # "self"
//   kpm = torch.tensor([[False, False], [False, True]])
//   am = torch.tensor([[False, True], [False, False], [False, False]])
//   out, w = m(q, k, v, key_padding_mask=kpm, attn_mask=am,
//              average_attn_weights=False)  # "cross"
//   mb = make(True)
//   fm = f(12, 0.8, torch.cos, 0.5, (4, 3, 1)).expand(4, 3, 2).contiguous()
//   fm = fm + torch.tensor([0.0, -0.7])  # [N * H, L, S]
//   out, w = mb(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1),
//               attn_mask=fm)  # "bf"
TEST_CASE("MultiheadAttention: golden outputs from PyTorch 1.13") {
  Tensor q = pattern(24, 0.7, sin_, 1.0, {3, 2, 4}, 0.3);
  Tensor k = pattern(16, 0.45, cos_, 1.0, {2, 2, 4});
  Tensor v = pattern(16, 0.9, sin_, 1.0, {2, 2, 4}, 1.0);
  auto m = golden_module(false);
  const double atol = 1e-6, rtol = 1e-5;

  SUBCASE("self-attention, weights averaged over heads") {
    auto [out, w] = m->forward(q, q, q);
    // without the weights, the attention kernels serve scaled_dot_product_attention
    check_close(m->forward(q, q, q, Tensor(), false).output, out, 1e-6, 1e-5);
    check_close(out,
                from({0.083796,   0.1548183,  -0.0202119, -0.1709611, -0.2446952, -0.2926423,
                      -0.0490981, 0.2534287,  0.0677295,  0.1488939,  -0.008877,  -0.1559839,
                      -0.2071908, -0.2702386, -0.0687092, 0.2153621,  0.040897,   0.1378902,
                      0.0091671,  -0.1305687, -0.160932,  -0.2402921, -0.0910504, 0.1675721},
                     {3, 2, 4}),
                atol, rtol);
    check_close(w,
                from({0.4762175, 0.3534631, 0.1703194, 0.397444, 0.3597959, 0.2427602, 0.2919325,
                      0.335072, 0.3729954, 0.4891119, 0.3334351, 0.1774529, 0.3553168, 0.3466952,
                      0.2979879, 0.2186332, 0.3116901, 0.4696767},
                     {2, 3, 3}),
                atol, rtol);
  }
  SUBCASE("cross-attention with a key padding mask and a bool attention mask, per head") {
    Tensor kpm = from_vector(std::vector<int64_t>{0, 0, 0, 1}, {2, 2}, DType::b8);
    Tensor am = from_vector(std::vector<int64_t>{0, 1, 0, 0, 0, 0}, {3, 2}, DType::b8);
    auto [out, w] = m->forward(q, k, v, kpm, true, am, false);
    check_close(m->forward(q, k, v, kpm, false, am).output, out, 1e-6, 1e-5);
    check_close(out,
                from({0.0055916,  -0.0860274, -0.1343659, -0.0212878, -0.1325433, 0.0429801,
                      0.1068045,  0.0423224,  -0.0440211, -0.1500847, -0.1359144, 0.0415327,
                      -0.1325433, 0.0429801,  0.1068045,  0.0423224,  -0.0922929, -0.200384,
                      -0.1278156, 0.0983003,  -0.1325433, 0.0429801,  0.1068045,  0.0423224},
                     {3, 2, 4}),
                atol, rtol);
    check_close(w,
                from({1.0,       0.0,       0.6905944, 0.3094056, 0.4250318, 0.5749683, 1.0, 0.0,
                      0.6611377, 0.3388623, 0.4022323, 0.5977677, 1.0,       0.0,       1.0, 0.0,
                      1.0,       0.0,       1.0,       0.0,       1.0,       0.0,       1.0, 0.0},
                     {2, 2, 3, 2}),
                atol, rtol);
  }
  SUBCASE("batch_first with an additive [N * H, L, S] mask") {
    auto mb = golden_module(true);
    Tensor fm = add(pattern(12, 0.8, cos_, 0.5, {4, 3, 1}).expand({4, 3, 2}), tensor({0.0, -0.7}));
    auto [out, w] =
        mb->forward(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), Tensor(), true, fm);
    check_close(
        mb->forward(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), Tensor(), false, fm)
            .output,
        out, 1e-6, 1e-5);
    check_close(out,
                from({-0.0080878, -0.1057322, -0.1364243, -0.003227,  -0.022956,  -0.1242284,
                      -0.1363287, 0.0153456,  -0.0615954, -0.1669533, -0.1318127, 0.0616772,
                      -0.1214436, 0.0493277,  0.1007745,  0.0311589,  -0.0891659, 0.0676516,
                      0.0831318,  -0.001256,  -0.0132847, 0.1193713,  0.0485581,  -0.080589},
                     {2, 3, 4}),
                atol, rtol);
    check_close(w,
                from({0.9016032, 0.0983968, 0.8075615, 0.1924385, 0.5867743, 0.4132257, 0.9450551,
                      0.0549449, 0.7860091, 0.2139909, 0.365036, 0.634964},
                     {2, 3, 2}),
                atol, rtol);
  }
}

TEST_CASE("MultiheadAttention: layouts agree, unbatched, need_weights, masks combine") {
  auto seq = golden_module(false), bf = golden_module(true);
  Tensor q = pattern(24, 0.7, sin_, 1.0, {3, 2, 4}, 0.3);
  Tensor k = pattern(16, 0.45, cos_, 1.0, {2, 2, 4});
  auto a = seq->forward(q, k, k);
  auto b = bf->forward(q.transpose(0, 1), k.transpose(0, 1), k.transpose(0, 1));
  check_close(b.output, a.output.transpose(0, 1), 1e-6, 1e-5);
  check_close(b.weights, a.weights, 1e-6, 1e-5);
  // One unbatched sample equals batch element 1.
  auto u = seq->forward(q.select(1, 1), k.select(1, 1), k.select(1, 1));
  check_close(u.output, a.output.select(1, 1), 1e-6, 1e-5);
  check_close(u.weights, a.weights.select(0, 1), 1e-6, 1e-5);
  CHECK(!seq->forward(q, k, k, Tensor(), false).weights.defined());
  // A bool padding mask equals its additive form; the masked key gets zero weight.
  Tensor kpm = from_vector(std::vector<int64_t>{0, 1, 0, 0}, {2, 2}, DType::b8);
  Tensor additive = tensor({{0.0, -INFINITY}, {0.0, 0.0}});
  auto mb = seq->forward(q, k, k, kpm), ma = seq->forward(q, k, k, additive);
  check_close(mb.output, ma.output, 0, 0);
  CHECK(mb.weights.select(0, 0).select(1, 1).to_vector<float>() == std::vector<float>{0, 0, 0});
}

TEST_CASE("MultiheadAttention: dropout on the weights only in training") {
  auto m = std::make_shared<nn::MultiheadAttention>(4, 2, 1.0);
  Tensor x = pattern(8, 0.3, sin_, 1.0, {2, 1, 4});
  // Every weight dropped: the output is out_proj's bias.
  check_close(m->forward(x, x, x).output, zeros({2, 1, 4}), 0, 0);
  m->eval();
  nn::MultiheadAttention plain(4, 2);
  plain.load_state_dict(m->state_dict());
  check_close(m->forward(x, x, x).output, plain.forward(x, x, x).output, 0, 0);
}

TEST_CASE("MultiheadAttention: gradients over inputs and every parameter") {
  nn::MultiheadAttention m(4, 2);
  m.to(DType::f64);
  TensorList inputs{testing::rand_leaf({2, 1, 4}, 1), testing::rand_leaf({3, 1, 4}, 2),
                    testing::rand_leaf({3, 1, 4}, 3)};
  for (const Tensor& p : m.parameters()) inputs.push_back(p);
  Tensor kpm = from_vector(std::vector<int64_t>{0, 0, 1}, {1, 3}, DType::b8);
  testing::check_gradient(
      [&](const TensorList& in) {
        auto r = m.forward(in[0], in[1], in[2], kpm);
        return TensorList{r.output, r.weights};
      },
      inputs);
  // Self-attention takes the packed projection path.
  testing::check_gradient(
      [&](const TensorList& in) { return TensorList{m.forward(in[0], in[0], in[0]).output}; },
      {testing::rand_leaf({3, 2, 4}, 5)});
}

TEST_CASE("MultiheadAttention: errors name the layer and the shapes") {
  nn::MultiheadAttention m(4, 2);
  Tensor x = ones({3, 2, 4});
  testing::check_error([] { nn::MultiheadAttention(5, 2); },
                       {"MultiheadAttention", "embed_dim (5)", "num_heads (2)"});
  testing::check_error(
      [&] {
        m.forward(ones({3, 2, 5}), x, x);
      },
      {"MultiheadAttention(embed_dim=4, num_heads=2)", "[3, 2, 5]"});
  testing::check_error([&] { m.forward(x, ones({3, 2}), x); }, {"3-D", "[3, 2]"});
  testing::check_error(
      [&] {
        m.forward(x, x, x, zeros({2, 4}, DType::b8));
      },
      {"key_padding_mask", "[2, 4]", "[2, 3]"});
  testing::check_error(
      [&] {
        m.forward(x, x, x, Tensor(), true, zeros({3, 4}, DType::b8));
      },
      {"attn_mask", "[3, 4]", "[3, 3]", "[4, 3, 3]"});
  testing::check_error(
      [&] {
        m.forward(x, x, x, zeros({2, 3}, DType::i64));
      },
      {"key_padding_mask", "bool", "i64"});
  testing::check_error([&] { m(x); }, {"MultiheadAttention", "no single-tensor forward"});
}
