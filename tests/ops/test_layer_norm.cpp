#include <doctest/doctest.h>

#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/testing.h"
#include "seq_test_util.h"
#include "xgrad.h"

using namespace xgrad;

namespace {
using V = std::vector<Variable64>;
}

TEST_CASE("layer_norm: each row has mean beta and standard deviation gamma") {
    // A large common offset: a one-pass variance (E[x^2] - E[x]^2) would lose it all in float.
    const Tensor x = {{10000.f, 10001.f, 10002.f, 10003.f}, {-1.f, 0.f, 1.f, 2.f}};
    const Variable y = layer_norm(Variable(x), Variable(Tensor{1.f, 1.f, 1.f, 1.f}),
                                  Variable(Tensor{0.f, 0.f, 0.f, 0.f}), 1e-5);
    const float s = 1.f / std::sqrt(1.25f + 1e-5f);  // variance of 0, 1, 2, 3 is 1.25
    const Tensor expected = {{-1.5f * s, -0.5f * s, 0.5f * s, 1.5f * s},
                             {-1.5f * s, -0.5f * s, 0.5f * s, 1.5f * s}};
    XGRAD_CHECK_TENSOR_CLOSE(y.value(), expected, 1e-4, 1e-4);
    const Variable z = layer_norm(Variable(x), Variable(Tensor{2.f, 2.f, 2.f, 2.f}),
                                  Variable(Tensor{1.f, 1.f, 1.f, 1.f}), 1e-5);
    XGRAD_CHECK_TENSOR_CLOSE(z.value(), Tensor(expected * 2.f + 1.f), 1e-4, 1e-4);
}

TEST_CASE("layer_norm, rms_norm: gradient checks and second derivatives") {
    const auto ln = [](const V& in) { return layer_norm(in[0], in[1], in[2], 1e-3); };
    const auto rms = [](const V& in) { return rms_norm(in[0], in[1], 1e-3); };
    const std::vector<Tensor64> ln_in = {wavy({2, 3, 5}), wavy({5}, 1.0) + 1.0, wavy({5}, 2.0)};
    const std::vector<Tensor64> rms_in = {wavy({2, 3, 5}), wavy({5}, 1.0) + 1.0};
    XGRAD_CHECK_GRADCHECK(ln, ln_in);
    XGRAD_CHECK_GRADCHECK(rms, rms_in);
    XGRAD_CHECK_GRADGRADCHECK(ln, ln_in);
    XGRAD_CHECK_GRADGRADCHECK(rms, rms_in);
    XGRAD_CHECK_GRADCHECK(ln, {wavy({4}), wavy({4}, 1.0), wavy({4}, 2.0)});  // rank 1
}

TEST_CASE("rms_norm: values") {
    const Variable y = rms_norm(Variable(Tensor{{3.f, 4.f}}), Variable(Tensor{1.f, 2.f}), 1e-6);
    const float r = std::sqrt(12.5f + 1e-6f);  // mean of 9 and 16
    XGRAD_CHECK_TENSOR_CLOSE(y.value(), Tensor({{3.f / r, 8.f / r}}));
}

TEST_CASE("layer_norm, rms_norm: errors name the op and the shapes") {
    const Variable x(Tensor::from_shape({2, 4}));
    const Variable g4(Tensor::from_shape({4})), g3(Tensor::from_shape({3}));
    CHECK_THROWS_WITH_AS(layer_norm(x, g3, g4),
                         "layer_norm: x (2, 4) needs gamma of shape (4,), got (3,)", ShapeError);
    CHECK_THROWS_WITH_AS(layer_norm(x, g4, g3),
                         "layer_norm: x (2, 4) needs beta of shape (4,), got (3,)", ShapeError);
    CHECK_THROWS_WITH_AS(rms_norm(x, g3), "rms_norm: x (2, 4) needs gamma of shape (4,), got (3,)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(layer_norm(Variable(Tensor(1.f)), g4, g4),
                         "layer_norm: expected x of shape (..., features) with at least one "
                         "feature, got ()",
                         ShapeError);
    CHECK_THROWS_WITH_AS(layer_norm(x, g4, g4, 0.0), "layer_norm: epsilon must be positive, got 0",
                         std::invalid_argument);
}
