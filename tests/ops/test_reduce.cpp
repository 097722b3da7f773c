#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {
using V = std::vector<Variable64>;

Tensor column(Tensor t) {
    t.reshape({t.size(), 1});
    return t;
}

// (1, 3, 2), distinct values (no ties, so max/min are differentiable everywhere here).
const Tensor64 X132 = {{{0.5, -1.0}, {2.0, 0.25}, {1.5, -0.75}}};
const Tensor64 X23 = {{0.3, -1.2, 2.2}, {1.4, 0.9, -0.1}};
const Tensor64 X4 = {0.6, -0.2, 1.3, 0.1};
// (2, 3, 4) with distinct values in a scrambled order (so every reduction has a unique extremum).
const Tensor64 X234 = {
    {{0.11, -0.52, 0.93, 0.34}, {-0.75, 0.16, 0.57, -0.98}, {0.29, 0.7, -0.41, 0.82}},
    {{-0.13, 0.64, -0.25, 0.46}, {0.87, -0.38, 0.09, -0.6}, {0.51, -0.02, 0.73, -0.84}}};

// Every axis choice each reduction is checked with, on several shapes including size-1 dims.
struct Case {
    Tensor64 x;
    Axes axes;
    bool keepdims;
};
const std::vector<Case> cases = {
    {X132, {}, false},     {X132, {1}, false}, {X132, {0, 2}, true},  {X132, {-1}, false},
    {X132, {0}, true},     {X23, {0}, false},  {X23, {1}, true},      {X23, {-2, -1}, false},
    {X4, {}, true},        {X4, {0}, false},   {X234, {0, 2}, false}, {X234, {1}, true},
    {X234, {0, 1}, false}, {X234, {2}, true},
};
}  // namespace

TEST_CASE("sum over axes, with and without keepdims") {
    Variable x(Tensor{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
    XGRAD_CHECK_TENSOR_CLOSE(sum(x).value(), Tensor(21.f));
    XGRAD_CHECK_TENSOR_CLOSE(sum(x, {0}).value(), Tensor({5.f, 7.f, 9.f}));
    XGRAD_CHECK_TENSOR_CLOSE(sum(x, {-1}, true).value(), column({6.f, 15.f}));
    CHECK_THROWS_WITH_AS(sum(x, {2}), "sum: axis 2 is out of range for shape (2, 3)", ShapeError);
}

TEST_CASE("sum, mean: gradient checks") {
    for (const auto& c : cases) {
        XGRAD_CHECK_GRADCHECK([&c](const V& in) { return sum(in[0], c.axes, c.keepdims); }, {c.x});
        XGRAD_CHECK_GRADCHECK([&c](const V& in) { return mean(in[0], c.axes, c.keepdims); }, {c.x});
    }
    XGRAD_CHECK_GRADCHECK([](const V& in) { return mean(in[0]); }, {Tensor64(2.5)});
}

TEST_CASE("sum, mean: empty tensors") {
    Variable e(Tensor::from_shape({2, 0}), true);
    XGRAD_CHECK_TENSOR_CLOSE(sum(e, {1}).value(), Tensor({0.f, 0.f}));
    sum(sum(e, {0})).backward();
    CHECK(e.grad().shape() == e.value().shape());
}

TEST_CASE("mean: forward values and axis errors") {
    Variable x(Tensor{{1.f, 2.f, 3.f}, {4.f, 5.f, 9.f}});
    XGRAD_CHECK_TENSOR_CLOSE(mean(x).value(), Tensor(4.f));
    XGRAD_CHECK_TENSOR_CLOSE(mean(x, {0}).value(), Tensor({2.5f, 3.5f, 6.f}));
    XGRAD_CHECK_TENSOR_CLOSE(mean(x, {1}, true).value(), column({2.f, 6.f}));
    CHECK(mean(x, {0, 1}, true).shape() == Shape{1, 1});
    CHECK_THROWS_WITH_AS(mean(x, {-3}), "mean: axis -3 is out of range for shape (2, 3)",
                         ShapeError);
}

TEST_CASE("max, min: forward values") {
    Variable x(Tensor{{1.f, 7.f, 3.f}, {4.f, -5.f, 6.f}});
    XGRAD_CHECK_TENSOR_CLOSE(max(x).value(), Tensor(7.f));
    XGRAD_CHECK_TENSOR_CLOSE(min(x).value(), Tensor(-5.f));
    XGRAD_CHECK_TENSOR_CLOSE(max(x, {0}).value(), Tensor({4.f, 7.f, 6.f}));
    XGRAD_CHECK_TENSOR_CLOSE(min(x, {1}, true).value(), column({1.f, -5.f}));
    CHECK_THROWS_WITH_AS(max(Variable(Tensor::from_shape({2, 0})), {1}),
                         "max: cannot reduce over an axis of size 0 in shape (2, 0)", ShapeError);
    CHECK_THROWS_AS(min(x, {5}), ShapeError);
}

TEST_CASE("max, min: ties split the gradient evenly") {
    Variable x(Tensor{{3.f, 1.f, 3.f}, {2.f, 2.f, 2.f}}, true);
    sum(max(x, {1})).backward();
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({{0.5f, 0.f, 0.5f}, {1.f / 3, 1.f / 3, 1.f / 3}}));
    x.zero_grad();
    min(x).backward();  // the global minimum 1 is unique
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({{0.f, 1.f, 0.f}, {0.f, 0.f, 0.f}}));
    x.zero_grad();
    sum(min(x, {0}) * Variable(Tensor{1.f, 2.f, 4.f})).backward();
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({{0.f, 2.f, 0.f}, {1.f, 0.f, 4.f}}));
}

TEST_CASE("max, min: gradient checks") {
    for (const auto& c : cases) {
        XGRAD_CHECK_GRADCHECK([&c](const V& in) { return max(in[0], c.axes, c.keepdims); }, {c.x});
        XGRAD_CHECK_GRADCHECK([&c](const V& in) { return min(in[0], c.axes, c.keepdims); }, {c.x});
    }
}

TEST_CASE("var: population and sample variance, ddof errors") {
    Variable x(Tensor{{1.f, 2.f, 3.f, 4.f}, {2.f, 2.f, 2.f, 2.f}});
    XGRAD_CHECK_TENSOR_CLOSE(var(x, {1}).value(), Tensor({1.25f, 0.f}));
    XGRAD_CHECK_TENSOR_CLOSE(var(x, {1}, true, 1).value(), column({5.f / 3, 0.f}));
    XGRAD_CHECK_TENSOR_CLOSE(var(x).value(),
                             Tensor(0.6875f));  // mean 2.25, squared deviations sum to 5.5
    XGRAD_CHECK_TENSOR_CLOSE(var(x, {0}).value(), Tensor({0.25f, 0.f, 0.25f, 1.f}));
    CHECK_THROWS_WITH_AS(var(x, {0}, false, 2),
                         "var: ddof 2 must be at least 0 and less than the 2 elements per "
                         "reduction of shape (2, 4)",
                         std::invalid_argument);
    CHECK_THROWS_AS(var(x, {0}, false, -1), std::invalid_argument);
}

TEST_CASE("var: gradient checks") {
    for (const auto& c : cases) {
        XGRAD_CHECK_GRADCHECK([&c](const V& in) { return var(in[0], c.axes, c.keepdims); }, {c.x});
        const Shape kept = keepdims_shape(to_shape(c.x.shape()),
                                          normalize_axes("var", c.axes, to_shape(c.x.shape())));
        if (c.x.size() / shape_size(kept) > 1) {  // ddof = 1 needs two elements per result
            XGRAD_CHECK_GRADCHECK([&c](const V& in) { return var(in[0], c.axes, c.keepdims, 1); },
                                  {c.x});
        }
    }
}

TEST_CASE("logsumexp: forward values, finite for logits of +-1e4") {
    Variable x(Tensor{{0.f, std::log(3.f)}, {1.f, 1.f}});
    XGRAD_CHECK_TENSOR_CLOSE(logsumexp(x, {1}).value(),
                             Tensor({std::log(4.f), 1.f + std::log(2.f)}));
    XGRAD_CHECK_TENSOR_CLOSE(
        logsumexp(x, {0}, true).value(),
        Tensor({{std::log(1.f + std::exp(1.f)), std::log(3.f + std::exp(1.f))}}));

    Variable big(Tensor{{1e4f, -1e4f, 1e4f}, {-1e4f, -1e4f, -1e4f}}, true);
    Variable y = logsumexp(big, {1});
    XGRAD_CHECK_TENSOR_CLOSE(y.value(), Tensor({1e4f + std::log(2.f), -1e4f + std::log(3.f)}));
    sum(y).backward();
    XGRAD_CHECK_TENSOR_CLOSE(big.grad(), Tensor({{0.5f, 0.f, 0.5f}, {1.f / 3, 1.f / 3, 1.f / 3}}));
    Variable all = logsumexp(big);
    CHECK(std::isfinite(all.item()));
    CHECK(all.item() == doctest::Approx(1e4 + std::log(2.0)));
    // A row of all -inf: the value is -inf, the gradient 0 (not NaN); other rows unaffected.
    const float inf = std::numeric_limits<float>::infinity();
    Variable masked(Tensor{{-inf, -inf}, {0.f, -inf}}, true);
    Variable lse = logsumexp(masked, {1});
    CHECK(lse.value()(0) == -inf);
    CHECK(lse.value()(1) == 0.f);
    sum(lse).backward();
    XGRAD_CHECK_TENSOR_CLOSE(masked.grad(), Tensor({{0.f, 0.f}, {1.f, 0.f}}));
    CHECK_THROWS_WITH_AS(logsumexp(big, {2}), "logsumexp: axis 2 is out of range for shape (2, 3)",
                         ShapeError);
}

TEST_CASE("logsumexp: gradient checks") {
    for (const auto& c : cases) {
        XGRAD_CHECK_GRADCHECK([&c](const V& in) { return logsumexp(in[0], c.axes, c.keepdims); },
                              {c.x});
    }
    XGRAD_CHECK_GRADCHECK([](const V& in) { return logsumexp(in[0], {1}); },
                          {Tensor64{{1e4, -1e4, 1e4 - 0.5}, {-1e4, -1e4 + 1, -1e4 + 2}}});
}

TEST_CASE("argmax, argmin: indices, first of ties, no gradient, axis errors") {
    Variable x(Tensor{{1.f, 7.f, 7.f}, {4.f, -5.f, 6.f}}, true);
    CHECK(argmax(x) == IndexTensor{1, 2});
    CHECK(argmin(x) == IndexTensor{0, 1});
    CHECK(argmax(x, 0) == IndexTensor{1, 0, 0});
    CHECK(argmin(x, -2) == IndexTensor{0, 1, 1});
    const Tensor x3 = {{{1.f, 2.f}, {3.f, 0.f}}, {{-1.f, 5.f}, {-2.f, 4.f}}};  // (2, 2, 2)
    CHECK(argmax(Variable(x3), 1) == IndexTensor{{1, 0}, {0, 0}});
    CHECK(argmin(Variable(x3), 1) == IndexTensor{{0, 1}, {1, 1}});
    CHECK(argmax(Variable(x3), 1).shape() == argmin(Variable(x3), 2).shape());
    CHECK_THROWS_WITH_AS(argmax(x, 2), "argmax: axis 2 is out of range for shape (2, 3)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(argmin(Variable(Tensor::from_shape({3, 0})), 1),
                         "argmin: cannot reduce over axis 1 of size 0 in shape (3, 0)", ShapeError);
}

TEST_CASE("reductions: second derivatives (gradgradcheck)") {
    for (const auto& c : cases) {
        XGRAD_CHECK_GRADGRADCHECK(
            [&c](const V& in) { return sum(in[0] * in[0], c.axes, c.keepdims); }, {c.x});
        XGRAD_CHECK_GRADGRADCHECK(
            [&c](const V& in) { return mean(in[0] * in[0], c.axes, c.keepdims); }, {c.x});
        XGRAD_CHECK_GRADGRADCHECK(
            [&c](const V& in) { return max(in[0] * in[0], c.axes, c.keepdims); }, {c.x});
        XGRAD_CHECK_GRADGRADCHECK(
            [&c](const V& in) { return min(in[0] * in[0], c.axes, c.keepdims); }, {c.x});
        XGRAD_CHECK_GRADGRADCHECK([&c](const V& in) { return var(in[0], c.axes, c.keepdims); },
                                  {c.x});
        XGRAD_CHECK_GRADGRADCHECK(
            [&c](const V& in) { return logsumexp(in[0], c.axes, c.keepdims); }, {c.x});
    }
}
