// The body of loops_reductions.cpp, compiled once per ISA (loops_isa.h): no include guard, no
// includes.

double row_sum(const float* x, int64_t n) {
  return chunked_sum(n, [x](int64_t i) { return x[i]; });
}

// Sums of contiguous rows: out[o] = sum of x[o * n, (o + 1) * n).
void sum_rows(const float* x, float* y, int64_t rows, int64_t n) {
  if (rows == 1) {
    const int nt = n < kGrain ? 1 : omp_get_max_threads();
    std::vector<double> part(size_t(nt), 0.0);
#pragma omp parallel num_threads(nt)
    {
      Range r = thread_range(n, omp_get_thread_num(), omp_get_num_threads());
      part[size_t(omp_get_thread_num())] = row_sum(x + r.begin, r.end - r.begin);
    }
    double s = 0;
    for (double v : part) s += v;
    y[0] = float(s);
    return;
  }
  parallel_range(rows, n, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) y[o] = float(row_sum(x + o * n, n));
  });
}

constexpr int64_t kColBlock = 512;

// acc[k] += sum over rows [r0, r1) of x[r * cols + k0 + k], k < w <= kColBlock: f32 partial sums
// over 256 rows at a time, added in double.
void col_block(const float* x, int64_t cols, int64_t r0, int64_t r1, int64_t k0, int64_t w,
               double* acc) {
  float part[kColBlock];
  for (int64_t rb = r0; rb < r1; rb += 256) {
    const int64_t re = std::min(r1, rb + 256);
    for (int64_t k = 0; k < w; ++k) part[k] = 0;
    for (int64_t r = rb; r < re; ++r) {
      const float* row = x + r * cols + k0;
#pragma omp simd
      for (int64_t k = 0; k < w; ++k) part[k] += row[k];
    }
    for (int64_t k = 0; k < w; ++k) acc[k] += double(part[k]);
  }
}

// Column sums: out[k] = sum over r < rows of x[r * cols + k]. Blocks of columns go to the
// threads; with fewer blocks than threads, the rows are split and the partial sums added.
void sum_cols(const float* x, float* y, int64_t rows, int64_t cols) {
  const int64_t blocks = (cols + kColBlock - 1) / kColBlock;
  const int nt = omp_get_max_threads();
  if (blocks >= nt || rows * cols < kGrain || rows < 2 * nt) {
    parallel_range(blocks, rows * kColBlock, [&](int64_t b, int64_t e) {
      double acc[kColBlock];
      for (int64_t blk = b; blk < e; ++blk) {
        const int64_t k0 = blk * kColBlock, w = std::min(kColBlock, cols - k0);
        std::fill(acc, acc + w, 0.0);
        col_block(x, cols, 0, rows, k0, w, acc);
        for (int64_t k = 0; k < w; ++k) y[k0 + k] = float(acc[k]);
      }
    });
    return;
  }
  std::vector<double> part(size_t(nt * cols), 0.0);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    const Range r = thread_range(rows, t, omp_get_num_threads());
    for (int64_t k0 = 0; k0 < cols; k0 += kColBlock)
      col_block(x, cols, r.begin, r.end, k0, std::min(kColBlock, cols - k0),
                part.data() + t * cols + k0);
  }
  for (int64_t k = 0; k < cols; ++k) {
    double s = 0;
    for (int t = 0; t < nt; ++t) s += part[size_t(t * cols + k)];
    y[k] = float(s);
  }
}

// Any layout: the kept dims (coalesced) index the outputs; each output's slice, the reduced dims
// (coalesced), is walked in row-major order as runs along its innermost dim.
struct SliceWalk {
  std::vector<int64_t> kept_size, kept_stride, red_size, red_stride;  // innermost first
  int64_t outputs = 1, slice = 1;
  const float* base;

  SliceWalk(const Tensor& x, const std::vector<int64_t>& dims) : base(f32_ptr(x)) {
    const Shape& sizes = x.sizes();
    std::vector<bool> reduced(sizes.size(), false);
    for (int64_t d : dims) reduced[size_t(d)] = true;
    for (size_t d = sizes.size(); d-- > 0;) {
      if (sizes[d] == 1) continue;
      auto& sz = reduced[d] ? red_size : kept_size;
      auto& st = reduced[d] ? red_stride : kept_stride;
      if (!sz.empty() && x.strides()[d] == st.back() * sz.back()) {
        sz.back() *= sizes[d];
      } else {
        sz.push_back(sizes[d]);
        st.push_back(x.strides()[d]);
      }
    }
    if (red_size.empty()) red_size.push_back(1), red_stride.push_back(1);
    for (int64_t v : kept_size) outputs *= v;
    for (int64_t v : red_size) slice *= v;
  }

  // Calls run(p, n, stride, pos) for each run of output o's slice: n elements at p[i * stride],
  // the first at row-major position pos within the slice. idx: scratch of red_size.size().
  template <class Run>
  void for_slice(int64_t o, std::vector<int64_t>& idx, Run run) const {
    int64_t off = 0, rest = o;
    for (size_t d = 0; d < kept_size.size(); ++d) {
      off += (rest % kept_size[d]) * kept_stride[d];
      rest /= kept_size[d];
    }
    std::fill(idx.begin(), idx.end(), 0);
    const int64_t n = red_size[0];
    for (int64_t pos = 0; pos < slice; pos += n) {
      run(base + off, n, red_stride[0], pos);
      for (size_t d = 1; d < red_size.size(); ++d) {
        off += red_stride[d];
        if (++idx[d] < red_size[d]) break;
        off -= red_stride[d] * red_size[d];
        idx[d] = 0;
      }
    }
  }

  // Calls f(o, idx) for every output, split over the threads.
  template <class F>
  void parallel_outputs(F f) const {
    parallel_range(outputs, slice, [&](int64_t b, int64_t e) {
      std::vector<int64_t> idx(red_size.size());
      for (int64_t o = b; o < e; ++o) f(o, idx);
    });
  }
};

void sum_strided(const Tensor& x, float* y, const std::vector<int64_t>& dims) {
  const SliceWalk w(x, dims);
  w.parallel_outputs([&](int64_t o, std::vector<int64_t>& idx) {
    double s = 0;
    w.for_slice(o, idx, [&](const float* p, int64_t n, int64_t st, int64_t) {
      if (st == 1)
        s += row_sum(p, n);
      else
        for (int64_t i = 0; i < n; ++i) s += double(p[i * st]);
    });
    y[o] = float(s);
  });
}

void sum_kernel(const KernelArgs& a) {
  const Tensor& x = a.in[0];
  const auto& dims = a.p<ReduceParams>().dims;
  float* y = f32_ptr(a.out[0]);
  const int64_t outputs = a.out[0].numel();
  if (outputs == 0) return;
  if (x.numel() == 0) {
    for (int64_t i = 0; i < outputs; ++i) y[i] = 0;
    return;
  }
  if (x.is_contiguous()) {
    // reduced dims form a trailing or leading run (size-1 dims may sit anywhere)
    const int64_t nd = x.dim();
    auto is_red = [&](int64_t d) {
      return std::find(dims.begin(), dims.end(), d) != dims.end() || x.size(d) == 1;
    };
    int64_t lead = 0, trail = nd;
    while (lead < nd && is_red(lead)) ++lead;
    while (trail > 0 && is_red(trail - 1)) --trail;
    bool only_trailing = true, only_leading = true;
    for (int64_t d : dims) only_trailing &= d >= trail, only_leading &= d < lead;
    const int64_t slice = x.numel() / outputs;
    if (only_trailing) return sum_rows(f32_ptr(x), y, outputs, slice);
    if (only_leading) return sum_cols(f32_ptr(x), y, slice, outputs);
  }
  sum_strided(x, y, dims);
}

// ---- max / min: values and int64 positions (row-major within the slice) of the first extreme
// element of each slice; a NaN wins, the first one, as in PyTorch and the reference.

struct Extreme {
  float value;
  int64_t index;
};

// The first extreme of a run of n >= 1 elements at stride st: the extreme value by a vectorized
// reduction (which skips NaN) and a NaN count, then a scan for its first occurrence.
template <bool Max>
Extreme run_extreme(const float* p, int64_t n, int64_t st) {
  if (st != 1) {
    Extreme e{p[0], 0};
    for (int64_t i = 1; i < n; ++i) {
      const float v = p[i * st];
      if (e.value != e.value) break;
      if (v != v || (Max ? v > e.value : v < e.value)) e = {v, i};
    }
    return e;
  }
  float m = p[0];
  int64_t nans = 0;
  if constexpr (Max) {
#pragma omp simd reduction(max : m) reduction(+ : nans)
    for (int64_t i = 0; i < n; ++i) m = p[i] > m ? p[i] : m, nans += p[i] != p[i];
  } else {
#pragma omp simd reduction(min : m) reduction(+ : nans)
    for (int64_t i = 0; i < n; ++i) m = p[i] < m ? p[i] : m, nans += p[i] != p[i];
  }
  for (int64_t i = 0; i < n; ++i)
    if (nans ? p[i] != p[i] : p[i] == m) return {p[i], i};
  return {m, 0};  // only when p[0] is NaN and counted: unreachable, kept total
}

template <bool Max>
void extreme_kernel(const KernelArgs& a) {
  const Tensor& x = a.in[0];
  float* values = f32_ptr(a.out[0]);
  int64_t* indices = a.out[1].data<int64_t>();
  if (a.out[0].numel() == 0 || x.numel() == 0) return;  // the op rejects empty slices
  const SliceWalk w(x, a.p<ReduceParams>().dims);
  w.parallel_outputs([&](int64_t o, std::vector<int64_t>& idx) {
    Extreme best{0, -1};
    w.for_slice(o, idx, [&](const float* p, int64_t n, int64_t st, int64_t pos) {
      const Extreme e = run_extreme<Max>(p, n, st);
      const bool best_nan = best.index >= 0 && best.value != best.value;
      if (best.index < 0 || (!best_nan && (e.value != e.value ||
                                           (Max ? e.value > best.value : e.value < best.value))))
        best = {e.value, pos + e.index};
    });
    values[o] = best.value;
    indices[o] = best.index;
  });
}

// ---- var, std, logsumexp, norm: each output's slice walked (SliceWalk) once or twice, runs of
// unit stride vectorized. `Run` calls f(p, n, st) for every run of output o's slice.

// sum_i f(p[i * st]) over a run, accumulated in double: the squares of var and norm overflow
// f32 from |x| ~ 1e19 on, where the reference (in double) still has an f32 result.
template <class F>
double run_sum(const float* p, int64_t n, int64_t st, F f) {
  double s = 0;
  if (st == 1) {
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) s += f(p[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) s += f(p[i * st]);
  }
  return s;
}

// Calls store(o, slice) for every output o, with slice(f) walking its runs: f(p, n, st).
template <class Store>
void per_slice(const KernelArgs& a, Store store) {
  const SliceWalk w(a.in[0], a.p<ReduceParams>().dims);
  w.parallel_outputs([&](int64_t o, std::vector<int64_t>& idx) {
    store(o, w.slice, [&](auto f) {
      w.for_slice(o, idx, [&](const float* p, int64_t n, int64_t st, int64_t) { f(p, n, st); });
    });
  });
}

// var = sum (x - mean)^2 / max(0, n - correction) (two passes, as the reference's Welford to
// double accuracy); std = sqrt(var). ReduceParams::a = correction.
template <bool Root>
void moments_kernel(const KernelArgs& a) {
  const double correction = a.p<ReduceParams>().a;
  float* y = f32_ptr(a.out[0]);
  per_slice(a, [&](int64_t o, int64_t n, auto slice) {
    double s = 0, m2 = 0;
    slice([&](const float* p, int64_t len, int64_t st) {
      s += run_sum(p, len, st, [](float v) { return double(v); });
    });
    const double mean = n > 0 ? s / double(n) : 0.0;
    slice([&](const float* p, int64_t len, int64_t st) {
      m2 +=
          run_sum(p, len, st, [mean](float v) { return (double(v) - mean) * (double(v) - mean); });
    });
    const double v = m2 / std::max(0.0, double(n) - correction);
    y[o] = float(Root ? std::sqrt(v) : v);
  });
}

// The largest element of a run, NaN skipped.
float run_max(const float* p, int64_t n, int64_t st) {
  return st == 1 ? row_max(Row<true>{1}, p, n) : row_max(Row<false>{st}, p, n);
}

// logsumexp = m + log sum exp(x - m), m the slice maximum; an infinite m (all -inf, or a +inf)
// shifts by 0 instead, which gives the reference's -inf and +inf; NaN propagates through the sum.
void logsumexp_kernel(const KernelArgs& a) {
  float* y = f32_ptr(a.out[0]);
  per_slice(a, [&](int64_t o, int64_t, auto slice) {
    float m = -std::numeric_limits<float>::infinity();
    slice([&](const float* p, int64_t len, int64_t st) { m = std::max(m, run_max(p, len, st)); });
    const float shift = std::isfinite(m) ? m : 0.0f;
    double s = 0;
    slice([&](const float* p, int64_t len, int64_t st) {
      s += run_sum(p, len, st, [shift](float v) { return double(vexp(v - shift)); });
    });
    y[o] = float(double(shift) + std::log(s));
  });
}

// ReduceParams::a = p: sum |x| (1), sqrt(sum x^2) (2), max |x| (inf; NaN wins).
void norm_kernel(const KernelArgs& a) {
  const double p = a.p<ReduceParams>().a;
  float* y = f32_ptr(a.out[0]);
  per_slice(a, [&](int64_t o, int64_t, auto slice) {
    if (p == 1 || p == 2) {
      double s = 0;
      slice([&](const float* x, int64_t len, int64_t st) {
        s += p == 1 ? run_sum(x, len, st, [](float v) { return double(std::abs(v)); })
                    : run_sum(x, len, st, [](float v) { return double(v) * double(v); });
      });
      y[o] = float(p == 1 ? s : std::sqrt(s));
      return;
    }
    float m = 0;
    bool nan = false;
    slice([&](const float* x, int64_t len, int64_t st) {
      int64_t nans = 0;
      float mr = 0;
#pragma omp simd reduction(max : mr) reduction(+ : nans)
      for (int64_t i = 0; i < len; ++i) {
        const float v = std::abs(x[i * st]);
        mr = v > mr ? v : mr, nans += v != v;
      }
      m = std::max(m, mr), nan |= nans > 0;
    });
    y[o] = nan ? std::numeric_limits<float>::quiet_NaN() : m;
  });
}

const LoopKernel kTable[] = {
    {"sum", sum_kernel},
    {"max", &extreme_kernel<true>},
    {"min", &extreme_kernel<false>},
    {"var", &moments_kernel<false>},
    {"std", &moments_kernel<true>},
    {"logsumexp", logsumexp_kernel},
    {"norm", norm_kernel},
};
