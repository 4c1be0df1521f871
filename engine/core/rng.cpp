#include "engine/core/rng.h"

#include "engine/core/error.h"

namespace tutor {

std::array<uint32_t, 4> Generator::philox(uint64_t counter, uint64_t key) {
  // Constants from the Random123 reference implementation.
  constexpr uint32_t kM0 = 0xD2511F53, kM1 = 0xCD9E8D57;
  constexpr uint32_t kW0 = 0x9E3779B9, kW1 = 0xBB67AE85;
  uint32_t c0 = uint32_t(counter), c1 = uint32_t(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = uint32_t(key), k1 = uint32_t(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint64_t p0 = uint64_t(kM0) * c0, p1 = uint64_t(kM1) * c2;
    uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0, n1 = uint32_t(p1);
    uint32_t n2 = uint32_t(p0 >> 32) ^ c3 ^ k1, n3 = uint32_t(p0);
    c0 = n0, c1 = n1, c2 = n2, c3 = n3;
    k0 += kW0, k1 += kW1;
  }
  return {c0, c1, c2, c3};
}

uint32_t Generator::next_u32() {
  if (index_ == 4) {
    block_ = philox(counter_++, seed_);
    index_ = 0;
  }
  return block_[index_++];
}

void Generator::set_state(const State& s) {
  TUTOR_CHECK(s.index <= 4, "Generator::set_state: index {} is not in [0, 4]", s.index);
  seed_ = s.seed;
  counter_ = s.counter;
  index_ = s.index;
  TUTOR_CHECK(s.index == 4 || s.counter > 0, "Generator::set_state: index {} with counter 0", s.index);
  if (index_ < 4) block_ = philox(counter_ - 1, seed_);
}

Generator& default_generator() {
  static Generator generator(0);
  return generator;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace tutor
