// The CPU backend: oneDNN primitives (through the adapter in onednn.h) registered as
// Backend::cpu for f32 and bf16, OpenMP loops (norms, pooling) and Eigen (Cholesky) for f32. Ops
// without a cpu kernel, and f64, use the reference backend.
#pragma once

namespace tutor::kernels::cpu {

void register_kernels();  // every family below

void register_matmul();
void register_conv();
void register_normalization();  // OpenMP loops: batch_norm(_relu), layer_norm, group_norm
void register_pooling();        // OpenMP loops: max, avg and adaptive pooling
void register_attention();      // blocked scaled_dot_product_attention (attention.cpp)
void register_linalg();         // Eigen: cholesky, cholesky_inverse (linalg.cpp)
void register_bf16_via_f32();   // bf16 softmax family and norms through their f32 loop kernels
void register_optim();          // optimizer updates (sgd_update)

}  // namespace tutor::kernels::cpu
