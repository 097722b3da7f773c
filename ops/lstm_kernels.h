// The elementwise part of an LSTM step, forward and backward, for ops/recurrent.cpp
// (internal; not installed). Plain loops over one batch row's units with __restrict__
// pointers, compiled for AVX-512 and AVX2 as well (framework/vectorize.h). std::exp and
// std::tanh do not vectorise, and at 5 transcendental functions per unit and step they cost
// as much as the products; the float versions here do, at float precision (a few ulp).
#pragma once

#include <cmath>
#include <cstddef>

#include "framework/vectorize.h"
#include "ops/float_math.h"

namespace xgrad::lstm_kernels {

inline float sigmoid_f(float x) {
    return 1.0f / (1.0f + exp_f(-x));
}

inline double sigmoid_f(double x) {
    return 1.0 / (1.0 + std::exp(-x));
}

// One batch row of a step's forward: z holds the four pre-activation quarters i, f, g, o of
// u units each and becomes the activated gates; c = f c_prev + i g; tc = tanh(c); h = o tc.
template <class T>
XGRAD_VECTOR_CLONES void forward_row(std::size_t u, T* __restrict__ z, const T* __restrict__ c_prev,
                                     T* __restrict__ c, T* __restrict__ tc, T* __restrict__ h) {
    T* __restrict__ zi = z;
    T* __restrict__ zf = z + u;
    T* __restrict__ zg = z + 2 * u;
    T* __restrict__ zo = z + 3 * u;
    for (std::size_t j = 0; j < u; ++j) {
        const T i = sigmoid_f(zi[j]), f = sigmoid_f(zf[j]), g = tanh_of(zg[j]),
                o = sigmoid_f(zo[j]);
        zi[j] = i;
        zf[j] = f;
        zg[j] = g;
        zo[j] = o;
        const T cn = f * c_prev[j] + i * g;
        const T t = tanh_of(cn);
        c[j] = cn;
        tc[j] = t;
        h[j] = o * t;
    }
}

// One batch row of a step's backward: from the gates, tanh(c_t), c_{t-1}, the gradient of
// h_t (dy from the output plus dh from the next step) and of c_t (dc, updated in place to
// that of c_{t-1}), the gradient of the pre-activations dz.
template <class T>
XGRAD_VECTOR_CLONES void backward_row(std::size_t u, const T* __restrict__ gates,
                                      const T* __restrict__ tc, const T* __restrict__ c_prev,
                                      const T* __restrict__ dy, const T* __restrict__ dh,
                                      T* __restrict__ dc, T* __restrict__ dz) {
    for (std::size_t j = 0; j < u; ++j) {
        const T i = gates[j], f = gates[u + j], g = gates[2 * u + j], o = gates[3 * u + j];
        const T t = tc[j];
        const T dhj = dy[j] + dh[j];
        const T dcj = dc[j] + dhj * o * (T(1) - t * t);
        dz[j] = dcj * g * i * (T(1) - i);
        dz[u + j] = dcj * c_prev[j] * f * (T(1) - f);
        dz[2 * u + j] = dcj * i * (T(1) - g * g);
        dz[3 * u + j] = dhj * t * o * (T(1) - o);
        dc[j] = dcj * f;
    }
}

}  // namespace xgrad::lstm_kernels
