// Helpers of the CPU kernels that work on channels-last (NHWC) tensors directly: which calls take
// that path, and per-channel sums over the [rows, C] block an NHWC tensor is, in a fixed order.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"
#include "kernels/cpu/loops_common.h"

namespace tutor::kernels::cpu {

// A kernel's output that the op allocated channels-last (the kernel is marked so) and whose
// memory differs from NCHW: the call takes the NHWC path. When both layouts coincide (C = 1, or
// H = W = 1) the NCHW path serves.
inline bool nhwc_output(const Tensor& out) {
  return out.dim() == 4 && !out.is_contiguous() && out.is_contiguous(MemoryFormat::ChannelsLast);
}

// An input on the NHWC path: itself when dense NHWC, else an NHWC copy.
inline Tensor nhwc_input(const Tensor& t) { return t.contiguous_raw(MemoryFormat::ChannelsLast); }

// Sums over the rows of a row-major [rows, C] block, `parts` sums per channel: accumulate(r0, r1,
// acc) adds rows [r0, r1) into acc[part * C + c]. Rows go in fixed blocks whose partial sums are
// combined in block order, so the result does not depend on the thread count. Returns
// parts * C sums.
template <class F>
std::vector<double> column_sums(int64_t rows, int64_t C, int64_t parts, F accumulate) {
  constexpr int64_t kBlockRows = 256;
  const int64_t blocks = (rows + kBlockRows - 1) / kBlockRows, width = parts * C;
  std::vector<double> partial(size_t(blocks * width), 0.0);
  parallel_range(blocks, kBlockRows * C, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k)
      accumulate(k * kBlockRows, std::min(rows, (k + 1) * kBlockRows), partial.data() + k * width);
  });
  std::vector<double> out(size_t(width), 0.0);
  for (int64_t k = 0; k < blocks; ++k)
    for (int64_t i = 0; i < width; ++i) out[size_t(i)] += partial[size_t(k * width + i)];
  return out;
}

}  // namespace tutor::kernels::cpu
