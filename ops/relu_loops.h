// relu's element loops, shared by the relu op and the ops that fuse it into their output
// (conv2d). Internal, not installed.
#pragma once

#include <cstddef>

#include "framework/vectorize.h"

namespace xgrad {

// y = max(x, 0), with NaN passing through (as in PyTorch) instead of becoming 0, so a NaN
// input still shows up in the loss. y may be x (in place).
template <class T>
XGRAD_VECTOR_CLONES void relu_loop(std::size_t n, const T* x, T* y) {
    for (std::size_t i = 0; i < n; ++i) y[i] = x[i] <= 0 ? T(0) : x[i];
}

// dx = g where the unit is active, else 0. `active` is relu's input or its output: both are
// positive at the same places. A select, not g * 0 or g * 1, so there is no branch and an
// infinite g stays out of the inactive entries (as in PyTorch).
template <class T>
XGRAD_VECTOR_CLONES void relu_grad_loop(std::size_t n, const T* __restrict__ g,
                                        const T* __restrict__ active, T* __restrict__ dx) {
    for (std::size_t i = 0; i < n; ++i) dx[i] = active[i] > 0 ? g[i] : T(0);
}

}  // namespace xgrad
