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

TEST_CASE("pad: values on each side of each axis") {
    const Variable x(Tensor{{1.f, 2.f}, {3.f, 4.f}});
    XGRAD_CHECK_TENSOR_CLOSE(
        pad(x, {{1, 0}, {0, 2}}, -1.0).value(),
        Tensor({{-1.f, -1.f, -1.f, -1.f}, {1.f, 2.f, -1.f, -1.f}, {3.f, 4.f, -1.f, -1.f}}));
    CHECK(pad(Variable(Tensor::from_shape({0, 2})), {{1, 1}, {0, 0}}).shape() == Shape{2, 2});
    CHECK_THROWS_WITH_AS(pad(x, {{1, 1}}),
                         "pad: needs one (before, after) pair per axis of x (2, 2), got 1",
                         ShapeError);
}

TEST_CASE("pad: gradient checks and second derivatives") {
    const auto f = [](const V& in) { return pad(in[0] * in[0], {{0, 1}, {2, 0}, {1, 1}}, 0.5); };
    XGRAD_CHECK_GRADCHECK(f, {wavy({2, 3, 2})});
    XGRAD_CHECK_GRADGRADCHECK(f, {wavy({2, 3, 2})});
}
