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

TEST_CASE("cumsum: forward and reverse along any axis") {
    const Variable x(Tensor{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
    XGRAD_CHECK_TENSOR_CLOSE(cumsum(x).value(), Tensor({{1.f, 3.f, 6.f}, {4.f, 9.f, 15.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(cumsum(x, 0).value(), Tensor({{1.f, 2.f, 3.f}, {5.f, 7.f, 9.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(cumsum(x, 1, true).value(),
                             Tensor({{6.f, 5.f, 3.f}, {15.f, 11.f, 6.f}}));
    CHECK_THROWS_WITH_AS(cumsum(x, 2), "cumsum: axis 2 is out of range for shape (2, 3)",
                         ShapeError);
}

TEST_CASE("cumsum: gradient checks and second derivatives") {
    for (int axis : {0, 1, -1}) {
        for (bool reverse : {false, true}) {
            CAPTURE(axis);
            CAPTURE(reverse);
            const auto f = [axis, reverse](const V& in) {
                return cumsum(in[0] * in[0], axis, reverse);
            };
            XGRAD_CHECK_GRADCHECK(f, {wavy({2, 3, 4})});
            XGRAD_CHECK_GRADGRADCHECK(f, {wavy({2, 3, 4})});
        }
    }
}
