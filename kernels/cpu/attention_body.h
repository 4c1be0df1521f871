// The body of attention.cpp, compiled once per ISA (loops_isa.h): no include guard, no includes.

// 16 floats: one AVX-512 register (four SSE registers in the baseline build). Values of this type
// never cross a function boundary (that would change with the ISA's calling convention).
typedef float Vec __attribute__((vector_size(64)));
constexpr int64_t kLanes = 16;
// Queries x keys per tile (multiples of kLanes): 64 x 128 in the forward, 64 x 64 in the backward,
// whose two [keys, queries] tiles (weights and their gradient) then share L1.
constexpr int64_t kTileQ = 64, kTileK = 64, kForwardTileK = 128;
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

// A gemm B operand: rows of 16 * n floats at stride ld.
struct Rows {
  const float* p;
  int64_t ld;
};

// Rows [r0, r0 + rows) of matrix b of m as a B operand of `cols` columns: the tensor itself when
// its rows are contiguous and a whole number of vectors, else packed (zero-padded) into `buf`.
Rows rows_operand(const Matrices<float>& m, int64_t b, int64_t r0, int64_t rows, int64_t cols,
                  float* buf) {
  if (m.cs == 1 && cols % kLanes == 0) return {m.at(b, r0, 0), m.rs};
  pack(m.at(b, r0, 0), m.rs, m.cs, rows, cols, buf, padded(cols));
  return {buf, padded(cols)};
}

// The scores are held transposed, st[j][i] for key j0 + j (row) and query i0 + i (column), so
// that the softmax over keys runs down the columns, vectorized over 16 queries at a time.
// Applies the masks to a tile of bk keys x bq queries: -inf past the causal diagonal and where a
// bool mask is false, plus an additive mask.
void mask_tile(const Problem& pr, int64_t b, int64_t i0, int64_t j0, int64_t bq, int64_t bk,
               float* st, int64_t ld) {
  const Matrices<bool>& keep = pr.keep;
  if (keep.data && keep.rs != 0 && keep.cs == 1) {
    // a bool mask with rows along the keys: scan each query's row of the mask contiguously and
    // write -inf only where it drops a key (few scattered stores for a mostly-true mask)
    for (int64_t i = 0; i < bq; ++i) {
      const bool* m = keep.at(b, i0 + i, j0);
      for (int64_t j = 0; j < bk; ++j)
        if (!m[j]) st[j * ld + i] = kNegInf;
    }
  }
  for (int64_t j = 0; j < bk; ++j) {
    float* s = st + j * ld;
    if (pr.causal)  // query i sees key j0 + j when i0 + i >= j0 + j
      for (int64_t i = 0; i < std::min(bq, j0 + j - i0); ++i) s[i] = kNegInf;
    if (keep.data && keep.rs == 0) {  // a key padding mask: one value per key
      if (!*keep.at(b, i0, j0 + j)) std::fill(s, s + bq, kNegInf);
    } else if (keep.data && keep.cs != 1) {
      const bool* m = keep.at(b, i0, j0 + j);
      for (int64_t i = 0; i < bq; ++i) s[i] = m[i * keep.rs] ? s[i] : kNegInf;
    }
    if (pr.add.data) {
      const float* m = pr.add.at(b, i0, j0 + j);
      const int64_t rs = pr.add.rs;
      if (rs == 1) {
#pragma omp simd
        for (int64_t i = 0; i < bq; ++i) s[i] += m[i];
      } else {
        for (int64_t i = 0; i < bq; ++i) s[i] += m[i * rs];
      }
    }
  }
}

// Padded row lengths of one call.
struct Tiles {
  int64_t ep, evp, lp;  // E, Ev and L padded to whole vectors
  explicit Tiles(const Problem& pr) : ep(padded(pr.e)), evp(padded(pr.ev)), lp(padded(pr.l)) {}
};

int64_t forward_scratch(const Problem& pr, const Tiles& t) {
  return pr.e * kTileQ + kForwardTileK * kTileQ + kForwardTileK * t.evp + kTileQ * t.evp +
         5 * kTileQ;
}

// One forward task: queries [i0, i0 + bq) of batch element b, against every key tile.
void forward_tile(const Problem& pr, const Tiles& t, int64_t b, int64_t i0, float* scratch,
                  float* out, float* lse) {
  const int64_t bq = std::min(kTileQ, pr.l - i0), qp = padded(bq);
  float* qt = scratch;             // [e, qp], (q * scale) transposed
  float* st = qt + pr.e * kTileQ;  // [kForwardTileK, qp], scores then weights
  float* vbuf =
      st + kForwardTileK * kTileQ;  // [kForwardTileK, evp], v when it cannot be read in place
  float* acc = vbuf + kForwardTileK * t.evp;  // [bq, evp], the unnormalized output
  float* m = acc + kTileQ * t.evp;            // [qp] running max
  float* l = m + kTileQ;                      // [qp] running sum
  float* shift = l + kTileQ;                  // [qp] the max subtracted before exp (0 while -inf)
  float* alpha = shift + kTileQ;              // [qp] exp(old max - new max)
  float* sum = alpha + kTileQ;                // [qp] the tile's sum of weights
  pack(pr.q.at(b, i0, 0), pr.q.cs, pr.q.rs, pr.e, bq, qt, qp, pr.scale);
  std::fill(acc, acc + bq * t.evp, 0.0f);
  std::fill(m, m + qp, kNegInf);
  std::fill(l, l + qp, 0.0f);
  // with a causal mask, key tiles past the tile's last query see no query
  const int64_t s_end = pr.causal ? std::min(pr.s, i0 + bq) : pr.s;
  for (int64_t j0 = 0; j0 < s_end; j0 += kForwardTileK) {
    const int64_t bk = std::min(kForwardTileK, pr.s - j0);
    gemm(bk, qp / kLanes, pr.e, pr.k.at(b, j0, 0), pr.k.rs, pr.k.cs, qt, qp, st, qp, false);
    mask_tile(pr, b, i0, j0, bq, bk, st, qp);
#pragma omp simd
    for (int64_t i = 0; i < qp; ++i) shift[i] = m[i];
    for (int64_t j = 0; j < bk; ++j) {
      const float* s = st + j * qp;
#pragma omp simd
      for (int64_t i = 0; i < qp; ++i) shift[i] = s[i] > shift[i] ? s[i] : shift[i];
    }
#pragma omp simd
    for (int64_t i = 0; i < qp; ++i) {
      const float new_max = shift[i];
      shift[i] = new_max == kNegInf ? 0.0f : new_max;  // every key so far masked: weights 0
      alpha[i] = vexp(m[i] - shift[i]);                // 0 while m = -inf (nothing accumulated yet)
      m[i] = new_max;
      sum[i] = 0;
    }
    for (int64_t j = 0; j < bk; ++j) {
      float* s = st + j * qp;
#pragma omp simd
      for (int64_t i = 0; i < qp; ++i) {
        s[i] = vexp(s[i] - shift[i]);
        sum[i] += s[i];
      }
    }
    for (int64_t i = 0; i < bq; ++i) {
      l[i] = l[i] * alpha[i] + sum[i];
      if (alpha[i] != 1.0f) {
        float* o = acc + i * t.evp;
#pragma omp simd
        for (int64_t c = 0; c < pr.ev; ++c) o[c] *= alpha[i];
      }
    }
    const Rows v = rows_operand(pr.v, b, j0, bk, pr.ev, vbuf);
    gemm(bq, t.evp / kLanes, bk, st, 1, qp, v.p, v.ld, acc, t.evp, true);
  }
  for (int64_t i = 0; i < bq; ++i) {
    float* o = out + (b * pr.l + i0 + i) * pr.ev;
    const float* a = acc + i * t.evp;
    const float inv = l[i] > 0 ? 1.0f / l[i] : 0.0f;  // l = 0: a fully masked row, o = 0
#pragma omp simd
    for (int64_t c = 0; c < pr.ev; ++c) o[c] = a[c] * inv;
    lse[b * pr.l + i0 + i] = l[i] > 0 ? m[i] + std::log(l[i]) : kNegInf;
  }
}

void attention_forward(const KernelArgs& a) {
  apply_num_threads();
  const Problem pr(a);
  const Tiles t(pr);
  const int64_t q_tiles = (pr.l + kTileQ - 1) / kTileQ;
  float* out = f32_ptr(a.out[0]);
  float* lse = f32_ptr(a.out[1]);
  const double flops = 2.0 * double(pr.batch * pr.l * pr.s * (pr.e + pr.ev));
  run_tasks(pr.batch * q_tiles, flops, forward_scratch(pr, t), [&](int64_t task, float* buf) {
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

int64_t backward_scratch(const Problem& pr, const Tiles& t) {
  return pr.e * t.lp + pr.ev * t.lp + pr.l * t.ep + pr.l * t.evp + pr.l * t.ep + 2 * t.lp +
         kTileK * t.ep + 2 * kTileK * kTileQ + kTileK * t.ep + kTileK * t.evp;
}

// One backward task: the key tiles of run `run` of batch element b, each against every query
// tile. Everything read by query (q transposed and as rows, do likewise, lse, D) is prepared
// once per task.
void backward_task(const Problem& pr, const Tiles& t, Backward& bw, int64_t b, int64_t run,
                   float* scratch) {
  float* qt = scratch;                     // [e, lp], (q * scale) transposed
  float* dot = qt + pr.e * t.lp;           // [ev, lp], do transposed
  float* qbuf = dot + pr.ev * t.lp;        // [l, ep], q when it cannot be read in place
  float* dobuf = qbuf + pr.l * t.ep;       // [l, evp], do likewise
  float* dq_acc = dobuf + pr.l * t.evp;    // [l, ep]
  float* shift = dq_acc + pr.l * t.ep;     // [lp] lse, +inf where a row has no weights
  float* d = shift + t.lp;                 // [lp] do_i . o_i
  float* kbuf = d + t.lp;                  // [kTileK, ep], k when it cannot be read in place
  float* p = kbuf + kTileK * t.ep;         // [kTileK, kTileQ], scores then weights (transposed)
  float* ds = p + kTileK * kTileQ;         // [kTileK, kTileQ], dp then ds (transposed)
  float* dk_acc = ds + kTileK * kTileQ;    // [kTileK, ep]
  float* dv_acc = dk_acc + kTileK * t.ep;  // [kTileK, evp]
  pack(pr.q.at(b, 0, 0), pr.q.cs, pr.q.rs, pr.e, pr.l, qt, t.lp, pr.scale);
  pack(bw.dout.at(b, 0, 0), bw.dout.cs, bw.dout.rs, pr.ev, pr.l, dot, t.lp);
  const Rows q = rows_operand(pr.q, b, 0, pr.l, pr.e, qbuf);
  const Rows dout = rows_operand(bw.dout, b, 0, pr.l, pr.ev, dobuf);
  std::fill(dq_acc, dq_acc + pr.l * t.ep, 0.0f);
  const float kInf = std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < t.lp; ++i) {
    float lse_i = i < pr.l ? bw.lse[b * pr.l + i] : kNegInf;
    shift[i] = lse_i == kNegInf ? kInf : lse_i;  // exp(s - inf) = 0: no weights, no gradient
    float sum = 0;
    for (int64_t c = 0; i < pr.l && c < pr.ev; ++c) sum += *bw.dout.at(b, i, c) * *bw.o.at(b, i, c);
    d[i] = sum;
  }
  const int64_t kt_end = std::min(bw.k_tiles, (run + 1) * bw.tiles_per_run);
  for (int64_t tile = run * bw.tiles_per_run; tile < kt_end; ++tile) {
    const int64_t j0 = tile * kTileK, bk = std::min(kTileK, pr.s - j0);
    const Rows k = rows_operand(pr.k, b, j0, bk, pr.e, kbuf);
    std::fill(dk_acc, dk_acc + bk * t.ep, 0.0f);
    std::fill(dv_acc, dv_acc + bk * t.evp, 0.0f);
    // with a causal mask, queries before the tile's first key see none of its keys
    for (int64_t i0 = pr.causal ? j0 / kTileQ * kTileQ : 0; i0 < pr.l; i0 += kTileQ) {
      const int64_t bq = std::min(kTileQ, pr.l - i0), qp = padded(bq);
      gemm(bk, qp / kLanes, pr.e, pr.k.at(b, j0, 0), pr.k.rs, pr.k.cs, qt + i0, t.lp, p, qp, false);
      gemm(bk, qp / kLanes, pr.ev, pr.v.at(b, j0, 0), pr.v.rs, pr.v.cs, dot + i0, t.lp, ds, qp,
           false);
      mask_tile(pr, b, i0, j0, bq, bk, p, qp);
      const float *sh = shift + i0, *di = d + i0;
      for (int64_t j = 0; j < bk; ++j) {
        float *pj = p + j * qp, *dsj = ds + j * qp;
#pragma omp simd
        for (int64_t i = 0; i < qp; ++i) {
          pj[i] = vexp(pj[i] - sh[i]);
          dsj[i] = pj[i] * (dsj[i] - di[i]);
        }
      }
      // dv += p^T do, dk += ds^T q (times scale when written out), dq += ds k (likewise)
      gemm(bk, t.evp / kLanes, bq, p, qp, 1, dout.p + i0 * dout.ld, dout.ld, dv_acc, t.evp, true);
      gemm(bk, t.ep / kLanes, bq, ds, qp, 1, q.p + i0 * q.ld, q.ld, dk_acc, t.ep, true);
      gemm(bq, t.ep / kLanes, bk, ds, 1, qp, k.p, k.ld, dq_acc + i0 * t.ep, t.ep, true);
    }
    for (int64_t j = 0; j < bk; ++j) {
      float* dk = bw.dk + (b * pr.s + j0 + j) * pr.e;
      const float* dka = dk_acc + j * t.ep;
#pragma omp simd
      for (int64_t c = 0; c < pr.e; ++c) dk[c] = dka[c] * pr.scale;
      std::memcpy(bw.dv + (b * pr.s + j0 + j) * pr.ev, dv_acc + j * t.evp,
                  size_t(pr.ev) * sizeof(float));
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
  const double flops = 5.0 * double(pr.batch * pr.l * pr.s * std::max(pr.e, pr.ev));
  run_tasks(pr.batch * bw.runs, flops, backward_scratch(pr, t), [&](int64_t task, float* buf) {
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
