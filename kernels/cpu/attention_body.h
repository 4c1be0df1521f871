// The body of attention.cpp, compiled once per ISA (loops_isa.h): no include guard, no includes.

// 16 floats: one AVX-512 register (four SSE registers in the baseline build). Values of this type
// never cross a function boundary (that would change with the ISA's calling convention).
typedef float Vec __attribute__((vector_size(64)));
constexpr int64_t kLanes = 16;
constexpr int64_t kTileQ = 64, kTileK = 64;  // queries x keys per tile
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

int64_t padded(int64_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

// C[r][0, 16 NV) = (accumulate ? C[r] : 0) + sum_{p < depth} A(r, p) B[p][0, 16 NV) for r < MR,
// with A(r, p) = a[r * ars + p * acs] (a transposed A is a swap of strides), B rows at stride ldb
// and C rows at ldc. The MR x NV accumulators stay in registers: one B row load per p and MR
// broadcasts feed MR * NV FMAs.
template <int MR, int NV>
void gemm_block(int64_t depth, const float* a, int64_t ars, int64_t acs, const float* b,
                int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  Vec acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      if (accumulate)
        std::memcpy(&acc[r][v], c + r * ldc + v * kLanes, sizeof(Vec));
      else
        acc[r][v] = Vec{};
    }
  for (int64_t p = 0; p < depth; ++p) {
    Vec row[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) std::memcpy(&row[v], b + p * ldb + v * kLanes, sizeof(Vec));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const float x = a[r * ars + p * acs];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] += x * row[v];
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) std::memcpy(c + r * ldc + v * kLanes, &acc[r][v], sizeof(Vec));
}

// gemm_block over the rows [0, m) of C: blocks of the widest MR that keeps the accumulators and
// one B row within the 32 vector registers, then 4, 2, 1 for the rest.
template <int NV>
void gemm_rows(int64_t m, int64_t depth, const float* a, int64_t ars, int64_t acs, const float* b,
               int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  constexpr int kMR = NV == 1 ? 8 : 6;
  int64_t r = 0;
  for (; r + kMR <= m; r += kMR)
    gemm_block<kMR, NV>(depth, a + r * ars, ars, acs, b, ldb, c + r * ldc, ldc, accumulate);
  if (r + 4 <= m) {
    gemm_block<4, NV>(depth, a + r * ars, ars, acs, b, ldb, c + r * ldc, ldc, accumulate);
    r += 4;
  }
  if (r + 2 <= m) {
    gemm_block<2, NV>(depth, a + r * ars, ars, acs, b, ldb, c + r * ldc, ldc, accumulate);
    r += 2;
  }
  if (r < m) gemm_block<1, NV>(depth, a + r * ars, ars, acs, b, ldb, c + r * ldc, ldc, accumulate);
}

// C [m, 16 nvec] (+)= A(m x depth) B [depth, 16 nvec], in column blocks of up to 4 vectors.
void gemm(int64_t m, int64_t nvec, int64_t depth, const float* a, int64_t ars, int64_t acs,
          const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  for (int64_t v0 = 0; v0 < nvec; v0 += 4) {
    const float* bv = b + v0 * kLanes;
    float* cv = c + v0 * kLanes;
    switch (std::min<int64_t>(4, nvec - v0)) {
      case 1:
        gemm_rows<1>(m, depth, a, ars, acs, bv, ldb, cv, ldc, accumulate);
        break;
      case 2:
        gemm_rows<2>(m, depth, a, ars, acs, bv, ldb, cv, ldc, accumulate);
        break;
      case 3:
        gemm_rows<3>(m, depth, a, ars, acs, bv, ldb, cv, ldc, accumulate);
        break;
      default:
        gemm_rows<4>(m, depth, a, ars, acs, bv, ldb, cv, ldc, accumulate);
        break;
    }
  }
}

// dst[r][c] = factor * src[r * rs + c * cs] for r < rows, c < cols; zero for c in [cols, ld).
void pack(const float* src, int64_t rs, int64_t cs, int64_t rows, int64_t cols, float* dst,
          int64_t ld, float factor = 1) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* s = src + r * rs;
    float* d = dst + r * ld;
    if (cs == 1) {
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) d[c] = factor * s[c];
    } else {
      for (int64_t c = 0; c < cols; ++c) d[c] = factor * s[c * cs];
    }
    for (int64_t c = cols; c < ld; ++c) d[c] = 0;
  }
}

// Applies the masks to the scores s[0, n) of query i against keys j0, j0 + 1, ...: -inf past the
// causal diagonal and where a bool mask is false, plus an additive mask.
void mask_row(const Problem& pr, int64_t b, int64_t i, int64_t j0, int64_t n, float* s) {
  if (pr.causal)
    for (int64_t j = std::max<int64_t>(0, i - j0 + 1); j < n; ++j) s[j] = kNegInf;
  if (pr.keep.data) {
    const bool* m = pr.keep.at(b, i, j0);
    const int64_t cs = pr.keep.cs;
    if (cs == 1) {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) s[j] = m[j] ? s[j] : kNegInf;
    } else {
      for (int64_t j = 0; j < n; ++j) s[j] = m[j * cs] ? s[j] : kNegInf;
    }
  }
  if (pr.add.data) {
    const float* m = pr.add.at(b, i, j0);
    const int64_t cs = pr.add.cs;
    if (cs == 1) {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) s[j] += m[j];
    } else {
      for (int64_t j = 0; j < n; ++j) s[j] += m[j * cs];
    }
  }
}

// The tiles' shapes for one call: padded row lengths and the floats each scratch buffer takes.
struct Tiles {
  int64_t ep, evp;  // E and Ev padded to whole vectors
  int64_t kp;       // kTileK padded (the scores' row length)
  explicit Tiles(const Problem& pr) : ep(padded(pr.e)), evp(padded(pr.ev)), kp(padded(kTileK)) {}
};

// One forward task: queries [i0, i0 + bq) of batch element b.
void forward_tile(const Problem& pr, const Tiles& t, int64_t b, int64_t i0, float* scratch,
                  float* out, float* lse) {
  const int64_t bq = std::min(kTileQ, pr.l - i0);
  float* qs = scratch;              // [bq, ep], q * scale
  float* kt = qs + kTileQ * t.ep;   // [e, kp], k transposed
  float* vs = kt + pr.e * t.kp;     // [kTileK, evp]
  float* sc = vs + kTileK * t.evp;  // [bq, kp], scores then weights
  float* acc = sc + kTileQ * t.kp;  // [bq, evp], the unnormalized output
  float* m = acc + kTileQ * t.evp;  // [bq] running max
  float* l = m + kTileQ;            // [bq] running sum
  pack(pr.q.at(b, i0, 0), pr.q.rs, pr.q.cs, bq, pr.e, qs, t.ep, pr.scale);
  std::fill(acc, acc + bq * t.evp, 0.0f);
  std::fill(m, m + bq, kNegInf);
  std::fill(l, l + bq, 0.0f);
  // with a causal mask, key tiles past the tile's last query see no query
  const int64_t s_end = pr.causal ? std::min(pr.s, i0 + bq) : pr.s;
  for (int64_t j0 = 0; j0 < s_end; j0 += kTileK) {
    const int64_t bk = std::min(kTileK, pr.s - j0), nk = padded(bk) / kLanes;
    pack(pr.k.at(b, j0, 0), pr.k.cs, pr.k.rs, pr.e, bk, kt, t.kp);
    pack(pr.v.at(b, j0, 0), pr.v.rs, pr.v.cs, bk, pr.ev, vs, t.evp);
    gemm(bq, nk, pr.e, qs, t.ep, 1, kt, t.kp, sc, t.kp, false);
    for (int64_t r = 0; r < bq; ++r) {
      float* s = sc + r * t.kp;
      mask_row(pr, b, i0 + r, j0, bk, s);
      float tile_max = kNegInf;
#pragma omp simd reduction(max : tile_max)
      for (int64_t j = 0; j < bk; ++j) tile_max = s[j] > tile_max ? s[j] : tile_max;
      const float new_max = std::max(m[r], tile_max);
      if (new_max == kNegInf) {  // every key so far masked: this tile adds nothing
        std::fill(s, s + bk, 0.0f);
        continue;
      }
      float sum = 0;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < bk; ++j) {
        s[j] = vexp(s[j] - new_max);
        sum += s[j];
      }
      const float alpha = vexp(m[r] - new_max);  // 0 while m = -inf (nothing accumulated yet)
      l[r] = l[r] * alpha + sum;
      m[r] = new_max;
      if (alpha != 1.0f) {
        float* o = acc + r * t.evp;
#pragma omp simd
        for (int64_t c = 0; c < pr.ev; ++c) o[c] *= alpha;
      }
    }
    gemm(bq, t.evp / kLanes, bk, sc, t.kp, 1, vs, t.evp, acc, t.evp, true);
  }
  for (int64_t r = 0; r < bq; ++r) {
    const int64_t i = i0 + r;
    float* o = out + (b * pr.l + i) * pr.ev;
    const float* a = acc + r * t.evp;
    const float inv = l[r] > 0 ? 1.0f / l[r] : 0.0f;  // l = 0: a fully masked row, o = 0
#pragma omp simd
    for (int64_t c = 0; c < pr.ev; ++c) o[c] = a[c] * inv;
    lse[b * pr.l + i] = l[r] > 0 ? m[r] + std::log(l[r]) : kNegInf;
  }
}

void attention_forward(const KernelArgs& a) {
  apply_num_threads();
  const Problem pr(a);
  const Tiles t(pr);
  const int64_t q_tiles = (pr.l + kTileQ - 1) / kTileQ;
  const int64_t scratch =
      kTileQ * t.ep + pr.e * t.kp + kTileK * t.evp + kTileQ * t.kp + kTileQ * t.evp + 2 * kTileQ;
  float* out = f32_ptr(a.out[0]);
  float* lse = f32_ptr(a.out[1]);
  const double flops = 2.0 * double(pr.batch * pr.l * pr.s * (pr.e + pr.ev));
  run_tasks(pr.batch * q_tiles, flops, scratch, [&](int64_t task, float* buf) {
    forward_tile(pr, t, task / q_tiles, task % q_tiles * kTileQ, buf, out, lse);
  });
}

// The backward's inputs besides the problem, and how batch elements split into tasks.
struct Backward {
  Matrices<float> o, dout;
  const float* lse;
  float *dq, *dk, *dv;
  int64_t k_tiles, runs, tiles_per_run;  // each batch element's key tiles in `runs` runs
  std::vector<float> dq_parts;           // [batch, runs, l, e] when runs > 1
};

// One backward task: the key tiles of run `run` of batch element b.
void backward_task(const Problem& pr, const Tiles& t, Backward& bw, int64_t b, int64_t run,
                   float* scratch) {
  float* dq_acc = scratch;                 // [l, ep]
  float* d = dq_acc + pr.l * t.ep;         // [l] do_i . o_i
  float* kt = d + pr.l;                    // [e, kp], k transposed
  float* kr = kt + pr.e * t.kp;            // [kTileK, ep], k
  float* vt = kr + kTileK * t.ep;          // [ev, kp], v transposed
  float* qs = vt + pr.ev * t.kp;           // [kTileQ, ep], q * scale
  float* dos = qs + kTileQ * t.ep;         // [kTileQ, evp], do
  float* p = dos + kTileQ * t.evp;         // [kTileQ, kp], weights
  float* ds = p + kTileQ * t.kp;           // [kTileQ, kp], dp then ds
  float* dk_acc = ds + kTileQ * t.kp;      // [kTileK, ep]
  float* dv_acc = dk_acc + kTileK * t.ep;  // [kTileK, evp]
  std::fill(dq_acc, dq_acc + pr.l * t.ep, 0.0f);
  for (int64_t i = 0; i < pr.l; ++i) {
    const float *x = bw.dout.at(b, i, 0), *y = bw.o.at(b, i, 0);
    float sum = 0;
    for (int64_t c = 0; c < pr.ev; ++c) sum += x[c * bw.dout.cs] * y[c * bw.o.cs];
    d[i] = sum;
  }
  const float* lse = bw.lse + b * pr.l;
  const int64_t kt_end = std::min(bw.k_tiles, (run + 1) * bw.tiles_per_run);
  for (int64_t tile = run * bw.tiles_per_run; tile < kt_end; ++tile) {
    const int64_t j0 = tile * kTileK, bk = std::min(kTileK, pr.s - j0);
    const int64_t nk = padded(bk) / kLanes;
    pack(pr.k.at(b, j0, 0), pr.k.cs, pr.k.rs, pr.e, bk, kt, t.kp);
    pack(pr.k.at(b, j0, 0), pr.k.rs, pr.k.cs, bk, pr.e, kr, t.ep);
    pack(pr.v.at(b, j0, 0), pr.v.cs, pr.v.rs, pr.ev, bk, vt, t.kp);
    std::fill(dk_acc, dk_acc + bk * t.ep, 0.0f);
    std::fill(dv_acc, dv_acc + bk * t.evp, 0.0f);
    // with a causal mask, queries before the tile's first key see none of its keys
    for (int64_t i0 = pr.causal ? j0 / kTileQ * kTileQ : 0; i0 < pr.l; i0 += kTileQ) {
      const int64_t bq = std::min(kTileQ, pr.l - i0);
      pack(pr.q.at(b, i0, 0), pr.q.rs, pr.q.cs, bq, pr.e, qs, t.ep, pr.scale);
      pack(bw.dout.at(b, i0, 0), bw.dout.rs, bw.dout.cs, bq, pr.ev, dos, t.evp);
      gemm(bq, nk, pr.e, qs, t.ep, 1, kt, t.kp, p, t.kp, false);
      gemm(bq, nk, pr.ev, dos, t.evp, 1, vt, t.kp, ds, t.kp, false);
      for (int64_t r = 0; r < bq; ++r) {
        float *pr_row = p + r * t.kp, *ds_row = ds + r * t.kp;
        const float lse_i = lse[i0 + r], d_i = d[i0 + r];
        if (lse_i == kNegInf) {  // a fully masked row: no weight, no gradient
          std::fill(pr_row, pr_row + bk, 0.0f);
          std::fill(ds_row, ds_row + bk, 0.0f);
          continue;
        }
        mask_row(pr, b, i0 + r, j0, bk, pr_row);
#pragma omp simd
        for (int64_t j = 0; j < bk; ++j) {
          pr_row[j] = vexp(pr_row[j] - lse_i);
          ds_row[j] = pr_row[j] * (ds_row[j] - d_i);
        }
      }
      // dv += p^T do, dk += ds^T (q * scale), dq += ds k (times scale when written out)
      gemm(bk, t.evp / kLanes, bq, p, 1, t.kp, dos, t.evp, dv_acc, t.evp, true);
      gemm(bk, t.ep / kLanes, bq, ds, 1, t.kp, qs, t.ep, dk_acc, t.ep, true);
      gemm(bq, t.ep / kLanes, bk, ds, t.kp, 1, kr, t.ep, dq_acc + i0 * t.ep, t.ep, true);
    }
    for (int64_t j = 0; j < bk; ++j) {
      std::memcpy(bw.dk + (b * pr.s + j0 + j) * pr.e, dk_acc + j * t.ep, size_t(pr.e) * 4);
      std::memcpy(bw.dv + (b * pr.s + j0 + j) * pr.ev, dv_acc + j * t.evp, size_t(pr.ev) * 4);
    }
  }
  float* dq = bw.runs == 1 ? bw.dq + b * pr.l * pr.e
                           : bw.dq_parts.data() + (b * bw.runs + run) * pr.l * pr.e;
  for (int64_t i = 0; i < pr.l; ++i)
#pragma omp simd
    for (int64_t c = 0; c < pr.e; ++c) dq[i * pr.e + c] = dq_acc[i * t.ep + c] * pr.scale;
}

void attention_backward(const KernelArgs& a) {
  apply_num_threads();
  const Problem pr(a);
  const Tiles t(pr);
  Backward bw{Matrices<float>(a.in[4]),
              Matrices<float>(a.in[5]),
              f32_ptr(a.in[6]),
              f32_ptr(a.out[0]),
              f32_ptr(a.out[1]),
              f32_ptr(a.out[2]),
              (pr.s + kTileK - 1) / kTileK,
              1,
              1,
              {}};
  // Too few batch elements to keep every thread busy: split their key tiles into runs, each with
  // its own dq, summed below.
  const int64_t threads = omp_get_max_threads();
  if (pr.batch < 2 * threads && bw.k_tiles > 1) {
    bw.runs = std::min(bw.k_tiles, (2 * threads + pr.batch - 1) / pr.batch);
    bw.tiles_per_run = (bw.k_tiles + bw.runs - 1) / bw.runs;
    bw.runs = (bw.k_tiles + bw.tiles_per_run - 1) / bw.tiles_per_run;
  } else {
    bw.tiles_per_run = std::max<int64_t>(bw.k_tiles, 1);
  }
  if (bw.runs > 1) bw.dq_parts.resize(size_t(pr.batch * bw.runs * pr.l * pr.e));
  const int64_t scratch = pr.l * t.ep + pr.l + pr.e * t.kp + kTileK * t.ep + pr.ev * t.kp +
                          kTileQ * t.ep + kTileQ * t.evp + 2 * kTileQ * t.kp + kTileK * t.ep +
                          kTileK * t.evp;
  const double flops = 5.0 * double(pr.batch * pr.l * pr.s * std::max(pr.e, pr.ev));
  run_tasks(pr.batch * bw.runs, flops, scratch, [&](int64_t task, float* buf) {
    backward_task(pr, t, bw, task / bw.runs, task % bw.runs, buf);
  });
  if (bw.runs > 1) {
    const int64_t n = pr.l * pr.e;
    for (int64_t b = 0; b < pr.batch; ++b) {
      float* dq = bw.dq + b * n;
      const float* part = bw.dq_parts.data() + b * bw.runs * n;
      std::copy(part, part + n, dq);
      for (int64_t r = 1; r < bw.runs; ++r)
#pragma omp simd
        for (int64_t x = 0; x < n; ++x) dq[x] += part[r * n + x];
    }
  }
}

const LoopKernel kTable[] = {
    {"scaled_dot_product_attention", &attention_forward},
    {"scaled_dot_product_attention_backward", &attention_backward},
};
