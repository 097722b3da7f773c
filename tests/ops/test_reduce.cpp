#include <doctest/doctest.h>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

TEST_CASE("sum over axes, with and without keepdims") {
    Variable x(Tensor{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
    XGRAD_CHECK_TENSOR_CLOSE(sum(x).value(), Tensor(21.f));
    XGRAD_CHECK_TENSOR_CLOSE(sum(x, {0}).value(), Tensor({5.f, 7.f, 9.f}));
    Tensor column = {6.f, 15.f};
    column.reshape({2, 1});
    XGRAD_CHECK_TENSOR_CLOSE(sum(x, {-1}, true).value(), column);
    CHECK_THROWS_WITH_AS(sum(x, {2}), "sum: axis 2 is out of range for a tensor of rank 2",
                         ShapeError);
}

TEST_CASE("sum: gradient checks") {
    using V = std::vector<Variable64>;
    const Tensor64 x = {{{0.5, -1.0}, {2.0, 0.25}, {1.5, -0.75}}};  // (1, 3, 2)
    XGRAD_CHECK_GRADCHECK([](const V& in) { return sum(in[0]); }, {x});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return sum(in[0], {1}); }, {x});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return sum(in[0], {0, 2}, true); }, {x});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return sum(in[0], {-1}); }, {x});
}
