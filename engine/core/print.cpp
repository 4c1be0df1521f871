// PyTorch-style printing: tensor([[1.0000, 2.0000], ...], dtype=f64, requires_grad=True).
// Floats print with 4 decimals, or in scientific notation when the magnitudes span more than
// 1e3 or exceed 1e8 (PyTorch's rule); more than 1000 elements are summarized with "...".
#include <cmath>
#include <ostream>
#include <sstream>

#include "engine/core/tensor.h"

namespace tutor {

namespace {

struct Style {
  bool floating = false, scientific = false, integral_floats = false;
};

Style choose_style(const Tensor& t, const std::vector<double>& values) {
  Style s;
  s.floating = t.is_floating_point();
  if (!s.floating) return s;
  double lo = INFINITY, hi = 0;
  bool all_integral = true;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    double a = std::fabs(v);
    if (a != 0) lo = std::min(lo, a), hi = std::max(hi, a);
    all_integral = all_integral && v == std::nearbyint(v);
  }
  s.integral_floats = all_integral && hi < 1e8;
  s.scientific = hi > 0 && (hi / lo > 1e3 || hi >= 1e8 || lo < 1e-4) && !s.integral_floats;
  return s;
}

std::string format_value(double v, const Style& s, DType dtype) {
  if (dtype == DType::b8) return v != 0 ? "True" : "False";
  if (!s.floating) return fmt::format("{}", int64_t(v));
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (s.integral_floats) return fmt::format("{:.0f}.", v);
  if (s.scientific) return fmt::format("{:.4e}", v);
  return fmt::format("{:.4f}", v);
}

void print_dim(std::ostream& os, const Tensor& t, const std::vector<double>& values,
               const Style& style, size_t width, int64_t dim, int64_t base, int indent,
               bool summarize) {
  int64_t n = t.size(dim);
  int64_t block = 1;
  for (int64_t d = dim + 1; d < t.dim(); ++d) block *= t.size(d);
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 6 && i == 3) {
      os << "...";
      i = n - 3;
      os << (dim + 1 == t.dim() ? ", " : ",\n" + std::string(size_t(indent + 1), ' '));
    }
    if (dim + 1 == t.dim()) {
      std::string v = format_value(values[size_t(base + i)], style, t.dtype());
      os << std::string(width - std::min(width, v.size()), ' ') << v;
    } else {
      print_dim(os, t, values, style, width, dim + 1, base + i * block, indent + 1, summarize);
    }
    if (i + 1 < n) {
      if (dim + 1 == t.dim()) os << ", ";
      else os << ',' << std::string(size_t(t.dim() - dim - 1), '\n') << std::string(size_t(indent + 1), ' ');
    }
  }
  os << ']';
}

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream os;
  std::vector<double> values = to_vector<double>();
  Style style = choose_style(*this, values);
  size_t width = 0;
  for (double v : values) width = std::max(width, format_value(v, style, dtype()).size());
  os << "tensor(";
  if (dim() == 0) {
    os << format_value(values[0], style, dtype());
  } else {
    print_dim(os, *this, values, style, width, 0, 0, 7, numel() > 1000);
  }
  if (dtype() != DType::f32 && dtype() != DType::i64 && dtype() != DType::b8)
    os << ", dtype=" << dtype_name(dtype());
  if (!device().is_cpu()) os << ", device=" << device().str();
  if (grad_fn()) os << ", grad_fn";
  else if (requires_grad()) os << ", requires_grad=True";
  os << ')';
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace tutor
