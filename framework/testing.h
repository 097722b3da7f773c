// Assertions for users' own doctest suites. Include after <doctest/doctest.h>:
//
//   XGRAD_CHECK_TENSOR_CLOSE(actual, expected);          // readable difference on failure
//   XGRAD_CHECK_GRADCHECK(f, {x, y});                     // finite differences vs backward
#pragma once

#include <string>

#include "framework/gradcheck.h"
#include "framework/tensor.h"

namespace xgrad::testing {

struct Comparison {
    bool ok = true;
    std::string message;  // shapes, the worst element, its index and both values
};

// Elementwise |a - b| <= atol + rtol * |b|, with matching shapes. NaN equals nothing.
template <class T>
Comparison compare_tensors(const TensorOf<T>& actual, const TensorOf<T>& expected,
                           double rtol = 1e-5, double atol = 1e-6);

}  // namespace xgrad::testing

#define XGRAD_CHECK_TENSOR_CLOSE(actual, expected, ...)                                       \
    do {                                                                                      \
        const auto xgrad_cmp_ =                                                               \
            ::xgrad::testing::compare_tensors((actual), (expected)__VA_OPT__(, __VA_ARGS__)); \
        CHECK_MESSAGE(xgrad_cmp_.ok, xgrad_cmp_.message);                                     \
    } while (false)

#define XGRAD_CHECK_GRADGRADCHECK(f, ...)                                 \
    do {                                                                  \
        const auto xgrad_ggc_ = ::xgrad::gradgradcheck((f), __VA_ARGS__); \
        CHECK_MESSAGE(xgrad_ggc_.ok, xgrad_ggc_.message);                 \
    } while (false)

#define XGRAD_CHECK_GRADCHECK(f, ...)                                \
    do {                                                             \
        const auto xgrad_gc_ = ::xgrad::gradcheck((f), __VA_ARGS__); \
        CHECK_MESSAGE(xgrad_gc_.ok, xgrad_gc_.message);              \
    } while (false)
