#include <doctest/doctest.h>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

#include <xtensor/xmanipulation.hpp>

using namespace xgrad;

namespace {
const Tensor64 A23 = {{0.5, -1.2, 2.0}, {1.5, 0.3, -0.7}};
const Tensor64 B3 = {0.8, 1.1, -1.9};
const Tensor64 C21 = xt::reshape_view(Tensor64{1.3, -0.6}, {2, 1});
}  // namespace

TEST_CASE("add, sub, mul, div: forward values") {
    Variable a(Tensor{1.f, 2.f, 3.f}), b(Tensor{4.f, 5.f, 8.f});
    XGRAD_CHECK_TENSOR_CLOSE((a + b).value(), Tensor({5.f, 7.f, 11.f}));
    XGRAD_CHECK_TENSOR_CLOSE((a - b).value(), Tensor({-3.f, -3.f, -5.f}));
    XGRAD_CHECK_TENSOR_CLOSE((a * b).value(), Tensor({4.f, 10.f, 24.f}));
    XGRAD_CHECK_TENSOR_CLOSE((a / b).value(), Tensor({0.25f, 0.4f, 0.375f}));
    XGRAD_CHECK_TENSOR_CLOSE((-a).value(), Tensor({-1.f, -2.f, -3.f}));
}

TEST_CASE("add, sub, mul, div, neg: gradient checks with broadcasting") {
    using V = std::vector<Variable64>;
    for (const auto& [a, b] : {std::pair{A23, B3}, std::pair{A23, C21}, std::pair{B3, A23},
                               std::pair{C21, Tensor64(0.7)}, std::pair{A23, A23}}) {
        XGRAD_CHECK_GRADCHECK([](const V& in) { return in[0] + in[1]; }, {a, b});
        XGRAD_CHECK_GRADCHECK([](const V& in) { return in[0] - in[1]; }, {a, b});
        XGRAD_CHECK_GRADCHECK([](const V& in) { return in[0] * in[1]; }, {a, b});
        XGRAD_CHECK_GRADCHECK([](const V& in) { return in[0] / in[1]; }, {a, b});
        XGRAD_CHECK_GRADCHECK([](const V& in) { return -in[0]; }, {a});
    }
}

TEST_CASE("binary ops name themselves and both shapes on a mismatch") {
    Variable a(Tensor::from_shape({2, 3})), b(Tensor::from_shape({4}));
    CHECK_THROWS_WITH_AS(a * b,
                         "mul: shapes (2, 3) and (4,) cannot be broadcast (3 != 4 in dimension "
                         "1 of the result)",
                         ShapeError);
    CHECK_THROWS_AS(a + b, ShapeError);
    CHECK_THROWS_AS(a - b, ShapeError);
    CHECK_THROWS_AS(a / b, ShapeError);
}
