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

TEST_CASE("sort: values and indices, both orders, stable, NaN last") {
    const Variable x(Tensor{{3.f, 1.f, 2.f, 1.f}, {0.f, -1.f, 5.f, 4.f}});
    const auto up = sort(x);
    XGRAD_CHECK_TENSOR_CLOSE(up.values.value(),
                             Tensor({{1.f, 1.f, 2.f, 3.f}, {-1.f, 0.f, 4.f, 5.f}}));
    CHECK(up.indices == IndexTensor{{1, 3, 2, 0}, {1, 0, 3, 2}});
    const auto down = sort(x, 1, true);
    CHECK(down.indices == IndexTensor{{0, 2, 1, 3}, {2, 3, 0, 1}});
    const auto cols = sort(x, 0);
    CHECK(cols.indices == IndexTensor{{1, 1, 0, 0}, {0, 0, 1, 1}});
    const auto nan = sort(Variable(Tensor{2.f, NAN, 1.f}), 0, true);
    CHECK(nan.indices == IndexTensor{0, 2, 1});
    CHECK_THROWS_WITH_AS(sort(x, 2), "sort: axis 2 is out of range for shape (2, 4)",
                         ShapeError);
}

TEST_CASE("topk: the k largest or smallest, ties by position, errors") {
    const Variable x(Tensor{{3.f, 1.f, 3.f, 0.f}, {0.f, -1.f, 5.f, 4.f}});
    const auto top = topk(x, 2);
    XGRAD_CHECK_TENSOR_CLOSE(top.values.value(), Tensor({{3.f, 3.f}, {5.f, 4.f}}));
    CHECK(top.indices == IndexTensor{{0, 2}, {2, 3}});
    const auto low = topk(x, 1, 1, false);
    CHECK(low.indices(0, 0) == 3);
    CHECK(low.indices(1, 0) == 1);
    CHECK(low.indices.shape()[1] == 1);
    CHECK(topk(x, 0).values.shape() == Shape{2, 0});
    CHECK_THROWS_WITH_AS(topk(x, 5), "topk: k 5 is larger than axis 1 of size 4 in shape (2, 4)",
                         ShapeError);
}

TEST_CASE("sort, topk: gradient checks and second derivatives of the values") {
    const auto s = [](const V& in) { return sort(in[0] * in[0], 1, true).values; };
    const auto t = [](const V& in) { return topk(in[0] * in[0], 2, 0).values; };
    XGRAD_CHECK_GRADCHECK(s, {wavy({3, 4})});
    XGRAD_CHECK_GRADCHECK(t, {wavy({3, 4})});
    XGRAD_CHECK_GRADGRADCHECK(s, {wavy({3, 4})});
    XGRAD_CHECK_GRADGRADCHECK(t, {wavy({3, 4})});
}
