// The CPU backend's vectorized, OpenMP-parallel loops for the memory-bound f32 ops: element-wise
// arithmetic, comparisons and activations, reductions, the softmax family, losses, gather and
// index_select. Each kernel has the name and the contract of its reference kernel
// (kernels/reference), so it replaces it transparently.
#pragma once

namespace tutor::kernels::cpu {

// Registers every loop kernel as Backend::cpu, DType::f32. Called once by ensure_registered.
void register_loops();

// One registration function per file (loops_elementwise.cpp, loops_reductions.cpp, ...).
void register_elementwise_loops();
void register_reduction_loops();
void register_softmax_loops();
void register_loss_loops();
void register_indexing_loops();
void register_distance_loops();

}  // namespace tutor::kernels::cpu
