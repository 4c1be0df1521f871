// The body of loops_indexing.cpp, compiled once per ISA (loops_isa.h): no include guard, no
// includes.

// out[p] = x[p with p[dim] = index[p]], p over index's shape (= out's shape).
void gather_into(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& out) {
  Shape rest = x.strides();
  rest[size_t(dim)] = 0;
  const Tensor xs = x.as_strided_raw(index.sizes(), rest, x.offset());
  const int64_t step = x.stride(dim);
  const StridedLoop<3> loop({&out, &index, &xs});
  loop.parallel_for([&](const std::array<char*, 3>& p, int64_t n, const std::array<int64_t, 3>& s) {
    float* y = reinterpret_cast<float*>(p[0]);
    const int64_t* ip = reinterpret_cast<const int64_t*>(p[1]);
    const float* xp = reinterpret_cast<const float*>(p[2]);
    if (s[0] == 1 && s[1] == 1 && s[2] == 0) {  // along the last dim of packed tensors
      for (int64_t i = 0; i < n; ++i) y[i] = xp[ip[i] * step];
      return;
    }
    for (int64_t i = 0; i < n; ++i) y[i * s[0]] = xp[i * s[2] + ip[i * s[1]] * step];
  });
}

void gather_kernel(const KernelArgs& a) {
  gather_into(a.in[0], a.p<IndexParams>().dim, a.in[1], a.out[0]);
}

// A 0-d or 1-D index seen as an index of `shape` that varies only along dim: index_select is
// gather, and index_add is scatter_add, with it (as in the reference).
Tensor spread_index(const Tensor& index, const Shape& shape, int64_t dim) {
  Shape st(shape.size(), 0);
  st[size_t(dim)] = index.dim() == 0 ? 0 : index.stride(0);
  return index.as_strided_raw(shape, st, index.offset());
}

void index_select_kernel(const KernelArgs& a) {
  const int64_t dim = a.p<IndexParams>().dim;
  gather_into(a.in[0], dim, spread_index(a.in[1], a.out[0].sizes(), dim), a.out[0]);
}

// ---- cat and constant pad: strided copies (and a fill) through elementwise(), so each part
// is copied in parallel, as contiguous runs where the layouts allow.

// dst = src, one shape, any strides.
void copy_into(const Tensor& src, const Tensor& dst) {
  const Tensor in[] = {src};
  Tensor out[] = {dst};
  elementwise<float, float>(KernelArgs{in, out, nullptr}, [](float x) { return x; });
}

// Each input copied into its slab of the output along dim. Seen as [outer, size along dim * inner],
// a packed input is one contiguous row per outer index, landing at a fixed column of the output's
// row: all (row, input) blocks are memcpy'd in one parallel region, rows split over the threads
// (one region per input, or a strided copy, costs more than the copy for ViT's class token and
// the small cats of the objectives). Strided inputs are copied through elementwise() after.
void cat_kernel(const KernelArgs& a) {
  const Tensor& out = a.out[0];
  const int64_t dim = a.p<IndexParams>().dim;
  struct Block {
    const float* src;
    int64_t column, width;  // in the output's row, floats
  };
  std::vector<Block> blocks;
  int64_t outer = 1, inner = 1, at = 0;
  for (int64_t d = 0; d < dim; ++d) outer *= out.size(d);
  for (int64_t d = dim + 1; d < out.dim(); ++d) inner *= out.size(d);
  const int64_t out_row = out.size(dim) * inner;
  for (const Tensor& t : a.in) {
    if (t.numel() > 0 && out.is_contiguous() && t.is_contiguous())
      blocks.push_back({f32_ptr(t), at * inner, t.size(dim) * inner});
    else if (t.numel() > 0)
      copy_into(t,
                out.as_strided_raw(t.sizes(), out.strides(), out.offset() + at * out.stride(dim)));
    at += t.size(dim);
  }
  if (blocks.empty()) return;
  const int64_t nb = int64_t(blocks.size());
  float* y = f32_ptr(out);
  // A copy streams several times faster than the loops kGrain was set for: below kCopyGrain floats
  // in all, one thread copies (cat of two [128, 512]: 28 us on two threads, 16 us on one).
  constexpr int64_t kCopyGrain = 8 * kGrain;
  const int64_t cost = std::max<int64_t>(1, out_row / nb);
  auto copy_blocks = [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const int64_t o = k / nb;
      const Block& blk = blocks[size_t(k % nb)];
      float* dst = y + o * out_row + blk.column;
      const float* src = blk.src + o * blk.width;
      if (blk.width >= 64) {
        std::memcpy(dst, src, size_t(blk.width) * sizeof(float));
      } else {  // a call per few bytes costs more than the copy
#pragma omp simd
        for (int64_t i = 0; i < blk.width; ++i) dst[i] = src[i];
      }
    }
  };
  if (outer * nb * cost < kCopyGrain)
    copy_blocks(0, outer * nb);
  else
    parallel_range(outer * nb, cost, copy_blocks);
}

// flip: x read with the flipped dims' strides negated, from its last element along them (as the
// reference). A flipped last dim of packed tensors is a run read backwards (x[-i]), which GCC
// vectorizes with a lane permute; elementwise() would gather it into a buffer first (measured
// slower than the reference's plain loop).
void flip_kernel(const KernelArgs& a) {
  const Tensor& x = a.in[0];
  Shape strides = x.strides();
  int64_t start = x.offset();
  for (int64_t d : a.p<FlipParams>().dims) {
    if (x.size(d) == 0) return;  // nothing to copy (and no last element to start from)
    start += (x.size(d) - 1) * strides[size_t(d)];
    strides[size_t(d)] = -strides[size_t(d)];
  }
  const Tensor src = x.as_strided_raw(x.sizes(), strides, start);
  const StridedLoop<2> loop({&a.out[0], &src});
  loop.parallel_for([](const std::array<char*, 2>& p, int64_t n, const std::array<int64_t, 2>& s) {
    float* y = reinterpret_cast<float*>(p[0]);
    const float* v = reinterpret_cast<const float*>(p[1]);
    if (s[0] == 1 && s[1] == -1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = v[-i];
    } else if (s[0] == 1 && s[1] == 1) {
      std::memcpy(y, v, size_t(n) * sizeof(float));
    } else {
      for (int64_t i = 0; i < n; ++i) y[i * s[0]] = v[i * s[1]];
    }
  });
}

// tril, triu: each matrix of the last two dims copied with (i, j) kept where j - i <= diagonal
// (lower) or j - i >= diagonal (upper) and zeroed elsewhere, as the reference; rows split over the
// threads, vectorized along them.
template <bool Lower>
void triangle_kernel(const KernelArgs& a) {
  const Tensor x = a.in[0].contiguous_raw();
  const int64_t diagonal = a.p<TriangleParams>().diagonal;
  const int64_t rows = x.size(x.dim() - 2), cols = x.size(x.dim() - 1);
  if (x.numel() == 0) return;
  const float* xp = f32_ptr(x);
  float* yp = f32_ptr(a.out[0]);
  parallel_range(x.numel() / cols, cols, [&](int64_t begin, int64_t end) {
    for (int64_t q = begin; q < end; ++q) {
      const int64_t i = q % rows;
      const float* xr = xp + q * cols;
      float* yr = yp + q * cols;
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j)
        yr[j] = (Lower ? j - i <= diagonal : j - i >= diagonal) ? xr[j] : 0.0f;
    }
  });
}

// ---- scatter, scatter_add, index_add: out = x, then out[p with p[dim] = index[p]] = src[p] (or
// += alpha src[p]) for every position p of index's shape.
// The threads split index's columns, its positions with the coordinate along dim dropped: the
// positions of one column write only to targets in that column of out, so no two threads write
// one element, and every target takes its writes in increasing p[dim], the reference's row-major
// order. The result does not depend on the thread count, and scatter's last write wins as in the
// reference. Columns are taken in blocks whose runs (StridedLoop over the columns) are listed once
// and then walked for each position along dim.

// Columns per block: the runs of a block are listed once and replayed for every row.
inline constexpr int64_t kColumnBlock = 1024;

struct ColumnRun {
  std::array<char*, 3> p;  // target in out, index, src at the run's first column
  int64_t n;
  std::array<int64_t, 3> s;
};

template <bool Accumulate>
void scatter_run(const ColumnRun& c, int64_t index_at, int64_t src_at, int64_t step, float alpha) {
  float* t = reinterpret_cast<float*>(c.p[0]);
  const int64_t* ix = reinterpret_cast<const int64_t*>(c.p[1]) + index_at;
  const float* v = reinterpret_cast<const float*>(c.p[2]) + src_at;
  const int64_t st = c.s[0], si = c.s[1], sv = c.s[2], n = c.n;
  auto put = [alpha](float& y, float x) { y = Accumulate ? y + alpha * x : x; };
  if (si == 0) {  // one index for the run (index_add's, or a broadcast index): a row of out
    float* row = t + ix[0] * step;
    if (st == 1 && sv == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) put(row[i], v[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) put(row[i * st], v[i * sv]);
    }
    return;
  }
  // The elements of a run lie in distinct columns, so their targets differ: the lanes of a vector
  // gather-add-scatter never collide.
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) put(t[i * st + ix[i * si] * step], v[i * sv]);
}

template <bool Accumulate>
void scatter_into(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src, float alpha,
                  const Tensor& out) {
  copy_into(x, out);
  if (index.numel() == 0) return;
  const auto drop = [dim](Shape s) {
    s.erase(s.begin() + dim);
    return s;
  };
  const Shape columns = drop(index.sizes());
  const Tensor target = out.as_strided_raw(columns, drop(out.strides()), out.offset());
  const Tensor idx = index.as_strided_raw(columns, drop(index.strides()), index.offset());
  const Tensor from = src.as_strided_raw(columns, drop(src.strides()), src.offset());
  const StridedLoop<3> loop({&target, &idx, &from});
  const int64_t rows = index.size(dim), step = out.stride(dim);
  const int64_t index_step = index.stride(dim), src_step = src.stride(dim);
  parallel_range(loop.numel, rows, [&](int64_t b, int64_t e) {
    std::vector<ColumnRun> runs;
    for (int64_t cb = b; cb < e; cb += kColumnBlock) {
      runs.clear();
      loop.for_range(
          cb, std::min(e, cb + kColumnBlock),
          [&](const std::array<char*, 3>& p, int64_t n, const std::array<int64_t, 3>& s) {
            runs.push_back({p, n, s});
          });
      for (int64_t r = 0; r < rows; ++r)
        for (const ColumnRun& c : runs)
          scatter_run<Accumulate>(c, r * index_step, r * src_step, step, alpha);
    }
  });
}

void scatter_kernel(const KernelArgs& a) {
  scatter_into<false>(a.in[0], a.p<IndexParams>().dim, a.in[1], a.in[2], 1, a.out[0]);
}
void scatter_add_kernel(const KernelArgs& a) {
  scatter_into<true>(a.in[0], a.p<IndexParams>().dim, a.in[1], a.in[2], 1, a.out[0]);
}
// alpha scales src.
void index_add_kernel(const KernelArgs& a) {
  const auto& p = a.p<IndexParams>();
  const Tensor& src = a.in[2];
  scatter_into<true>(a.in[0], p.dim, spread_index(a.in[1], src.sizes(), p.dim), src, float(p.alpha),
                     a.out[0]);
}

// out = value, then the overlap of the input and the output (pads may be negative: a crop)
// copied in, as the reference.
void pad_kernel(const KernelArgs& a) {
  const auto& p = a.p<PadParams>();
  const Tensor &x = a.in[0], &y = a.out[0];
  const float value = float(p.value);
  map_outputs<1, float>(a, [value](float& v) { v = value; });
  Shape overlap(x.sizes().size());
  int64_t x_offset = x.offset(), y_offset = y.offset();
  for (size_t d = 0; d < overlap.size(); ++d) {
    const int64_t x_start = std::max<int64_t>(-p.before[d], 0),
                  y_start = std::max<int64_t>(p.before[d], 0);
    overlap[d] = std::max<int64_t>(0, std::min(x.sizes()[d] - x_start, y.sizes()[d] - y_start));
    x_offset += x_start * x.strides()[d];
    y_offset += y_start * y.strides()[d];
  }
  if (shape_numel(overlap) == 0) return;
  copy_into(x.as_strided_raw(overlap, x.strides(), x_offset),
            y.as_strided_raw(overlap, y.strides(), y_offset));
}

const LoopKernel kTable[] = {
    {"gather", gather_kernel},
    {"index_select", index_select_kernel},
    {"scatter", scatter_kernel},
    {"scatter_add", scatter_add_kernel},
    {"index_add", index_add_kernel},
    {"cat", cat_kernel},
    {"flip", flip_kernel},
    {"tril", &triangle_kernel<true>},
    {"triu", &triangle_kernel<false>},
    {"pad", pad_kernel},
};
