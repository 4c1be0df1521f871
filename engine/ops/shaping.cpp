#include "engine/ops/shaping.h"

#include "engine/autograd/node.h"
#include "engine/ops/catalog.h"
#include "engine/ops/dispatch.h"
#include "engine/ops/views.h"
#include "kernels/indexing_params.h"

namespace tutor {

using autograd::FunctionNode;
using autograd::needs_grad;
using autograd::record;
using ops::Kernel;

namespace {

// PyTorch lets 1-D empty tensors join a cat of any shape (legacy behaviour); they add nothing.
bool skipped_by_cat(const Tensor& t) { return t.dim() == 1 && t.size(0) == 0; }

// A composite result that may come out as a view of its input (repeat by ones, a roll by zero)
// made a fresh tensor, as PyTorch's always is.
Tensor unaliased(const Tensor& y, const Tensor& x) { return y.shares_storage(x) ? y.clone() : y; }

// tril and triu mask the last two dims; a mask is linear, so dx is the same mask of g.
Tensor triangle(const Kernel& k, const Tensor& x, int64_t diagonal,
                Tensor (*self)(const Tensor&, int64_t)) {
  TUTOR_CHECK(x.defined() && x.dim() >= 2,
              "{}: expects a tensor with at least 2 dims, got shape {}", k.name,
              x.defined() ? shape_str(x.sizes()) : "undefined");
  Tensor y = empty(x.sizes(), x.options());
  kernels::TriangleParams p{diagonal};
  ops::dispatch(k, x.dtype(), {x}, {y}, &p);
  if (needs_grad({x}))
    record(k.name, {x}, {y}, [self, diagonal](const FunctionNode&, const TensorList& g) {
      return TensorList{self(g[0], diagonal)};
    });
  return y;
}

}  // namespace

// y = the tensors joined along dim (torch.cat); dx_i = g.narrow(dim, offset_i, size_i).
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  static const Kernel k("cat");
  TUTOR_CHECK(!tensors.empty(), "cat: expects a non-empty list of tensors");
  std::vector<Tensor> parts;
  std::vector<size_t> from;  // each part's position in `tensors`
  for (size_t i = 0; i < tensors.size(); ++i) {
    TUTOR_CHECK(tensors[i].defined(), "cat: tensor {} is undefined", i);
    if (skipped_by_cat(tensors[i])) continue;
    TUTOR_CHECK(tensors[i].dim() > 0, "cat: tensor {} is 0-dim and cannot be concatenated", i);
    parts.push_back(tensors[i]);
    from.push_back(i);
  }
  if (parts.empty()) return tensors[0].clone();
  const Tensor& first = parts[0];
  int64_t d = wrap_dim(dim, first.dim(), "cat");
  Shape shape = first.sizes();
  shape[size_t(d)] = 0;
  for (size_t j = 0; j < parts.size(); ++j) {
    const Tensor& t = parts[j];
    TUTOR_CHECK(t.dtype() == first.dtype() && t.device() == first.device(),
                "cat: tensor {} is {} on {} (shape {}), but tensor {} is {} on {} (shape {})",
                from[j], t.dtype(), t.device(), shape_str(t.sizes()), from[0], first.dtype(),
                first.device(), shape_str(first.sizes()));
    bool fits = t.dim() == first.dim();
    for (int64_t e = 0; fits && e < t.dim(); ++e) fits = e == d || t.size(e) == first.size(e);
    TUTOR_CHECK(fits,
                "cat: tensor {} of shape {} does not match tensor {} of shape {} outside dim {}",
                from[j], shape_str(t.sizes()), from[0], shape_str(first.sizes()), d);
    shape[size_t(d)] += t.size(d);
  }
  Tensor y = empty(shape, first.options());
  kernels::IndexParams p{d};
  ops::dispatch(k, first.dtype(), std::span<const Tensor>(parts), std::span<Tensor>(&y, 1), &p);
  if (needs_grad(tensors)) {
    std::vector<int64_t> starts(tensors.size(), -1);  // -1: skipped
    int64_t at = 0;
    for (size_t j = 0; j < parts.size(); ++j) {
      starts[from[j]] = at;
      at += parts[j].size(d);
    }
    std::vector<int64_t> lengths;
    for (const Tensor& t : tensors) lengths.push_back(skipped_by_cat(t) ? 0 : t.size(d));
    record("cat", tensors, {y}, [d, starts, lengths](const FunctionNode& n, const TensorList& g) {
      TensorList grads(starts.size());
      for (size_t i = 0; i < starts.size(); ++i) {
        if (!n.needs_input_grad(i)) continue;
        grads[i] =
            starts[i] < 0 ? zeros({0}, g[0].options()) : g[0].narrow(d, starts[i], lengths[i]);
      }
      return grads;
    });
  }
  return y;
}

// y = the tensors, all of one shape, joined along a new dim (torch.stack): a cat of the inputs
// unsqueezed at dim, so dx_i is g.select(dim, i) through the views' own backward.
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  TUTOR_CHECK(!tensors.empty(), "stack: expects a non-empty list of tensors");
  const Tensor& first = tensors[0];
  for (size_t i = 0; i < tensors.size(); ++i) {
    TUTOR_CHECK(tensors[i].defined(), "stack: tensor {} is undefined", i);
    TUTOR_CHECK(tensors[i].sizes() == first.sizes(),
                "stack: tensor {} has shape {}, but tensor 0 has shape {}; stack expects equal "
                "shapes",
                i, shape_str(tensors[i].sizes()), shape_str(first.sizes()));
  }
  int64_t d = wrap_dim(dim, first.dim() + 1, "stack");
  std::vector<Tensor> parts;
  for (const Tensor& t : tensors) parts.push_back(t.unsqueeze(d));
  return cat(parts, d);
}

// Narrow views of x along dim (torch.split), so their gradients come with them. A dim of size 0
// gives one empty piece.
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  TUTOR_CHECK(x.dim() > 0, "split: cannot split a 0-dim tensor");
  int64_t d = wrap_dim(dim, x.dim(), "split");
  int64_t n = x.size(d);
  TUTOR_CHECK(split_size > 0 || (split_size == 0 && n == 0),
              "split: split_size must be positive, got {} for dim {} of size {} (shape {})",
              split_size, d, n, shape_str(x.sizes()));
  if (n == 0) return {x.narrow(d, 0, 0)};
  std::vector<Tensor> pieces;
  for (int64_t start = 0; start < n; start += split_size)
    pieces.push_back(x.narrow(d, start, std::min(split_size, n - start)));
  return pieces;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  TUTOR_CHECK(x.dim() > 0, "split: cannot split a 0-dim tensor");
  int64_t d = wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    TUTOR_CHECK(s >= 0, "split: negative size in {}", shape_str(sizes));
    total += s;
  }
  TUTOR_CHECK(total == x.size(d),
              "split: sizes {} add up to {}, but dim {} of shape {} has size {}", shape_str(sizes),
              total, d, shape_str(x.sizes()), x.size(d));
  std::vector<Tensor> pieces;
  int64_t start = 0;
  for (int64_t s : sizes) {
    pieces.push_back(x.narrow(d, start, s));
    start += s;
  }
  return pieces;
}

// torch.chunk: split by ceil(size / chunks), so possibly fewer than `chunks` pieces; a dim of
// size 0 gives `chunks` empty pieces.
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  TUTOR_CHECK(chunks > 0, "chunk: chunks must be positive, got {}", chunks);
  TUTOR_CHECK(x.dim() > 0, "chunk: cannot chunk a 0-dim tensor");
  int64_t d = wrap_dim(dim, x.dim(), "chunk");
  int64_t n = x.size(d);
  if (n == 0) return split(x, std::vector<int64_t>(size_t(chunks), 0), d);
  return split(x, (n + chunks - 1) / chunks, d);
}

// y[i] = x[i mod x.shape], x's shape padded with leading 1s to repeats' length
// (torch.Tensor.repeat). x viewed as [1, s0, 1, s1, ...], expanded to [r0, s0, r1, s1, ...] and
// packed into [r0 s0, r1 s1, ...]; the backward of expand sums the copies.
Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats) {
  TUTOR_CHECK(int64_t(repeats.size()) >= x.dim(),
              "repeat: {} repeats for a tensor of shape {}; expects at least one per dim",
              repeats.size(), shape_str(x.sizes()));
  const size_t lead = repeats.size() - size_t(x.dim());
  Shape pairs, expanded, shape;
  for (size_t i = 0; i < repeats.size(); ++i) {
    TUTOR_CHECK(repeats[i] >= 0, "repeat: negative count in repeats {}", shape_str(repeats));
    int64_t s = i < lead ? 1 : x.size(int64_t(i - lead));
    pairs.insert(pairs.end(), {1, s});
    expanded.insert(expanded.end(), {repeats[i], s});
    shape.push_back(repeats[i] * s);
  }
  return unaliased(x.reshape(pairs).expand(expanded).reshape(shape), x);
}

// y[..., i, ...] = x[..., i / repeats, ...] along dim (torch.repeat_interleave with an integer
// count); x flattened first when dim is not given. x unsqueezed after dim, expanded to `repeats`
// copies and merged back, so the backward of expand sums the copies.
Tensor repeat_interleave(const Tensor& x, int64_t repeats, std::optional<int64_t> dim) {
  TUTOR_CHECK(repeats >= 0, "repeat_interleave: repeats must be non-negative, got {}", repeats);
  Tensor src = dim && x.dim() > 0 ? x : x.reshape({-1});
  int64_t d = dim ? wrap_dim(*dim, x.dim(), "repeat_interleave") : 0;
  Shape expanded = src.sizes(), shape = src.sizes();
  expanded.insert(expanded.begin() + d + 1, repeats);
  shape[size_t(d)] *= repeats;
  return unaliased(src.unsqueeze(d + 1).expand(expanded).reshape(shape), x);
}

// y[i] = x[i with i_d -> n_d - 1 - i_d for each d in dims] (torch.flip); dx = flip(g, dims).
Tensor flip(const Tensor& x, const std::vector<int64_t>& dims) {
  static const Kernel k("flip");
  kernels::FlipParams p;
  if (!dims.empty()) p.dims = wrap_dims(dims, x.dim(), "flip");
  if (x.dim() == 0) p.dims.clear();
  Tensor y = empty(x.sizes(), x.options());
  ops::dispatch(k, x.dtype(), {x}, {y}, &p);
  if (needs_grad({x}))
    record("flip", {x}, {y}, [flipped = p.dims](const FunctionNode&, const TensorList& g) {
      return TensorList{flip(g[0], flipped)};
    });
  return y;
}

// y[..., i, ...] = x[..., (i - shift) mod n, ...] along each dim in turn (torch.roll); with no
// dims, over the flattened x, reshaped back. dx = roll(g, -shifts, dims).
Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& dims) {
  if (dims.empty()) {
    TUTOR_CHECK(shifts.size() == 1,
                "roll: {} shifts but no dims; without dims one shift rolls the flattened tensor",
                shifts.size());
    return roll(x.reshape({-1}), shifts, {0}).view(x.sizes());
  }
  TUTOR_CHECK(shifts.size() == dims.size(), "roll: {} shifts for {} dims (shifts {}, dims {})",
              shifts.size(), dims.size(), shape_str(shifts), shape_str(dims));
  if (x.dim() == 0) return roll(x.reshape({1}), shifts, dims).reshape({});
  std::vector<int64_t> wrapped, back;
  Tensor y = x.detach();
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], x.dim(), "roll");
    wrapped.push_back(d);
    back.push_back(-shifts[i]);
    int64_t n = y.size(d);
    if (n == 0) continue;
    int64_t s = (shifts[i] % n + n) % n;
    if (s != 0) y = cat({y.narrow(d, n - s, s), y.narrow(d, 0, n - s)}, d);
  }
  y = unaliased(y, x);
  if (needs_grad({x}))
    record("roll", {x}, {y}, [back, wrapped](const FunctionNode&, const TensorList& g) {
      return TensorList{roll(g[0], back, wrapped)};
    });
  return y;
}

// y[..., i, j] = x[..., i, j] where j - i <= diagonal, else 0 (torch.tril); dx = tril(g).
Tensor tril(const Tensor& x, int64_t diagonal) {
  static const Kernel k("tril");
  return triangle(k, x, diagonal, &tril);
}

// y[..., i, j] = x[..., i, j] where j - i >= diagonal, else 0 (torch.triu); dx = triu(g).
Tensor triu(const Tensor& x, int64_t diagonal) {
  static const Kernel k("triu");
  return triangle(k, x, diagonal, &triu);
}

void ops::add_shaping_ops(std::vector<OpInfo>& ops) {
  const std::vector<DType> any = {DType::f32, DType::f64, DType::i64, DType::b8};
  for (const char* name : {"cat", "flip", "tril", "triu"}) ops.push_back({name, true, {name}, any});
  for (const char* name : {"stack", "split", "chunk", "repeat", "repeat_interleave", "roll"})
    ops.push_back({name, true, {}});
}

}  // namespace tutor
