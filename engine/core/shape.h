// Shapes and strides are plain vectors of int64, in elements, row-major like PyTorch.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace tutor {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
// The strides of a 4-D [N, C, H, W] shape stored as NHWC (PyTorch's channels_last):
// {H*W*C, 1, W*C, C}.
Shape channels_last_strides(const Shape& shape);
// True when the layout covers exactly shape_numel elements, each once: the strides, sorted, are
// the contiguous strides of the sizes permuted alike (PyTorch's is_non_overlapping_and_dense).
bool non_overlapping_and_dense(const Shape& sizes, const Shape& strides);
std::string shape_str(const Shape& shape);  // "[2, 3]"

// Wraps a possibly negative dim into [0, ndim); `op` names the caller in the error message.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
// Wraps and de-duplicates a list of dims; an empty list means "all dims".
std::vector<int64_t> wrap_dims(const std::vector<int64_t>& dims, int64_t ndim, const char* op);

// NumPy broadcasting of two shapes; throws naming `op` and both shapes when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace tutor
