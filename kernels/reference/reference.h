// The reference backend: plain loops in f32 and f64 for every op, written to be obviously right
// rather than fast. Every other backend is checked against it. One registration function per
// op family; each lives beside its kernels.
#pragma once

#include "kernels/registry.h"

namespace tutor::kernels::reference {

void register_elementwise();
void register_reductions();
void register_linalg();
void register_activations();  // softmax, log_softmax
void register_conv_pool();
void register_normalization();
void register_indexing();
void register_losses();
void register_resampling();  // interpolate, pad
void register_attention();   // scaled_dot_product_attention and its backward
void register_fused();       // linear_gelu
void register_optim();       // optimizer updates (sgd_update)


}  // namespace tutor::kernels::reference

// Registers `fn<float>` and `fn<double>` (function templates taking const KernelArgs&).
#define TUTOR_REGISTER_FLOATING(name, fn)                                                    \
  do {                                                                                       \
    ::tutor::kernels::register_kernel(name, ::tutor::kernels::Backend::reference,            \
                                      ::tutor::DType::f32, &fn<float>);                      \
    ::tutor::kernels::register_kernel(name, ::tutor::kernels::Backend::reference,            \
                                      ::tutor::DType::f64, &fn<double>);                     \
  } while (0)
