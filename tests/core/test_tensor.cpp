#include <doctest/doctest.h>

#include "engine/ops/ops.h"

using namespace tutor;

TEST_CASE("tensor: factories") {
  Tensor z = zeros({2, 3});
  CHECK(z.sizes() == Shape{2, 3});
  CHECK(z.strides() == Shape{3, 1});
  CHECK(z.dtype() == DType::f32);
  CHECK(reinterpret_cast<uintptr_t>(z.raw_data()) % 64 == 0);
  CHECK(arange(5).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
}
