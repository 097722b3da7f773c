#include <doctest/doctest.h>

#include <cmath>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

#include <xtensor/xmanipulation.hpp>

using namespace xgrad;

namespace {
using V = std::vector<Variable64>;

const Tensor64 A23 = {{0.5, -1.2, 2.0}, {1.5, 0.3, -0.7}};
const Tensor64 B3 = {0.8, 1.1, -1.9};
const Tensor64 C21 = xt::reshape_view(Tensor64{1.3, -0.6}, {2, 1});
const Tensor64 D13 = xt::reshape_view(Tensor64{-0.4, 0.9, 1.7}, {1, 3});
// Strictly positive inputs for log, sqrt and non-integer powers.
const Tensor64 P23 = {{0.5, 1.2, 2.0}, {1.5, 0.3, 0.7}};
const Tensor64 P3 = {0.8, 1.1, 1.9};
const Tensor64 P21 = xt::reshape_view(Tensor64{1.3, 0.6}, {2, 1});

// Shapes every unary op is checked on: a matrix, size-1 dimensions, a vector and a scalar.
const std::vector<Tensor64> any_inputs = {A23, C21, D13, B3, Tensor64(0.7)};
const std::vector<Tensor64> positive_inputs = {P23, P21, P3, Tensor64(0.7)};
// Pairs that broadcast in every direction (first to second, second to first, both).
const std::vector<std::pair<Tensor64, Tensor64>> broadcast_pairs = {
    {A23, B3},
    {A23, C21},
    {B3, A23},
    {C21, D13},
    {C21, Tensor64(0.7)},  // a 0-d operand takes the scalar fast path, on either side
    {Tensor64(-0.3), A23},
    {Tensor64(0.6), Tensor64(-0.2)},
    {A23, A23 * 0.5 + 0.1}};

// The gradient of sum(f(x)) for a float input.
template <class F>
Tensor grad_of(F f, const Tensor& x) {
    Variable v(x, true);
    sum(f(v)).backward();
    return v.grad();
}
}  // namespace

TEST_CASE("add, sub, mul, div: forward values") {
    Variable a(Tensor{1.f, 2.f, 3.f}), b(Tensor{4.f, 5.f, 8.f});
    XGRAD_CHECK_TENSOR_CLOSE((a + b).value(), Tensor({5.f, 7.f, 11.f}));
    XGRAD_CHECK_TENSOR_CLOSE((a - b).value(), Tensor({-3.f, -3.f, -5.f}));
    XGRAD_CHECK_TENSOR_CLOSE((a * b).value(), Tensor({4.f, 10.f, 24.f}));
    XGRAD_CHECK_TENSOR_CLOSE((a / b).value(), Tensor({0.25f, 0.4f, 0.375f}));
    XGRAD_CHECK_TENSOR_CLOSE((-a).value(), Tensor({-1.f, -2.f, -3.f}));
    // Plain numbers on either side (0-d operands).
    XGRAD_CHECK_TENSOR_CLOSE((1.f - a).value(), Tensor({0.f, -1.f, -2.f}));
    XGRAD_CHECK_TENSOR_CLOSE((a - 1.f).value(), Tensor({0.f, 1.f, 2.f}));
    XGRAD_CHECK_TENSOR_CLOSE((6.f / a).value(), Tensor({6.f, 3.f, 2.f}));
    XGRAD_CHECK_TENSOR_CLOSE((a * 2.f + 0.5f).value(), Tensor({2.5f, 4.5f, 6.5f}));
    Variable s(Tensor(3.f), true);
    sum(a * s - s / 2.f).backward();
    XGRAD_CHECK_TENSOR_CLOSE(s.grad(), Tensor(6.f - 1.5f));
}

TEST_CASE("add, sub, mul, div, neg: gradient checks with broadcasting") {
    for (const auto& [a, b] : broadcast_pairs) {
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
    CHECK_THROWS_WITH_AS(pow(a, b),
                         "pow: shapes (2, 3) and (4,) cannot be broadcast (3 != 4 in dimension "
                         "1 of the result)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(minimum(b, a),
                         "minimum: shapes (4,) and (2, 3) cannot be broadcast (4 != 3 in "
                         "dimension 1 of the result)",
                         ShapeError);
    CHECK_THROWS_AS(maximum(a, b), ShapeError);
}

TEST_CASE("pow, exp, log, sqrt, abs: forward values") {
    Variable x(Tensor{1.f, 4.f, 9.f});
    XGRAD_CHECK_TENSOR_CLOSE(pow(x, 2).value(), Tensor({1.f, 16.f, 81.f}));
    XGRAD_CHECK_TENSOR_CLOSE(pow(x, 0.5).value(), Tensor({1.f, 2.f, 3.f}));
    XGRAD_CHECK_TENSOR_CLOSE(pow(x, -1).value(), Tensor({1.f, 0.25f, 1.f / 9}));
    XGRAD_CHECK_TENSOR_CLOSE(pow(x, Variable(Tensor{3.f, 0.5f, 0.f})).value(),
                             Tensor({1.f, 2.f, 1.f}));
    XGRAD_CHECK_TENSOR_CLOSE(sqrt(x).value(), Tensor({1.f, 2.f, 3.f}));
    XGRAD_CHECK_TENSOR_CLOSE(exp(Variable(Tensor{0.f, 1.f, -1.f})).value(),
                             Tensor({1.f, 2.7182818f, 0.36787944f}));
    XGRAD_CHECK_TENSOR_CLOSE(log(Variable(Tensor{1.f, 2.7182818f, 0.5f})).value(),
                             Tensor({0.f, 1.f, -0.69314718f}));
    XGRAD_CHECK_TENSOR_CLOSE(abs(Variable(Tensor{-2.f, 0.f, 3.5f})).value(),
                             Tensor({2.f, 0.f, 3.5f}));
}

TEST_CASE("pow, exp, log, sqrt, abs: gradient checks") {
    for (const auto& x : any_inputs) {
        XGRAD_CHECK_GRADCHECK([](const V& in) { return pow(in[0], 3); }, {x});
        XGRAD_CHECK_GRADCHECK([](const V& in) { return pow(in[0], 2); }, {x});
        XGRAD_CHECK_GRADCHECK([](const V& in) { return pow(in[0], 0); }, {x});
        XGRAD_CHECK_GRADCHECK([](const V& in) { return exp(in[0]); }, {x});
        XGRAD_CHECK_GRADCHECK([](const V& in) { return abs(in[0]); }, {x});
    }
    for (const auto& x : positive_inputs) {
        XGRAD_CHECK_GRADCHECK([](const V& in) { return pow(in[0], 2.5); }, {x});
        XGRAD_CHECK_GRADCHECK([](const V& in) { return pow(in[0], -1.5); }, {x});
        XGRAD_CHECK_GRADCHECK([](const V& in) { return log(in[0]); }, {x});
        XGRAD_CHECK_GRADCHECK([](const V& in) { return sqrt(in[0]); }, {x});
    }
}

TEST_CASE("pow with a tensor exponent: gradient checks with broadcasting") {
    const auto f = [](const V& in) { return pow(in[0], in[1]); };
    for (const auto& [base, exponent] :
         std::vector<std::pair<Tensor64, Tensor64>>{{P23, B3},
                                                    {P3, A23},
                                                    {P21, D13},
                                                    {P23, Tensor64(1.7)},
                                                    {Tensor64(1.3), A23},
                                                    {Tensor64(1.3), Tensor64(0.4)}}) {
        XGRAD_CHECK_GRADCHECK(f, {base, exponent});
    }
}

TEST_CASE("pow with a tensor exponent at base 0: exponent gradient is 0, not NaN") {
    Variable x(Tensor{0.f, 2.f}, true), y(Tensor{2.f, 3.f}, true);
    sum(pow(x, y)).backward();
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({0.f, 12.f}));                 // y x^(y-1)
    XGRAD_CHECK_TENSOR_CLOSE(y.grad(), Tensor({0.f, 8.f * std::log(2.f)}));  // x^y log x

    // 0 ** 0 is the constant 1: both gradients are 0, for a tensor and a plain exponent.
    Variable z(Tensor{0.f, 3.f}, true), zero(Tensor{0.f, 0.f}, true);
    Variable p = pow(z, zero);
    XGRAD_CHECK_TENSOR_CLOSE(p.value(), Tensor({1.f, 1.f}));
    sum(p + pow(z, 0)).backward();
    XGRAD_CHECK_TENSOR_CLOSE(z.grad(), Tensor({0.f, 0.f}));
    XGRAD_CHECK_TENSOR_CLOSE(zero.grad(), Tensor({0.f, std::log(3.f)}));
}

TEST_CASE("abs has gradient 0 at 0") {
    XGRAD_CHECK_TENSOR_CLOSE(
        grad_of([](const Variable& v) { return abs(v); }, Tensor{0.f, -2.f, 3.f}),
        Tensor({0.f, -1.f, 1.f}));
}

TEST_CASE("clamp: values, gradient passes inside and on the bounds, error on lo > hi") {
    Variable x(Tensor{-3.f, -1.f, 0.25f, 1.f, 2.f});
    XGRAD_CHECK_TENSOR_CLOSE(clamp(x, -1, 1).value(), Tensor({-1.f, -1.f, 0.25f, 1.f, 1.f}));
    XGRAD_CHECK_TENSOR_CLOSE(grad_of([](const Variable& v) { return clamp(v, -1, 1); }, x.value()),
                             Tensor({0.f, 1.f, 1.f, 1.f, 0.f}));
    for (const auto& in : any_inputs) {
        XGRAD_CHECK_GRADCHECK([](const V& v) { return clamp(v[0], -1.0, 1.0); }, {in});
    }
    CHECK_THROWS_WITH_AS(clamp(x, 2, 1), "clamp: lower bound 2 is greater than upper bound 1",
                         std::invalid_argument);
}

TEST_CASE("minimum, maximum: values, plain-number operand, ties split the gradient") {
    Variable a(Tensor{1.f, 5.f, -2.f}), b(Tensor{3.f, 4.f, -2.f});
    XGRAD_CHECK_TENSOR_CLOSE(minimum(a, b).value(), Tensor({1.f, 4.f, -2.f}));
    XGRAD_CHECK_TENSOR_CLOSE(maximum(a, b).value(), Tensor({3.f, 5.f, -2.f}));
    XGRAD_CHECK_TENSOR_CLOSE(maximum(a, 0.0f).value(), Tensor({1.f, 5.f, 0.f}));

    Variable p(Tensor{1.f, 2.f, 3.f}, true), q(Tensor{2.f}, true);
    sum(maximum(p, q)).backward();
    XGRAD_CHECK_TENSOR_CLOSE(p.grad(), Tensor({0.f, 0.5f, 1.f}));
    XGRAD_CHECK_TENSOR_CLOSE(q.grad(), Tensor({1.5f}));  // 1 (won) + 0.5 (tie), summed over
    p.zero_grad();
    q.zero_grad();
    sum(minimum(p, q)).backward();
    XGRAD_CHECK_TENSOR_CLOSE(p.grad(), Tensor({1.f, 0.5f, 0.f}));
    XGRAD_CHECK_TENSOR_CLOSE(q.grad(), Tensor({1.5f}));
}

TEST_CASE("minimum, maximum: gradient checks with broadcasting") {
    for (const auto& [a, b] : broadcast_pairs) {
        XGRAD_CHECK_GRADCHECK([](const V& in) { return minimum(in[0], in[1]); }, {a, b});
        XGRAD_CHECK_GRADCHECK([](const V& in) { return maximum(in[0], in[1]); }, {a, b});
    }
}

TEST_CASE("where with a broadcast branch picks the right side everywhere") {
    // xtensor's own where swapped the last column here (regression).
    const Tensor64 a = {{0.5, -1.2, 2.0}, {1.5, 0.3, -0.7}};
    const Tensor64 b = {0.8, 1.1, -1.9};
    Variable64 va(a, true), vb(b, true);
    Variable64 y = where(a > 0.0, va * vb, vb * vb);
    XGRAD_CHECK_TENSOR_CLOSE(y.value(), Tensor64({{0.4, 1.21, -3.8}, {1.2, 0.33, 3.61}}));
    y.backward(Tensor64{{1.0, 1.0, 1.0}, {1.0, 1.0, 1.0}});
    XGRAD_CHECK_TENSOR_CLOSE(va.grad(), Tensor64({{0.8, 0.0, -1.9}, {0.8, 1.1, 0.0}}));
    // b: a where the mask holds, 2b where it does not.
    XGRAD_CHECK_TENSOR_CLOSE(vb.grad(), Tensor64({2.0, 0.3 + 2.2, 2.0 - 3.8}));
}

TEST_CASE("where: values, gradients go to the chosen side, shape errors") {
    const Mask m = {true, false, true};
    Variable a(Tensor{1.f, 2.f, 3.f}, true), b(Tensor(10.f), true);
    Variable y = where(m, a, b);
    XGRAD_CHECK_TENSOR_CLOSE(y.value(), Tensor({1.f, 10.f, 3.f}));
    sum(y * Variable(Tensor{1.f, 2.f, 3.f})).backward();
    XGRAD_CHECK_TENSOR_CLOSE(a.grad(), Tensor({1.f, 0.f, 3.f}));
    XGRAD_CHECK_TENSOR_CLOSE(b.grad(), Tensor(2.f));
    XGRAD_CHECK_TENSOR_CLOSE(where(m, a, 0.0f).value(), Tensor({1.f, 0.f, 3.f}));

    const Mask m23 = {{true, false, false}, {false, true, true}};
    const Mask m21 = xt::reshape_view(Mask{true, false}, {2, 1});
    for (const auto& mask : {m23, m21, Mask(true)}) {
        const auto f = [mask](const V& in) { return where(mask, in[0], in[1]); };
        for (const auto& [p, q] : broadcast_pairs) XGRAD_CHECK_GRADCHECK(f, {p, q});
    }
    // The mask alone broadcasts the result up: gradients are summed back down.
    const auto g = [m23](const V& in) { return where(m23, in[0], in[1]); };
    XGRAD_CHECK_GRADCHECK(g, {B3, Tensor64(0.4)});

    Variable x(Tensor::from_shape({2, 3})), z(Tensor::from_shape({3}));
    CHECK_THROWS_WITH_AS(where(Mask{true, false}, x, z),
                         "where: shapes (2,) and (2, 3) cannot be broadcast (2 != 3 in dimension 1 "
                         "of the result)",
                         ShapeError);
    CHECK_THROWS_AS(where(m, x, Variable(Tensor::from_shape({2}))), ShapeError);
}

TEST_CASE("elementwise ops: second derivatives (gradgradcheck) with broadcasting") {
    for (const auto& [a, b] : broadcast_pairs) {
        XGRAD_CHECK_GRADGRADCHECK([](const V& in) { return in[0] * in[0] + in[1]; }, {a, b});
        XGRAD_CHECK_GRADGRADCHECK([](const V& in) { return (in[0] - in[1]) * in[1]; }, {a, b});
        XGRAD_CHECK_GRADGRADCHECK([](const V& in) { return in[0] * in[1] * in[0]; }, {a, b});
        XGRAD_CHECK_GRADGRADCHECK([](const V& in) { return -in[0] / in[1]; }, {a, b});
        XGRAD_CHECK_GRADGRADCHECK(
            [](const V& in) { return minimum(in[0], in[1]) * maximum(in[0], in[1]); }, {a, b});
        XGRAD_CHECK_GRADGRADCHECK(
            [](const V& in) { return where(in[0].value() > 0.0, in[0] * in[1], in[1] * in[1]); },
            {a, b});
    }
    for (const auto& x : positive_inputs) {
        XGRAD_CHECK_GRADGRADCHECK([](const V& in) { return pow(in[0], 2.5); }, {x});
        XGRAD_CHECK_GRADGRADCHECK([](const V& in) { return pow(in[0], 0.0) * in[0]; }, {x});
        XGRAD_CHECK_GRADGRADCHECK([](const V& in) { return pow(in[0], in[0]); }, {x});
        XGRAD_CHECK_GRADGRADCHECK([](const V& in) { return exp(in[0]) * log(in[0]); }, {x});
        XGRAD_CHECK_GRADGRADCHECK([](const V& in) { return sqrt(in[0]) * in[0]; }, {x});
    }
    for (const auto& x : any_inputs) {
        XGRAD_CHECK_GRADGRADCHECK([](const V& in) { return abs(in[0]) * in[0]; }, {x});
        XGRAD_CHECK_GRADGRADCHECK([](const V& in) { return clamp(in[0] * in[0], -5.0, 1.0); }, {x});
    }
}

TEST_CASE("broadcast_to and sum_to: values, first and second derivatives") {
    Variable64 b(B3, true);
    XGRAD_CHECK_TENSOR_CLOSE(broadcast_to(b, {2, 3}).value(),
                             Tensor64({{0.8, 1.1, -1.9}, {0.8, 1.1, -1.9}}));
    XGRAD_CHECK_TENSOR_CLOSE(sum_to(Variable64(A23), {1, 3}).value(), Tensor64({{2.0, -0.9, 1.3}}));
    CHECK_THROWS_AS(broadcast_to(b, {2, 4}), ShapeError);
    XGRAD_CHECK_GRADCHECK([](const V& in) { return broadcast_to(in[0], {2, 2, 3}); }, {B3});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return sum_to(in[0], {3}); }, {A23});
    XGRAD_CHECK_GRADGRADCHECK(
        [](const V& in) {
            Variable64 s = sum_to(in[0] * in[0], {2, 1});
            return broadcast_to(s * s, {2, 3});
        },
        {A23});
}

TEST_CASE("sin, cos: values, gradient checks, second derivatives") {
    const Tensor64 x = {{-2.0, -0.5, 0.0}, {0.7, 1.5, 3.0}};
    XGRAD_CHECK_TENSOR_CLOSE(sin(Variable64(x)).value(), Tensor64(xt::sin(x)));
    XGRAD_CHECK_TENSOR_CLOSE(cos(Variable64(x)).value(), Tensor64(xt::cos(x)));
    for (auto f :
         {+[](const V& in) { return sin(in[0]); }, +[](const V& in) { return cos(in[0]); }}) {
        XGRAD_CHECK_GRADCHECK(f, {x});
        XGRAD_CHECK_GRADGRADCHECK(f, {x});
    }
}

TEST_CASE("masked_fill: value where the mask is true, a broadcast mask, gradients, errors") {
    const Variable x(Tensor{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
    XGRAD_CHECK_TENSOR_CLOSE(masked_fill(x, Mask{false, true, false}, -9.0).value(),
                             Tensor({{1.f, -9.f, 3.f}, {4.f, -9.f, 6.f}}));
    const Mask m = {{true, false, false}, {false, false, true}};
    const auto f = [m](const V& in) { return masked_fill(in[0] * in[0], m, 2.0); };
    const Tensor64 x64 = {{0.5, -1.0, 2.0}, {1.5, 0.3, -0.7}};
    XGRAD_CHECK_GRADCHECK(f, {x64});
    XGRAD_CHECK_GRADGRADCHECK(f, {x64});
    CHECK_THROWS_WITH_AS(
        masked_fill(x, Mask(xt::ones<bool>({3, 1})), 0.0),
        "masked_fill: mask of shape (3, 1) does not broadcast to x of shape (2, 3)", ShapeError);
    CHECK_THROWS_WITH_AS(masked_fill(x, Mask::from_shape({1, 2, 3}), 0.0),
                         "masked_fill: mask of shape (1, 2, 3) does not broadcast to x of shape "
                         "(2, 3)",
                         ShapeError);
}
