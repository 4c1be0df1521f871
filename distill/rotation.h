// The rotation batch of SSKD (Xu et al. 2020; xuguodong03/SSKD cifar.py): every image followed by
// its rotations by 90, 180 and 270 degrees counter-clockwise (np.rot90 / torch.rot90 over the two
// spatial axes), interleaved so that row 4i is image i and rows 4i+1..4i+3 its rotations.
#pragma once

#include "engine/core/tensor.h"

namespace tutor::distill {

// images [N, C, H, H] (square) -> [4N, C, H, H].
Tensor rotation_batch(const Tensor& images);

// For features [4n, D] of a rotation batch: S [3n, n] with S[r, j] = cos(f_aug_r, f_normal_j),
// aug rows being the rows not divisible by 4 in order, normal rows 4j (torchdistill
// SSKDLoss.compute_cosine_similarities, eps 1e-8). Aug row r's own image is r / 3.
Tensor rotation_similarities(const Tensor& features);

}  // namespace tutor::distill
