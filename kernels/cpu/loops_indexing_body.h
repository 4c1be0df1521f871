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

// The 0-d or 1-D index as an index of the output's shape that varies only along dim.
void index_select_kernel(const KernelArgs& a) {
  const int64_t dim = a.p<IndexParams>().dim;
  const Tensor& index = a.in[1];
  const Shape& shape = a.out[0].sizes();
  Shape st(shape.size(), 0);
  st[size_t(dim)] = index.dim() == 0 ? 0 : index.stride(0);
  gather_into(a.in[0], dim, index.as_strided_raw(shape, st, index.offset()), a.out[0]);
}

// ---- cat and constant pad: strided copies (and a fill) through elementwise(), so each part
// is copied in parallel, as contiguous runs where the layouts allow.

// dst = src, one shape, any strides.
void copy_into(const Tensor& src, const Tensor& dst) {
  const Tensor in[] = {src};
  Tensor out[] = {dst};
  elementwise<float, float>(KernelArgs{in, out, nullptr}, [](float x) { return x; });
}

// Each input copied into its slab of the output along dim.
void cat_kernel(const KernelArgs& a) {
  const Tensor& out = a.out[0];
  const int64_t dim = a.p<IndexParams>().dim;
  int64_t at = 0;
  for (const Tensor& t : a.in) {
    copy_into(t, out.as_strided_raw(t.sizes(), out.strides(), out.offset() + at * out.stride(dim)));
    at += t.size(dim);
  }
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
    {"cat", cat_kernel},
    {"pad", pad_kernel},
};
