// The body of loops_losses.cpp, compiled once per ISA (loops_isa.h): no include guard, no
// includes.

// The packed inputs of a cross_entropy kernel, from in[first] on: input, target, weight.
struct CeInputs {
  Tensor input, target, weight;
  int64_t n, c, inner = 1;
  const float* w = nullptr;
  const int64_t* index_ptr = nullptr;  // class targets
  double w_total;                      // sum_c w_c (C without weights)

  CeInputs(std::span<const Tensor> in, size_t first, const ClassLossParams& p)
      : input(in[first].contiguous_raw()),
        target(in[first + 1].contiguous_raw()),
        weight(in[first + 2].defined() ? in[first + 2].contiguous_raw() : Tensor()),
        n(input.size(0)),
        c(input.size(1)) {
    for (int64_t d = 2; d < input.dim(); ++d) inner *= input.size(d);
    if (weight.defined()) w = f32_ptr(weight);
    if (!p.prob_target)
      index_ptr = target.data<int64_t>();  // may throw: not inside a parallel loop
    w_total = double(c);
    if (w) {
      w_total = 0;
      for (int64_t k = 0; k < c; ++k) w_total += double(w[k]);
    }
    if (!p.prob_target) check_targets(p);
  }

  // Before any parallel loop: a bad class index throws here, with the reference's message.
  void check_targets(const ClassLossParams& p) const {
    const int64_t* y = target.data<int64_t>();
    for (int64_t i = 0; i < n * inner; ++i)
      TUTOR_CHECK(y[i] == p.ignore_index || (y[i] >= 0 && y[i] < c),
                  "{}: target class index {} is out of range for {} classes", p.op, y[i], c);
  }
  float weight_of(int64_t k) const { return w ? w[k] : 1.0f; }
  const float* probs() const { return f32_ptr(target); }
  const int64_t* indices() const { return index_ptr; }
};

// Calls f(weight) with weight(k) = w_k, or the constant 1 without weights: the class loops get
// no per-element branch and vectorize.
template <class F>
void with_weight(const CeInputs& in, F f) {
  if (in.w)
    f([w = in.w](int64_t k) { return w[k]; });
  else
    f([](int64_t) { return 1.0f; });
}

// lse of one row.
template <bool Unit>
float row_lse(const Row<Unit>& r, const float* x, int64_t c) {
  const float m = row_max(r, x, c);
  return m + float(std::log(row_sum_exp(r, x, c, m)));
}

// The loss of one row with target class y (not ignored).
template <bool Unit>
double index_row_loss(const Row<Unit>& r, const float* x, const CeInputs& in, int64_t y,
                      double eps) {
  const float lse = row_lse(r, x, in.c);
  double l = (1 - eps) * double(in.weight_of(y)) * double(lse - x[r(y)]);
  if (eps != 0) {
    const double wx = in.w ? chunked_sum(in.c, [&](int64_t k) { return in.w[k] * x[r(k)]; })
                           : chunked_sum(in.c, [&](int64_t k) { return x[r(k)]; });
    l += eps / double(in.c) * (double(lse) * in.w_total - wx);
  }
  return l;
}

// The loss of one row against target probabilities t (a row at the same stride).
template <bool Unit, class W>
double prob_row_loss(const Row<Unit>& r, const float* x, const float* t, int64_t c, W weight,
                     double eps) {
  const float lse = row_lse(r, x, c);
  const float keep = float(1 - eps), spread = float(eps / double(c));
  return chunked_sum(
      c, [&](int64_t k) { return weight(k) * (keep * t[r(k)] + spread) * (lse - x[r(k)]); });
}

void cross_entropy_kernel(const KernelArgs& a) {
  const auto& p = a.p<ClassLossParams>();
  const CeInputs in(a.in, 0, p);
  const float* x = f32_ptr(in.input);
  float* loss = f32_ptr(a.out[0]);
  const int64_t rows = in.n * in.inner;
  with_weight(in, [&](auto weight) {
    for_each_row({in.n, in.c, in.inner}, 1, [&](int64_t row, int64_t start, int64_t c, int64_t st) {
      auto run = [&](auto r) {
        if (p.prob_target) {
          loss[row] =
              float(prob_row_loss(r, x + start, in.probs() + start, c, weight, p.label_smoothing));
          return;
        }
        const int64_t y = in.indices()[row];
        loss[row] = y == p.ignore_index
                        ? 0.0f
                        : float(index_row_loss(r, x + start, in, y, p.label_smoothing));
      };
      if (st == 1)
        run(Row<true>{1});
      else
        run(Row<false>{st});
    });
  });
  double total = double(rows);
  if (!p.prob_target) {
    total = 0;
    const int64_t* y = in.indices();
    for (int64_t i = 0; i < rows; ++i)
      if (y[i] != p.ignore_index) total += double(in.weight_of(y[i]));
  }
  f32_ptr(a.out[1])[0] = float(total);
}

// gx_c = g (p_c mass - a_c) for one row; with probabilities also gt_c = -g (1 - eps) w_c log p_c.
template <bool Unit, class W>
void backward_row(const Row<Unit>& r, const float* x, const CeInputs& in, W weight,
                  const ClassLossParams& p, int64_t row, int64_t start, float g, float* gx,
                  float* gt) {
  const int64_t c = in.c;
  const double eps = p.label_smoothing;
  const float spread = float(eps / double(c)), keep = float(1 - eps);
  x += start, gx += start;
  if (!p.prob_target) {
    const int64_t y = in.indices()[row];
    if (y == p.ignore_index) {
      for (int64_t k = 0; k < c; ++k) gx[r(k)] = 0;
      return;
    }
    const float lse = row_lse(r, x, c);
    const float wy = in.weight_of(y);
    const float mass = float((1 - eps) * double(wy) + eps / double(c) * in.w_total);
#pragma omp simd
    for (int64_t k = 0; k < c; ++k)
      gx[r(k)] = g * (vexp(x[r(k)] - lse) * mass - spread * weight(k));
    gx[r(y)] -= g * keep * wy;
    return;
  }
  const float* t = in.probs() + start;
  const float lse = row_lse(r, x, c);
  const float massf =
      float(chunked_sum(c, [&](int64_t k) { return weight(k) * (keep * t[r(k)] + spread); }));
#pragma omp simd
  for (int64_t k = 0; k < c; ++k) {
    const float ak = weight(k) * (keep * t[r(k)] + spread);
    gx[r(k)] = g * (vexp(x[r(k)] - lse) * massf - ak);
  }
  if (gt) {
    gt += start;
#pragma omp simd
    for (int64_t k = 0; k < c; ++k) gt[r(k)] = -g * keep * weight(k) * (x[r(k)] - lse);
  }
}

// in: g [N, inner], input, target, weight; out: grad input[, grad target (probabilities)].
void cross_entropy_backward_kernel(const KernelArgs& a) {
  const auto& p = a.p<ClassLossParams>();
  const Tensor g = a.in[0].contiguous_raw();
  const CeInputs in(a.in, 1, p);
  const float* x = f32_ptr(in.input);
  const float* gp = f32_ptr(g);
  float* gx = f32_ptr(a.out[0]);
  float* gt = a.out.size() > 1 && a.out[1].defined() ? f32_ptr(a.out[1]) : nullptr;
  with_weight(in, [&](auto weight) {
    for_each_row({in.n, in.c, in.inner}, 1, [&](int64_t row, int64_t start, int64_t, int64_t st) {
      if (st == 1)
        backward_row(Row<true>{1}, x, in, weight, p, row, start, gp[row], gx, gt);
      else
        backward_row(Row<false>{st}, x, in, weight, p, row, start, gp[row], gx, gt);
    });
  });
}

const LoopKernel kTable[] = {
    {"cross_entropy", cross_entropy_kernel},
    {"cross_entropy_backward", cross_entropy_backward_kernel},
};
