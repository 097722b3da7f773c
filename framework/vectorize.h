// For the element loops of the optimizers and the hot ops (internal, not installed). Each
// loop is a plain loop over contiguous float arrays with __restrict__ pointers (distinct
// tensors), which GCC and Clang vectorise. XGRAD_VECTOR_CLONES also compiles it for AVX-512
// and AVX2 and picks the widest the machine has at load time (function multi-versioning), so
// a portable x86-64 build still runs at full vector width: about 3x faster for Adam than the
// SSE2 baseline. On one machine every run takes the same clone and gives the same bits (what
// exact resumption needs); across machines the last bit may differ, since the AVX-512 clone
// may fuse a * b + c into FMA, as OpenBLAS's per-CPU kernels already differ. GCC only: Clang
// 14 does not multiversion templates, so it builds the baseline loops.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define XGRAD_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define XGRAD_VECTOR_CLONES
#endif
