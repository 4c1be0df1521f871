// The CPU backend's thread count. oneDNN here is built on the OpenMP runtime (libgomp), the same
// one tutor's own loops use, so one setting governs both and they never run on top of each other:
// nested parallel regions are disabled, and a kernel called from inside a parallel region runs on
// the calling thread alone.
#pragma once

#include <string_view>

namespace tutor::kernels::cpu {

// Threads used by every CPU kernel: set_num_threads(n) if called, else the TUTOR_NUM_THREADS
// environment variable if set, else the OpenMP default (OMP_NUM_THREADS or the number of cores).
int num_threads();
void set_num_threads(int n);  // n >= 1; applies to every thread that runs a kernel afterwards

// The value of TUTOR_NUM_THREADS: a positive integer; anything else is a tutor::Error naming the
// variable and the value.
int parse_num_threads(std::string_view value);

// Makes the calling thread's OpenMP setting agree with num_threads(); each kernel calls it first.
void apply_num_threads();

}  // namespace tutor::kernels::cpu
