// The offline category cost matrix of WKD-L (Lv, Yang, Li, NeurIPS 2024; JiamingLv/WKD
// tools/generate_cost_matrix.py and the sharpening in mdistiller/distillers/WKD.py):
//
//   X_i = features of class i, centered over its samples                       [N, D]
//   CKA(X, Y) = ||Y^T X||_F^2 / (||X^T X||_F * ||Y^T Y||_F)                    (linear CKA)
//   M_ij = 1 - CKA(X_i, X_j);  with sharpen = kappa != 0:  M <- 1 - exp(-kappa * M)
//
// The result is what the wkd_l objective reads as its `cost_matrix` input (it applies the
// reference's relu(M) + 1e-8 itself). The WKD CIFAR setting uses kappa = 1 on features from every
// spatial position of the teacher's last stage; ImageNet uses teacher logits.
#pragma once

#include "engine/core/tensor.h"

namespace tutor::distill {

// The class features the CKA reads, from per-sample features [S, D] (ImageNet: teacher logits) or
// feature maps [S, D, H, W] (CIFAR: every spatial position is a sample of D features): for each
// class c < num_classes, the first `per_class` samples s (in order) with labels[s] == c, their
// positions after them -> [C, per_class * H * W, D]. An Error names a class with fewer samples.
Tensor gather_class_features(const Tensor& features, const Tensor& labels, int64_t num_classes,
                             int64_t per_class);

// class_features: [C, N, D] floating, N samples of D features for each of C classes.
// Returns the symmetric [C, C] cost matrix in the features' dtype.
Tensor cka_cost_matrix(const Tensor& class_features, double sharpen = 1.0);

}  // namespace tutor::distill
