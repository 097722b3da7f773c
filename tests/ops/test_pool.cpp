#include <doctest/doctest.h>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {
using V = std::vector<Variable64>;

// Distinct values (no ties, so max-pool's gradient is well defined for finite differences).
Tensor64 distinct(const Shape& shape) {
    Tensor64 t = Tensor64::from_shape(shape);
    for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = 0.01 * double((i * 37) % 101) - 0.4;
    return t;
}
}  // namespace

TEST_CASE("max_pool2d and avg_pool2d: hand-computed 4x4, 2x2 windows") {
    Tensor x =
        xt::reshape_view(Tensor{1, 2, 5, 0, 3, 4, 1, 1, -1, -2, 0, 7, -3, -4, 2, 1}, {1, 4, 4, 1});
    Variable m = max_pool2d(Variable(x), {2, 2}, {2, 2});
    XGRAD_CHECK_TENSOR_CLOSE(m.value(),
                             Tensor(xt::reshape_view(Tensor{4, 5, -1, 7}, {1, 2, 2, 1})));
    Variable a = avg_pool2d(Variable(x), {2, 2}, {2, 2});
    XGRAD_CHECK_TENSOR_CLOSE(
        a.value(), Tensor(xt::reshape_view(Tensor{2.5f, 1.75f, -2.5f, 2.5f}, {1, 2, 2, 1})));
    // The gradient goes to the winners only.
    Variable v(x, true);
    sum(max_pool2d(v, {2, 2}, {2, 2})).backward();
    XGRAD_CHECK_TENSOR_CLOSE(
        v.grad(), Tensor(xt::reshape_view(Tensor{0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0},
                                          {1, 4, 4, 1})));
}

TEST_CASE("max_pool2d: a tie's gradient goes to the window's first element only") {
    // Disjoint windows (stride 2) and overlapping ones (stride 1) take different backward paths.
    Tensor x = xt::ones<float>({1, 3, 3, 1});
    Variable v(x, true);
    sum(max_pool2d(v, {2, 2}, {2, 2})).backward();
    XGRAD_CHECK_TENSOR_CLOSE(
        v.grad(), Tensor(xt::reshape_view(Tensor{1, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 3, 3, 1})));
    Variable u(x, true);
    sum(max_pool2d(u, {2, 2}, {1, 1})).backward();
    XGRAD_CHECK_TENSOR_CLOSE(
        u.grad(), Tensor(xt::reshape_view(Tensor{1, 1, 0, 1, 1, 0, 0, 0, 0}, {1, 3, 3, 1})));
}

TEST_CASE("pooling with 'same' padding ignores the padded positions") {
    // 3x3 input, 2x2 windows, stride 2, 'same': outputs 2x2; the last row/column windows are
    // partial. An average counts only real elements (as in Keras).
    Tensor x = xt::reshape_view(Tensor{1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3, 1});
    XGRAD_CHECK_TENSOR_CLOSE(avg_pool2d(Variable(x), {2, 2}, {2, 2}, "same").value(),
                             Tensor(xt::reshape_view(Tensor{3, 4.5f, 7.5f, 9}, {1, 2, 2, 1})));
    Tensor neg = -x;
    XGRAD_CHECK_TENSOR_CLOSE(max_pool2d(Variable(neg), {2, 2}, {2, 2}, "same").value(),
                             Tensor(xt::reshape_view(Tensor{-1, -3, -7, -9}, {1, 2, 2, 1})));
}

TEST_CASE("pooling: channels are pooled independently") {
    Tensor x = xt::reshape_view(Tensor{1, -1, 2, -2, 3, -3, 4, -4}, {1, 2, 2, 2});
    XGRAD_CHECK_TENSOR_CLOSE(max_pool2d(Variable(x), {2, 2}, {2, 2}).value(),
                             Tensor(xt::reshape_view(Tensor{4, -1}, {1, 1, 1, 2})));
}

TEST_CASE("max_pool2d and avg_pool2d: float64 gradcheck") {
    const Tensor64 x = distinct({2, 5, 4, 3});
    for (const std::string padding : {"valid", "same"}) {
        for (Size2 pool : {Size2{2, 2}, Size2{3, 2}}) {
            // {3, 3}: gaps between the windows (max_pool2d's backward for disjoint windows).
            for (Size2 strides : {Size2{2, 2}, Size2{1, 1}, Size2{1, 2}, Size2{3, 3}}) {
                CAPTURE(padding);
                XGRAD_CHECK_GRADCHECK(
                    [&](const V& v) { return max_pool2d(v[0], pool, strides, padding); }, {x});
                XGRAD_CHECK_GRADCHECK(
                    [&](const V& v) { return avg_pool2d(v[0], pool, strides, padding); }, {x});
            }
        }
    }
}

TEST_CASE("pooling: errors name the op and the shapes") {
    Variable x(Tensor(xt::zeros<float>({2, 3, 3, 1})));
    CHECK_THROWS_WITH_AS(max_pool2d(x, {4, 4}, {1, 1}),
                         doctest::Contains("max_pool2d: x (2, 3, 3, 1)"), ShapeError);
    CHECK_THROWS_WITH_AS(avg_pool2d(Variable(Tensor(xt::zeros<float>({3, 3}))), {2, 2}, {2, 2}),
                         doctest::Contains("avg_pool2d: expected x of shape"), ShapeError);
    CHECK_THROWS_AS(max_pool2d(x, {0, 2}, {1, 1}), std::invalid_argument);
    CHECK_THROWS_AS(max_pool2d(x, {2, 2}, {1, 1}, "full"), std::invalid_argument);
}

TEST_CASE("max_pool2d and avg_pool2d: second derivatives (gradgradcheck)") {
    const Tensor64 x = distinct({2, 5, 4, 3});
    for (const std::string padding : {"valid", "same"}) {
        for (Size2 strides : {Size2{2, 2}, Size2{1, 1}}) {
            CAPTURE(padding);
            // exp keeps the order of the values (no new ties) and makes the result non-linear.
            XGRAD_CHECK_GRADGRADCHECK(
                [&](const V& v) {
                    return max_pool2d(exp(v[0]), {3, 2}, strides, padding);
                },
                {x});
            XGRAD_CHECK_GRADGRADCHECK(
                [&](const V& v) {
                    return avg_pool2d(exp(v[0]), {3, 2}, strides, padding);
                },
                {x});
        }
    }
}
