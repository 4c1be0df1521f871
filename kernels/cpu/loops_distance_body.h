// The body of loops_distance.cpp, compiled once per ISA (loops_isa.h): no include guard, no
// includes.

// The operands of cdist as packed f32 blocks.
struct DistanceArgs {
  Tensor x1, x2;  // [B, P, M], [B, R, M], packed
  int64_t B, P, R, M;
  bool l1;  // p = 1, else p = 2

  DistanceArgs(const Tensor& a, const Tensor& b, const DimNormParams& prm)
      : x1(a.contiguous_raw()),
        x2(b.contiguous_raw()),
        B(a.size(0)),
        P(a.size(1)),
        R(b.size(1)),
        M(a.size(2)),
        l1(prm.p == 1) {}
};

// d[b, i, r] for every pair, into d (B * P * R floats).
template <bool L1>
void distances(const DistanceArgs& s, float* d) {
  const Tensor x2t = s.x2.transpose(1, 2).contiguous_raw();  // [B, M, R]
  const float* x1 = f32_ptr(s.x1);
  const float* w = f32_ptr(x2t);
  const int64_t P = s.P, R = s.R, M = s.M;
  parallel_range(s.B * P, R * M, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const float* u = x1 + row * M;
      const float* wb = w + (row / P) * M * R;
      float* dr = d + row * R;
      std::fill_n(dr, R, 0.f);
      for (int64_t m = 0; m < M; ++m) {
        const float um = u[m];
        const float* wm = wb + m * R;
#pragma omp simd
        for (int64_t r = 0; r < R; ++r) {
          const float t = um - wm[r];
          dr[r] += L1 ? std::abs(t) : t * t;
        }
      }
      if (!L1) {
#pragma omp simd
        for (int64_t r = 0; r < R; ++r) dr[r] = std::sqrt(dr[r]);
      }
    }
  });
}

void cdist_kernel(const KernelArgs& a) {
  const DistanceArgs s(a.in[0], a.in[1], a.p<DimNormParams>());
  s.l1 ? distances<true>(s, f32_ptr(a.out[0])) : distances<false>(s, f32_ptr(a.out[0]));
}

// out[row] += sign * sum_k c(k) f(x[row] - y[k]) over the rows k of `other` (K of them, c(k) =
// coef[k * coef_stride]), f = sign (L1) or the identity; x - y is taken as x1 - x2 whichever
// side `out` belongs to, so `flip` (out is dx2) negates.
template <bool L1, bool Flip>
void row_gradient(const float* x, const float* other, const float* coef, int64_t coef_stride,
                  int64_t K, int64_t M, float* out) {
  std::fill_n(out, M, 0.f);
  for (int64_t k = 0; k < K; ++k) {
    const float c = coef[k * coef_stride];
    const float* y = other + k * M;
#pragma omp simd
    for (int64_t m = 0; m < M; ++m) {
      const float diff = Flip ? y[m] - x[m] : x[m] - y[m];
      const float dd = L1 ? float((diff > 0) - (diff < 0)) : diff;
      out[m] += Flip ? -c * dd : c * dd;
    }
  }
}

// in: g [B, P, R], x1, x2; out: dx1 [B, P, M], dx2 [B, R, M]. coef = g (p = 1) or g / d (p = 2,
// 0 where d = 0), then dx1[i] = sum_r coef[i, r] f(x1[i] - x2[r]) and
// dx2[r] = -sum_i coef[i, r] f(x1[i] - x2[r]), i and r in increasing order (the reference's).
template <bool L1>
void cdist_backward(const KernelArgs& a, const DistanceArgs& s) {
  const Tensor g = a.in[0].contiguous_raw();
  const int64_t B = s.B, P = s.P, R = s.R, M = s.M;
  std::vector<float> coef(size_t(B * P * R));
  const float* gp = f32_ptr(g);
  if (L1) {
    std::copy_n(gp, coef.size(), coef.data());
  } else {
    distances<false>(s, coef.data());
    parallel_range(int64_t(coef.size()), 1, [&](int64_t begin, int64_t end) {
#pragma omp simd
      for (int64_t k = begin; k < end; ++k)
        coef[size_t(k)] = coef[size_t(k)] > 0 ? gp[k] / coef[size_t(k)] : 0.f;
    });
  }
  const float* x1 = f32_ptr(s.x1);
  const float* x2 = f32_ptr(s.x2);
  float* dx1 = f32_ptr(a.out[0]);
  float* dx2 = f32_ptr(a.out[1]);
  parallel_range(B * P, R * M, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row)
      row_gradient<L1, false>(x1 + row * M, x2 + (row / P) * R * M, coef.data() + row * R, 1, R, M,
                              dx1 + row * M);
  });
  parallel_range(B * R, P * M, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t b = row / R, r = row % R;
      row_gradient<L1, true>(x2 + row * M, x1 + b * P * M, coef.data() + b * P * R + r, R, P, M,
                             dx2 + row * M);
    }
  });
}

void cdist_backward_kernel(const KernelArgs& a) {
  const DistanceArgs s(a.in[1], a.in[2], a.p<DimNormParams>());
  s.l1 ? cdist_backward<true>(a, s) : cdist_backward<false>(a, s);
}

const LoopKernel kTable[] = {
    {"cdist", cdist_kernel},
    {"cdist_backward", cdist_backward_kernel},
};
