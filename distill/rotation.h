// The rotation batch of SSKD (Xu et al. 2020; xuguodong03/SSKD cifar.py): every image followed by
// its rotations by 90, 180 and 270 degrees counter-clockwise (np.rot90 / torch.rot90 over the two
// spatial axes), interleaved so that row 4i is image i and rows 4i+1..4i+3 its rotations.
#pragma once

#include "engine/core/tensor.h"

namespace tutor::distill {

// images [N, C, H, H] (square) -> [4N, C, H, H].
Tensor rotation_batch(const Tensor& images);

}  // namespace tutor::distill
