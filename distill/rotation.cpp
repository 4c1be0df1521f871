#include "distill/rotation.h"

#include "engine/core/error.h"
#include "engine/ops/ops.h"

namespace tutor::distill {

Tensor rotation_batch(const Tensor& images) {
  TUTOR_CHECK(images.dim() == 4 && images.size(2) == images.size(3),
              "rotation_batch: images must be [N, C, H, H] (square), got {}", images.sizes());
  // torch.rot90(x, k, [2, 3]): k = 1 is flip(W) then swap H and W; k = 3 is flip(H) then swap.
  Tensor r90 = flip(images, {3}).transpose(2, 3);
  Tensor r180 = flip(images, {2, 3});
  Tensor r270 = flip(images, {2}).transpose(2, 3);
  Tensor s = stack({images, r90, r180, r270}, 1);
  return s.reshape({4 * images.size(0), images.size(1), images.size(2), images.size(3)});
}

Tensor rotation_similarities(const Tensor& features) {
  TUTOR_CHECK(features.dim() == 2 && features.size(0) >= 4 && features.size(0) % 4 == 0,
              "rotation_similarities: features must be [4n, D], got {}", features.sizes());
  const int64_t B = features.size(0);
  Tensor rows = features.reshape({B / 4, 4, features.size(1)});
  Tensor normal = rows.select(1, 0);                                          // [n, D]
  Tensor aug = rows.narrow(1, 1, 3).reshape({3 * (B / 4), features.size(1)});  // [3n, D]
  return cosine_similarity(aug.unsqueeze(1), normal.unsqueeze(0), 2);
}

}  // namespace tutor::distill
