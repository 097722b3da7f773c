// Float functions without branches or library calls, so that the element loops that call them
// vectorise (std::exp and std::erf are scalar libm calls of ~100 instructions each):
// ops/lstm_kernels.h and the activations. Internal to the ops; not installed.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace xgrad {

// e^x in float: Cody-Waite range reduction and Cephes' expf polynomial (about 1 ulp), the
// power of two built in the exponent bits; every step is a plain float or int operation.
inline float exp_f(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);  // (comparisons vectorise; fmin may not)
    const float shifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
    const float t = x * 1.44269504088896341f + shifter;
    const float n = t - shifter;
    const std::int32_t k = std::bit_cast<std::int32_t>(t) - std::bit_cast<std::int32_t>(shifter);
    const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = p * r * r + r + 1.0f;
    return y * std::bit_cast<float>((k + 127) << 23);
}

// erf(x) in float: Eigen's rational approximation (generic_fast_erf_float), an odd polynomial
// over an even one on [-4, 4] (erf is +-1 in float beyond). Measured against erf in double
// over every float in [-6, 6]: at most 4.7e-7 absolute and 5.6e-7 relative error (8 ulp;
// libm's erff: 1).
inline float erf_f(float a) {
    // min/max rather than std::clamp, which GCC leaves as a branch that stops vectorisation.
    const float x = std::min(std::max(a, -4.0f), 4.0f);
    const float x2 = x * x;
    float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
    p = x2 * p + -2.10102402082508e-06f;
    p = x2 * p + -5.69250639462346e-05f;
    p = x2 * p + -7.34990630326855e-04f;
    p = x2 * p + -2.95459980854025e-03f;
    p = x2 * p + -1.60960333262415e-02f;
    float q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
    q = x2 * q + -1.68282697438203e-03f;
    q = x2 * q + -7.37332916720468e-03f;
    q = x2 * q + -1.42647390514189e-02f;
    return x * p / q;
}

// erf and exp for element loops in any precision: the kernels above in float, libm's in
// float64 (gradient checks).
template <class T>
T erf_of(T v) {
    if constexpr (std::is_same_v<T, float>) {
        return erf_f(v);
    } else {
        return std::erf(v);
    }
}

template <class T>
T exp_of(T v) {
    if constexpr (std::is_same_v<T, float>) {
        return exp_f(v);
    } else {
        return std::exp(v);
    }
}

}  // namespace xgrad
