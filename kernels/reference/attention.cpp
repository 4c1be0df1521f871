// Reference scaled_dot_product_attention forward and backward (the contract and formulas are in
// kernels/attention_params.h): one query row at a time, its scores over every key held in a
// vector, every sum in double.
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/attention_params.h"
#include "kernels/reference/loops.h"
#include "kernels/reference/reference.h"

namespace tutor::kernels::reference {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Element (r, c) of matrix b of a [B.., R, C] tensor, read through its strides.
template <class T>
struct Matrix {
  const T* data = nullptr;
  std::vector<int64_t> offsets;
  int64_t row_stride = 0, col_stride = 0;

  explicit Matrix(const Tensor& t) {
    if (!t.defined()) return;
    data = base<T>(t);
    offsets = batch_offsets(t);
    row_stride = t.strides()[t.dim() - 2];
    col_stride = t.strides()[t.dim() - 1];
  }
  double operator()(int64_t b, int64_t r, int64_t c) const {
    return double(data[offsets[size_t(b)] + r * row_stride + c * col_stride]);
  }
};

// The scores s_j of query row i of batch element b over every key: scale q_i . k_j plus the mask.
template <class T>
struct Scores {
  Matrix<T> q, k;
  Matrix<bool> keep;  // a bool mask
  Matrix<T> add;      // an additive mask
  AttentionParams p;

  explicit Scores(const KernelArgs& a)
      : q(a.in[0]),
        k(a.in[1]),
        keep(is_bool(a.in[3]) ? a.in[3] : Tensor()),
        add(a.in[3].defined() && !is_bool(a.in[3]) ? a.in[3] : Tensor()),
        p(a.p<AttentionParams>()),
        keys_(a.in[1].size(-2)),
        e_(a.in[0].size(-1)) {}

  void operator()(int64_t b, int64_t i, std::vector<double>& s) const {
    s.assign(size_t(keys_), 0.0);
    for (int64_t j = 0; j < keys_; ++j) {
      double dot = 0;
      for (int64_t c = 0; c < e_; ++c) dot += q(b, i, c) * k(b, j, c);
      double x = p.scale * dot;
      if (keep.data && keep(b, i, j) == 0) x = -kInf;
      if (add.data) x += add(b, i, j);
      if (p.is_causal && j > i) x = -kInf;
      s[size_t(j)] = x;
    }
  }

 private:
  static bool is_bool(const Tensor& t) { return t.defined() && t.dtype() == DType::b8; }
  int64_t keys_, e_;
};

int64_t batch_count(const Tensor& t) {
  int64_t n = 1;
  for (int64_t d = 0; d + 2 < t.dim(); ++d) n *= t.size(d);
  return n;
}

template <class T>
void attention_kernel(const KernelArgs& a) {
  const Tensor &q = a.in[0], &v = a.in[2];
  const int64_t batch = batch_count(q), l = q.size(-2), s_len = v.size(-2), ev = v.size(-1);
  Matrix<T> vm(v);
  T* out = a.out[0].data<T>();
  T* lse = a.out[1].data<T>();
  const Scores<T> scores(a);
  std::vector<double> s, row(static_cast<size_t>(ev));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < l; ++i) {
      scores(b, i, s);
      double m = -kInf;
      for (double x : s) m = std::max(m, x);
      T* o = out + (b * l + i) * ev;
      if (m == -kInf) {  // every key masked (or none): a zero row
        for (int64_t c = 0; c < ev; ++c) o[c] = 0;
        lse[b * l + i] = T(-kInf);
        continue;
      }
      double total = 0;
      std::fill(row.begin(), row.end(), 0.0);
      for (int64_t j = 0; j < s_len; ++j) {
        const double w = std::exp(s[size_t(j)] - m);
        total += w;
        for (int64_t c = 0; c < ev; ++c) row[size_t(c)] += w * vm(b, j, c);
      }
      for (int64_t c = 0; c < ev; ++c) o[c] = T(row[size_t(c)] / total);
      lse[b * l + i] = T(m + std::log(total));
    }
}

template <class T>
void attention_backward_kernel(const KernelArgs& a) {
  const auto& p = a.p<AttentionParams>();
  const Tensor &q = a.in[0], &k = a.in[1], &v = a.in[2];
  const int64_t batch = batch_count(q), l = q.size(-2), s_len = k.size(-2), e = q.size(-1),
                ev = v.size(-1);
  Matrix<T> qm(q), km(k), vm(v), om(a.in[4]), dom(a.in[5]);
  const T* lse = a.in[6].data<T>();
  T *dq = a.out[0].data<T>(), *dk = a.out[1].data<T>(), *dv = a.out[2].data<T>();
  const Scores<T> scores(a);
  std::vector<double> s, dq_row(static_cast<size_t>(e)), dk_acc(static_cast<size_t>(s_len * e)),
      dv_acc(static_cast<size_t>(s_len * ev));
  for (int64_t b = 0; b < batch; ++b) {
    std::fill(dk_acc.begin(), dk_acc.end(), 0.0);
    std::fill(dv_acc.begin(), dv_acc.end(), 0.0);
    for (int64_t i = 0; i < l; ++i) {
      std::fill(dq_row.begin(), dq_row.end(), 0.0);
      const double lse_i = double(lse[b * l + i]);
      if (lse_i != -kInf) {
        scores(b, i, s);
        double d = 0;
        for (int64_t c = 0; c < ev; ++c) d += dom(b, i, c) * om(b, i, c);
        for (int64_t j = 0; j < s_len; ++j) {
          const double pij = std::exp(s[size_t(j)] - lse_i);
          double dp = 0;
          for (int64_t c = 0; c < ev; ++c) {
            dp += dom(b, i, c) * vm(b, j, c);
            dv_acc[size_t(j * ev + c)] += pij * dom(b, i, c);
          }
          const double ds = pij * (dp - d) * p.scale;
          for (int64_t c = 0; c < e; ++c) {
            dq_row[size_t(c)] += ds * km(b, j, c);
            dk_acc[size_t(j * e + c)] += ds * qm(b, i, c);
          }
        }
      }
      for (int64_t c = 0; c < e; ++c) dq[(b * l + i) * e + c] = T(dq_row[size_t(c)]);
    }
    for (int64_t x = 0; x < s_len * e; ++x) dk[b * s_len * e + x] = T(dk_acc[size_t(x)]);
    for (int64_t x = 0; x < s_len * ev; ++x) dv[b * s_len * ev + x] = T(dv_acc[size_t(x)]);
  }
}

}  // namespace

void register_attention() {
  TUTOR_REGISTER_FLOATING("scaled_dot_product_attention", attention_kernel);
  TUTOR_REGISTER_FLOATING("scaled_dot_product_attention_backward", attention_backward_kernel);
}

}  // namespace tutor::kernels::reference
