// Float functions without branches or library calls, so that the element loops that call them
// vectorise (std::exp and std::erf are scalar libm calls of ~100 instructions each):
// ops/lstm_kernels.h and the activations. Their coefficients come from
// scripts/fit_float_math.py, which also checks the accuracy quoted here. Internal to the ops; not
// installed.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace xgrad {

// e^x in float: Cody-Waite range reduction (x = n ln2 + r, ln2 split in a short head and a
// tail) and a near-minimax polynomial for e^r on |r| <= ln2 / 2 from scripts/fit_float_math.py
// (at most 0.97 ulp), the power of two built in the exponent bits; every step is a plain
// float or int operation.
inline float exp_f(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);  // (comparisons vectorise; fmin may not)
    const float shifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
    const float t = x * 1.44269504088896341f + shifter;
    const float n = t - shifter;
    const std::int32_t k = std::bit_cast<std::int32_t>(t) - std::bit_cast<std::int32_t>(shifter);
    const float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.9790352976e-04f;
    p = p * r + 1.3944648851e-03f;
    p = p * r + 8.3334970083e-03f;
    p = p * r + 4.1666295090e-02f;
    p = p * r + 1.6666665869e-01f;
    p = p * r + 5.0000000676e-01f;
    const float y = p * r * r + r + 1.0f;
    return y * std::bit_cast<float>((k + 127) << 23);
}

// tanh in float: x P(x^2) / Q(x^2) on [-7.905, 7.905] (beyond, tanh is within a few ulp of
// +-1), near-minimax coefficients derived by scripts/fit_float_math.py: at most 6.3 ulp
// without FMA (libm's tanhf: 1-2, but a scalar call).
inline float tanh_f(float a) {
    // min/max rather than std::clamp, which GCC leaves as a branch that stops vectorisation.
    const float x = std::min(std::max(a, -7.90531110763549805f), 7.90531110763549805f);
    const float z = x * x;
    float p = -1.1904587059e-13f;
    p = z * p + 6.4763945933e-11f;
    p = z * p + -2.2513957903e-08f;
    p = z * p + 1.1686954863e-05f;
    p = z * p + 3.1534143554e-03f;
    p = z * p + 1.3127925606e-01f;
    p = z * p + 9.9999999846e-01f;
    float q = 2.6189851153e-04f;
    q = z * q + 2.4690966682e-02f;
    q = z * q + 4.6461257332e-01f;
    q = z * q + 1.0f;
    return x * p / q;
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

// erf, exp and tanh for element loops in any precision: the kernels above in float, libm's in
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

template <class T>
T tanh_of(T v) {
    if constexpr (std::is_same_v<T, float>) {
        return tanh_f(v);
    } else {
        return std::tanh(v);
    }
}

}  // namespace xgrad
