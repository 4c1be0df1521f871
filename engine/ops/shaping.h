// Ops that rearrange whole tensors with PyTorch semantics: joining, splitting, tiling, flipping,
// rolling and triangular masks. Formulas and derivatives are in shaping.cpp.
#pragma once

#include <optional>
#include <vector>

#include "engine/core/tensor.h"

namespace tutor {

// Joins along an existing dim; shapes must agree elsewhere. 1-D empty tensors are skipped.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Joins tensors of one shape along a new dim.
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// Views (narrows) of consecutive pieces along dim: of split_size each (the last may be smaller),
// or of the given sizes, which must add up to the dim's size.
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
// At most `chunks` views of ceil(size / chunks) along dim.
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
// Tiles x repeats[i] times along dim i (torch.Tensor.repeat); repeats may add leading dims.
Tensor repeat(const Tensor& x, const std::vector<int64_t>& repeats);
// Repeats each element `repeats` times in a row along dim; over the flattened x without dim.
Tensor repeat_interleave(const Tensor& x, int64_t repeats, std::optional<int64_t> dim = {});
// Reverses the order along each of dims.
Tensor flip(const Tensor& x, const std::vector<int64_t>& dims);
// Shifts cyclically by shifts[i] along dims[i]; with no dims, one shift over the flattened x.
Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts,
            const std::vector<int64_t>& dims = {});
// Zeroes the elements above (tril) or below (triu) the given diagonal of the last two dims.
Tensor tril(const Tensor& x, int64_t diagonal = 0);
Tensor triu(const Tensor& x, int64_t diagonal = 0);

}  // namespace tutor
