#include <doctest/doctest.h>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

Tensor64 constant(const Shape& shape, double v) {
    Tensor64 t = Tensor64::from_shape(shape);
    t.fill(v);
    return t;
}

}  // namespace

TEST_CASE("dropout: the same seed gives the same mask, another seed another") {
    const Variable x(Tensor(xt::ones<float>({8, 16})));
    Rng a(42), b(42), c(43);
    const Tensor ya = dropout(x, 0.5, true, a).value();
    XGRAD_CHECK_TENSOR_CLOSE(dropout(x, 0.5, true, b).value(), ya);
    CHECK(xt::any(xt::not_equal(dropout(x, 0.5, true, c).value(), ya)));
    // The generator advances: a second call with it draws a new mask.
    CHECK(xt::any(xt::not_equal(dropout(x, 0.5, true, a).value(), ya)));

    manual_seed(7);
    const Tensor g1 = dropout(x, 0.3, true).value();
    manual_seed(7);
    XGRAD_CHECK_TENSOR_CLOSE(dropout(x, 0.3, true).value(), g1);
}

TEST_CASE("dropout_mask: the mask dropout multiplies by, from the same draws") {
    Rng a(9), b(9);
    const Tensor64 mask = dropout_mask<double>({4, 50}, 0.25, a);
    for (double m : mask) CHECK((m == 0.0 || m == 1.0 / 0.75));
    CHECK(xt::any(xt::equal(mask, 0.0)));
    CHECK(xt::any(xt::not_equal(mask, 0.0)));
    const Tensor64 x = constant({4, 50}, 2.0);
    XGRAD_CHECK_TENSOR_CLOSE(dropout(Variable64(x), 0.25, true, b).value(), Tensor64(x * mask), 0,
                             0);
    CHECK_THROWS_WITH_AS(dropout_mask<float>({3}, 1.5, a),
                         "dropout_mask: rate must be in [0, 1), got 1.5", std::invalid_argument);
}

TEST_CASE("dropout: drops about `rate` of the elements and preserves the mean") {
    const Variable x(Tensor(xt::ones<float>({100000})));
    Rng rng(1);
    const Tensor y = dropout(x, 0.3, true, rng).value();
    const double dropped = xt::sum(xt::equal(y, 0.f))() / static_cast<double>(y.size());
    CHECK(dropped == doctest::Approx(0.3).epsilon(0.03));
    CHECK(xt::mean(y)() == doctest::Approx(1.0).epsilon(0.01));
    // Every kept element is scaled by 1 / (1 - rate).
    CHECK(xt::all(xt::equal(y, 0.f) || xt::isclose(y, 1.f / 0.7f)));
}

TEST_CASE("dropout: outside training, or with rate 0, it returns x itself") {
    Variable x(Tensor{1.f, 2.f, 3.f}, true);
    Rng rng(3);
    CHECK(dropout(x, 0.5, false, rng).node() == x.node());
    CHECK(dropout(x, 0.0, true, rng).node() == x.node());
    CHECK(dropout(x, 0.5, false).node() == x.node());
}

TEST_CASE("dropout: the gradient is the mask times the scale") {
    const Tensor64 values = {{0.5, -1.5, 2.0, 0.25}, {3.0, -0.75, 1.25, -2.0}};
    Variable64 x(values, true);
    Rng rng(11);
    Variable64 y = dropout(x, 0.25, true, rng);
    CHECK(std::string(y.op()) == "dropout");
    y.backward(constant({2, 4}, 1.0));
    // y = x * mask, so the gradient of sum(y) is mask = y / x, each 0 or 1 / 0.75.
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor64(y.value() / values), 1e-12, 1e-12);
    CHECK(xt::all(xt::equal(x.grad(), 0.0) || xt::isclose(x.grad(), 1.0 / 0.75)));
    CHECK(xt::any(xt::equal(x.grad(), 0.0)));  // seed 11 drops at least one of 8

    // A generator reseeded inside f gives the same mask on every evaluation.
    for (const Shape& s : {Shape{5}, Shape{1}, Shape{2, 3}, Shape{3, 1, 2}}) {
        CAPTURE(format_shape(s));
        XGRAD_CHECK_GRADCHECK(
            [](const std::vector<Variable64>& in) {
                Rng r(5);
                return dropout(in[0], 0.4, true, r);
            },
            {constant(s, 0.7)});
    }
}

TEST_CASE("dropout: a rate outside [0, 1) is an error") {
    Variable x(Tensor{1.f});
    Rng rng(0);
    CHECK_THROWS_WITH_AS(dropout(x, 1.0, true, rng), "dropout: rate must be in [0, 1), got 1",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(dropout(x, -0.1, false, rng), "dropout: rate must be in [0, 1), got -0.1",
                         std::invalid_argument);
    CHECK_THROWS_AS(dropout(x, std::nan(""), true), std::invalid_argument);
}

TEST_CASE("dropout: second derivative through its fixed mask") {
    // A fixed generator state per call, so the finite-difference probes see the same mask.
    XGRAD_CHECK_GRADGRADCHECK(
        [](const std::vector<Variable64>& in) {
            Rng rng(5);
            return dropout(in[0] * in[0], 0.4, true, rng);
        },
        {Tensor64{{0.5, -1.0, 2.0}, {1.5, 0.25, -0.75}}});
}
