// The stable core of softmax, log_softmax and cross-entropy: the exponentials of a slice with
// its maximum subtracted, so that exp never overflows. Internal to the ops; not installed.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

namespace xgrad {

template <class T>
struct ShiftedExp {
    T max;  // the largest of the values
    T sum;  // the sum of exp(value - max)
};

// Over n values `stride` apart starting at x; writes exp(value - max) to the same positions
// of `out` unless it is null.
template <class T>
ShiftedExp<T> shifted_exp(const T* x, T* out, std::size_t n, std::size_t stride = 1) {
    T mx = -std::numeric_limits<T>::infinity();
    for (std::size_t i = 0; i < n; ++i) mx = std::max(mx, x[i * stride]);
    T total = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const T e = std::exp(x[i * stride] - mx);
        if (out) out[i * stride] = e;
        total += e;
    }
    return {mx, total};
}

}  // namespace xgrad
