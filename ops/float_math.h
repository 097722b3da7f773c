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

// erf(x) in float: x P(x^2) / Q(x^2) on [-4, 4] (erf is +-1 in float beyond), near-minimax
// coefficients derived by scripts/fit_float_math.py: at most 7.3 ulp, 4.3e-7 absolute and
// relative error over [1e-30, 6] (libm's erff: 1 ulp, but a scalar call).
inline float erf_f(float a) {
    // min/max rather than std::clamp, which GCC leaves as a branch that stops vectorisation.
    const float x = std::min(std::max(a, -4.0f), 4.0f);
    const float z = x * x;
    float p = 1.9110947497e-08f;
    p = z * p + -1.9422859165e-06f;
    p = z * p + 1.4728067283e-04f;
    p = z * p + 3.9903476499e-03f;
    p = z * p + 5.1524193823e-02f;
    p = z * p + 2.0712011530e-01f;
    p = z * p + 1.1283790943e+00f;
    float q = 1.0210566640e-03f;
    q = z * q + 1.4957623428e-02f;
    q = z * q + 1.1796861354e-01f;
    q = z * q + 5.1688667327e-01f;
    q = z * q + 1.0f;
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
