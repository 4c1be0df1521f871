// glibc's vector math library (libmvec) for the element-wise loops: declaring sinf, cosf, expm1f
// and powf `simd` tells GCC that vector variants exist (_ZGVeN16v_sinf for AVX-512, _ZGVbN4v_sinf
// for SSE2, ...), so an `omp simd` loop that calls them vectorizes instead of calling libm per
// element. glibc's <math.h> makes these declarations only under -ffast-math, which the loops must
// not be built with (it drops the NaN and infinity handling they promise); the functions are the
// same ones, so declaring them here changes nothing else. libm.so links libmvec.so as needed.
// They reduce large |x| of sin and cos fully and keep powf's special cases (negative bases,
// zeros, infinities); tests/kernels/test_cpu_loops_elementwise.cpp checks both against the
// reference kernels. expm1f's variants came with glibc 2.35; older glibc calls it per element.
// Include before the loop bodies, at global scope; the loop file must be built
// with -fno-math-errno (CMakeLists.txt), else GCC keeps the scalar calls for errno's sake.
#pragma once

#include <cmath>

#if defined(__GLIBC__) && defined(__x86_64__) && !defined(__FAST_MATH__)
extern "C" {
float sinf(float) noexcept __attribute__((simd("notinbranch")));
float cosf(float) noexcept __attribute__((simd("notinbranch")));
#if __GLIBC_PREREQ(2, 35)
float expm1f(float) noexcept __attribute__((simd("notinbranch")));
#endif
float powf(float, float) noexcept __attribute__((simd("notinbranch")));
}
#endif
