// Random numbers that are the same on every machine and compiler.
//
// Algorithm: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11),
// keyed by the 64-bit seed, counting 128-bit blocks from `offset`. Each block yields four 32-bit
// words, consumed in order. From the words:
//   uniform f32   = (w >> 8) * 2^-24                          in [0, 1)
//   uniform f64   = ((w0 << 21) ^ (w1 >> 11)) * 2^-53          in [0, 1), 53 bits from two words
//   normal        = Box-Muller on two uniforms u1, u2 of the tensor's precision:
//                   sqrt(-2 ln(1 - u1)) * cos(2 pi u2), then the sin branch for the next element
//   integer in [lo, hi) = lo + (64-bit word pair) mod (hi - lo)  (bias below (hi-lo) / 2^64)
// Only IEEE arithmetic on the above and std::log/cos/sin/sqrt is involved, so a seed gives the
// same tensor on every x86-64 or ARM machine with a correctly rounded libm (glibc is).
#pragma once

#include <array>
#include <cstdint>

namespace tutor {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}

  void manual_seed(uint64_t seed) {
    seed_ = seed;
    counter_ = 0;
    index_ = 4;
  }
  uint64_t seed() const { return seed_; }

  uint32_t next_u32();
  uint64_t next_u64() { return (uint64_t(next_u32()) << 32) | next_u32(); }
  float uniform_f32() { return float(next_u32() >> 8) * 0x1p-24f; }
  double uniform_f64() {
    uint64_t hi = next_u32(), lo = next_u32();
    return double((hi << 21) ^ (lo >> 11)) * 0x1p-53;
  }

  // The full state: a checkpoint stores these three numbers to resume the stream exactly.
  struct State {
    uint64_t seed, counter;
    uint32_t index;
  };
  State state() const { return {seed_, counter_, index_}; }
  void set_state(const State& s);

  static std::array<uint32_t, 4> philox(uint64_t counter, uint64_t key);

 private:
  uint64_t seed_;
  uint64_t counter_ = 0;  // the next block to compute
  uint32_t index_ = 4;    // position inside `block_`; 4 = exhausted
  std::array<uint32_t, 4> block_{};
};

Generator& default_generator();
void manual_seed(uint64_t seed);  // reseeds the default generator

}  // namespace tutor
