// f32 scaled_dot_product_attention forward and backward on the CPU, blocked as FlashAttention-2
// (Dao 2023): the [L, S] scores are only ever formed one tile of queries x keys at a time, in a
// per-thread buffer that stays in L1/L2. The contract is kernels/attention_params.h; the tile
// loops are in attention_body.h, compiled once per ISA as the loop files are (loops_isa.h).
//
// Forward: one task per (batch element, tile of queries); each walks the key tiles with an online
// softmax (running row max m and sum l, the partial output rescaled by exp(m_old - m_new)) and
// writes o = acc / l and lse = m + log l.
// Backward: one task per (batch element, run of key tiles); each key tile accumulates its dk and dv
// over every query tile, recomputing p = exp(s - lse); dq gathers over the key tiles of the task
// (summed over the runs afterwards when a batch element is split).
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <vector>

#include "kernels/attention_params.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/loops_common.h"
#include "kernels/cpu/threads.h"
#include "kernels/registry.h"

namespace tutor::kernels::cpu {

namespace {

// A [B.., R, C] f32 (or bool) input seen as its batch offsets and the strides of its matrices.
template <class T>
struct Matrices {
  const T* data = nullptr;
  std::vector<int64_t> offsets;
  int64_t rs = 0, cs = 0;

  Matrices() = default;
  explicit Matrices(const Tensor& t)
      : data(static_cast<const T*>(t.storage()->data())),
        offsets(batch_offsets(t)),
        rs(t.strides()[t.dim() - 2]),
        cs(t.strides()[t.dim() - 1]) {}
  const T* at(int64_t b, int64_t r, int64_t c) const {
    return data + offsets[size_t(b)] + r * rs + c * cs;
  }
};

// Everything a tile loop needs about one call.
struct Problem {
  int64_t batch = 1, l, s, e, ev;
  float scale;
  bool causal;
  Matrices<float> q, k, v, add;  // add: an additive mask
  Matrices<bool> keep;           // a bool mask

  explicit Problem(const KernelArgs& a)
      : l(a.in[0].size(-2)),
        s(a.in[2].size(-2)),
        e(a.in[0].size(-1)),
        ev(a.in[2].size(-1)),
        scale(float(a.p<AttentionParams>().scale)),
        causal(a.p<AttentionParams>().is_causal),
        q(a.in[0]),
        k(a.in[1]),
        v(a.in[2]) {
    for (int64_t d = 0; d + 2 < a.in[0].dim(); ++d) batch *= a.in[0].size(d);
    const Tensor& mask = a.in[3];
    if (mask.defined() && mask.dtype() == DType::b8) keep = Matrices<bool>(mask);
    if (mask.defined() && mask.dtype() != DType::b8) add = Matrices<float>(mask);
  }
};

// Per-thread scratch of `n` floats, 64-byte aligned so that every padded row (a multiple of 16
// floats) starts on a cache line.
struct Scratch {
  struct Free {
    void operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  std::unique_ptr<float[], Free> data;
  explicit Scratch(int64_t n)
      : data(static_cast<float*>(::operator new[](size_t(std::max<int64_t>(n, 1)) * sizeof(float),
                                                  std::align_val_t(64)))) {}
};

// Calls f(task, scratch) for every task in [0, n), tasks handed out dynamically (their costs
// differ under a causal mask) to the threads, each with its own scratch of `scratch_floats`; on
// the calling thread alone when the whole call is below ~kGrain * 16 flops.
template <class F>
void run_tasks(int64_t n, double flops, int64_t scratch_floats, F f) {
  if (n <= 0) return;
  if (n == 1 || flops < double(kGrain) * 16 || omp_get_max_threads() == 1) {
    Scratch scratch(scratch_floats);
    for (int64_t t = 0; t < n; ++t) f(t, scratch.data.get());
    return;
  }
#pragma omp parallel
  {
    Scratch scratch(scratch_floats);
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < n; ++t) f(t, scratch.data.get());
  }
}

#define TUTOR_LOOPS_BODY "kernels/cpu/attention_body.h"
#include "kernels/cpu/loops_isa.h"
#undef TUTOR_LOOPS_BODY

}  // namespace

void register_attention() { register_table(isa_baseline::kTable, isa_avx512::kTable); }

}  // namespace tutor::kernels::cpu
