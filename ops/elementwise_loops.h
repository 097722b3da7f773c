// Elementwise loops over contiguous tensors, for the hot elementwise ops and activations
// (internal, not installed). Plain loops with __restrict__ output arrays, which the compiler
// vectorises at the machine's full width (XGRAD_VECTOR_CLONES) where f has no branch;
// xtensor's own assignment loop is SSE2 only in a portable build. The inputs may alias each
// other (x * x): they are only read.
#pragma once

#include <cstddef>

#include "framework/tensor.h"
#include "framework/vectorize.h"

namespace xgrad {

// out[i] = f(in[i]).
template <class T, class F>
XGRAD_VECTOR_CLONES void map_loop(std::size_t n, const T* in, T* __restrict__ out, F f) {
    for (std::size_t i = 0; i < n; ++i) out[i] = f(in[i]);
}

// out[i] = f(a[i], b[i]).
template <class T, class F>
XGRAD_VECTOR_CLONES void zip_loop(std::size_t n, const T* a, const T* b, T* __restrict__ out, F f) {
    for (std::size_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
}

// sum[i] += g[i].
template <class T>
XGRAD_VECTOR_CLONES void add_into_loop(std::size_t n, T* __restrict__ sum,
                                       const T* __restrict__ g) {
    for (std::size_t i = 0; i < n; ++i) sum[i] += g[i];
}

template <class T, class F>
TensorOf<T> map(const TensorOf<T>& x, F f) {
    TensorOf<T> y = TensorOf<T>::from_shape(x.shape());
    map_loop<T>(x.size(), x.data(), y.data(), f);
    return y;
}

// f(a, b) elementwise, for f written once for numbers: loops when both have one shape or one
// of them is 0-d (a plain number as a Variable); other shapes broadcast through xtensor,
// where f is called on the tensors themselves.
template <class T, class F>
TensorOf<T> zip(const TensorOf<T>& a, const TensorOf<T>& b, F f) {
    if (a.shape() == b.shape()) {
        TensorOf<T> out = TensorOf<T>::from_shape(a.shape());
        zip_loop<T>(a.size(), a.data(), b.data(), out.data(), f);
        return out;
    }
    if (b.dimension() == 0) return map<T>(a, [f, q = b()](T p) { return f(p, q); });
    if (a.dimension() == 0) return map<T>(b, [f, p = a()](T q) { return f(p, q); });
    return TensorOf<T>(f(a, b));
}

}  // namespace xgrad
