// Embedding: PyTorch's name, repr and N(0, 1) initialization; lookup by hand; the padding row's
// zero start and zero gradient; errors.
#include <doctest/doctest.h>

#include "nn_test.h"

using namespace tutor;

TEST_CASE("Embedding: names, repr and initialization as PyTorch") {
  // nn.Embedding(10, 3), nn.Embedding(10, 3, padding_idx=0), nn.Embedding(10, 3, padding_idx=-1)
  nn::Embedding a(10, 3), b(10, 3, 0), c(10, 3, -1);
  CHECK(testing::state_listing(a) == std::vector<std::string>{"weight [10, 3] f32"});
  CHECK(a.str() == "Embedding(10, 3)");
  CHECK(b.str() == "Embedding(10, 3, padding_idx=0)");
  CHECK(c.str() == "Embedding(10, 3, padding_idx=9)");
  CHECK(c.weight.select(0, 9).to_vector<float>() == std::vector<float>{0, 0, 0});

  manual_seed(6);
  nn::Embedding big(1000, 200);
  auto m = testing::moments(big.weight);
  CHECK(std::fabs(m.mean) < 0.01);
  CHECK(std::fabs(m.var - 1) < 0.02);
}

TEST_CASE("Embedding: lookup by hand and gradients, none to the padding row") {
  nn::Embedding emb(4, 2, 1);
  {
    NoGradGuard g;
    emb.weight.copy_(tensor({{0, 1}, {0, 0}, {2, 3}, {4, 5}}));
  }
  Tensor idx = from_vector(std::vector<int64_t>{3, 1, 3, 0, 2, 1}, {2, 3}, DType::i64);
  Tensor y = emb(idx);
  CHECK(y.sizes() == Shape{2, 3, 2});
  CHECK(y.to_vector<float>() == std::vector<float>{4, 5, 0, 0, 4, 5, 0, 1, 2, 3, 0, 0});
  sum(y).backward();
  // row r's gradient: how often it was picked; row 1 is padding
  CHECK(emb.weight.grad().to_vector<float>() == std::vector<float>{1, 1, 0, 0, 1, 1, 2, 2});
  testing::check_error([&] { emb(tensor({1.0})); },
                       {"Embedding(4, 2, padding_idx=1)", "i64", "f32"});
  testing::check_error([] { nn::Embedding(4, 2, 4); }, {"Embedding", "padding_idx 4"});
}
