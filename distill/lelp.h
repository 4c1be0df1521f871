// LELP's offline step (Loo, Iliopoulos, Hu, Vee 2024, "Linear Projections of Teacher Embeddings
// for Few-Class Distillation", arXiv 2409.20449; objectives.md §2.14, [unverified]: no public
// code; the paper's recipe as the catalog summarizes it, with the assumptions stated here).
//
// From teacher embeddings h (the input of its final linear layer, [N, D]), their labels and the
// teacher classifier weight W [C, D]:
//   P      = I - pinv(W) W                   projector onto the null space of W (what the
//                                            teacher's logits cannot see)
//   per class c, on the projected embeddings u = P h of its samples:
//   mu_c   = mean of u
//   v_c,j  = the k leading eigenvectors of the covariance (unbiased, / (n_c - 1)) of u, sign
//            fixed so that the component of largest magnitude is positive
//   s_c,j  = sqrt of the eigenvalues, at least 1e-6 (scores are standardized by them)
// and then, for a sample with teacher logits z and embedding h, the C*k pseudo-subclass logits
//   z_(c,j) = z_c + log_softmax_j( <v_c,j, P h - mu_c> / s_c,j )          (column c*k + j)
// (assumption: the split keeps the teacher's class probabilities at T = 1, since
// sum_j exp(z_(c,j)) = exp(z_c); the sample's standardized coordinates along class c's principal
// null-space directions decide how class c's mass is shared among its k pseudo-subclasses).
#pragma once

#include <cstdint>
#include <string>

#include "engine/core/tensor.h"

namespace tutor::distill {

struct LelpProjection {
  Tensor null_projector;  // P [D, D]
  Tensor means;           // mu [C, D]
  Tensor directions;      // v [C, k, D]
  Tensor scales;          // s [C, k]
};

// Fits the projection (f64 results; needs at least 2 samples of every class and k <= D).
// Errors name lelp_fit and the shapes.
LelpProjection lelp_fit(const Tensor& embeddings, const Tensor& labels,
                        const Tensor& classifier_weight, int64_t k);

// The teacher's C*k pseudo-subclass logits [B, C*k] from its logits [B, C] and embeddings
// [B, D]; a constant (no gradient).
Tensor lelp_subclass_logits(const LelpProjection& projection, const Tensor& teacher_logits,
                            const Tensor& embeddings);

// Class logits [B, C] of a C*k-way subclass head [B, C*k] (column c*k + j):
// logsumexp_j z_(c,j), whose softmax sums each class's subclass probabilities (Subclass
// Distillation, Mueller et al. 2020); the logits themselves when k = 1.
Tensor class_logits_of_subclasses(const Tensor& logits, int64_t k);

// The projection as a safetensors file with tensors null_projector, means, directions, scales
// (the buffer names of the "lelp" objective, which loads such a file with projection=<path>).
void save_lelp_projection(const std::string& path, const LelpProjection& projection);
LelpProjection load_lelp_projection(const std::string& path);

}  // namespace tutor::distill
