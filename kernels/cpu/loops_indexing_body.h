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

const LoopKernel kTable[] = {
    {"gather", gather_kernel},
    {"index_select", index_select_kernel},
};
