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

TEST_CASE("tile, repeat: numpy's values, errors") {
    const Variable x(Tensor{{1.f, 2.f}, {3.f, 4.f}});
    XGRAD_CHECK_TENSOR_CLOSE(tile(x, {1, 2}).value(),
                             Tensor({{1.f, 2.f, 1.f, 2.f}, {3.f, 4.f, 3.f, 4.f}}));
    CHECK(tile(x, {3, 2, 1}).shape() == Shape{3, 4, 2});
    XGRAD_CHECK_TENSOR_CLOSE(repeat(x, 2, 1).value(),
                             Tensor({{1.f, 1.f, 2.f, 2.f}, {3.f, 3.f, 4.f, 4.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(repeat(x, 2, 0).value(),
                             Tensor({{1.f, 2.f}, {1.f, 2.f}, {3.f, 4.f}, {3.f, 4.f}}));
    CHECK_THROWS_WITH_AS(
        tile(x, {2}), "tile: needs a repetition count per axis of x (2, 2), got (2,)", ShapeError);
    CHECK_THROWS_WITH_AS(repeat(x, 2, 3), "repeat: axis 3 is out of range for shape (2, 2)",
                         ShapeError);
}

TEST_CASE("tile, repeat: gradient checks and second derivatives") {
    const auto t = [](const V& in) { return tile(in[0] * in[0], {2, 1, 3}); };
    const auto r = [](const V& in) { return repeat(in[0] * in[0], 3, 1); };
    XGRAD_CHECK_GRADCHECK(t, {wavy({2, 3})});
    XGRAD_CHECK_GRADGRADCHECK(t, {wavy({2, 3})});
    XGRAD_CHECK_GRADCHECK(r, {wavy({2, 3, 2})});
    XGRAD_CHECK_GRADGRADCHECK(r, {wavy({2, 3, 2})});
}
