// The generator: Philox4x32-10 known-answer test, determinism, and the distributions' moments.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/ops/ops.h"

using namespace tutor;

TEST_CASE("rng: Philox4x32-10 known answer") {
  // Random123's kat_vectors: philox4x32 10 rounds, counter 0 and key 0.
  auto block = Generator::philox(0, 0);
  CHECK(block[0] == 0x6627e8d5u);
  CHECK(block[1] == 0xe169c58du);
  CHECK(block[2] == 0xbc57ac4cu);
  CHECK(block[3] == 0x9b00dbd8u);
}

TEST_CASE("rng: same seed, same numbers; state round-trips") {
  Generator a(42), b(42), c(43);
  CHECK(rand({100}, {}, &a).to_vector<float>() == rand({100}, {}, &b).to_vector<float>());
  CHECK(rand({100}, {}, &a).to_vector<float>() != rand({100}, {}, &c).to_vector<float>());
  Generator g(7);
  g.next_u32();
  Generator::State s = g.state();
  std::vector<uint32_t> first;
  for (int i = 0; i < 9; ++i) first.push_back(g.next_u32());
  Generator h(0);
  h.set_state(s);
  for (int i = 0; i < 9; ++i) CHECK(h.next_u32() == first[size_t(i)]);
  manual_seed(5);
  Tensor x = randn({4});
  manual_seed(5);
  CHECK(randn({4}).to_vector<float>() == x.to_vector<float>());
}

TEST_CASE("rng: uniform and normal moments") {
  Generator g(1);
  std::vector<double> u = rand({20000}, DType::f64, &g).to_vector<double>();
  double mean = std::accumulate(u.begin(), u.end(), 0.0) / double(u.size());
  CHECK(mean == doctest::Approx(0.5).epsilon(0.02));
  CHECK(*std::min_element(u.begin(), u.end()) >= 0.0);
  CHECK(*std::max_element(u.begin(), u.end()) < 1.0);
  std::vector<float> n = randn({20001}, {}, &g).to_vector<float>();  // odd: the last sin branch
  double m = 0, v = 0;
  for (float x : n) m += x;
  m /= double(n.size());
  for (float x : n) v += (x - m) * (x - m);
  v /= double(n.size());
  CHECK(std::fabs(m) < 0.03);
  CHECK(v == doctest::Approx(1.0).epsilon(0.03));
}

TEST_CASE("rng: randint, randperm, bernoulli") {
  Generator g(3);
  std::vector<int64_t> r = randint(-2, 3, {1000}, DType::i64, &g).to_vector<int64_t>();
  CHECK(*std::min_element(r.begin(), r.end()) == -2);
  CHECK(*std::max_element(r.begin(), r.end()) == 2);
  std::vector<int64_t> p = randperm(50, DType::i64, &g).to_vector<int64_t>();
  std::sort(p.begin(), p.end());
  for (int64_t i = 0; i < 50; ++i) CHECK(p[size_t(i)] == i);
  std::vector<float> b = bernoulli({10000}, 0.3, {}, &g).to_vector<float>();
  double kept = std::accumulate(b.begin(), b.end(), 0.0) / double(b.size());
  CHECK(kept == doctest::Approx(0.3).epsilon(0.05));
  std::vector<double> bp = bernoulli(tensor({0.0, 1.0, 0.0, 1.0}, DType::f64), &g).to_vector<double>();
  CHECK(bp == std::vector<double>{0, 1, 0, 1});
  CHECK_THROWS_WITH_AS(randint(3, 3, {2}), doctest::Contains("randint"), Error);
  CHECK_THROWS_WITH_AS(bernoulli(tensor({1.5})), doctest::Contains("bernoulli"), Error);
}
