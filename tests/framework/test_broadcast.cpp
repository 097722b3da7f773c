#include <doctest/doctest.h>

#include "framework/broadcast.h"
#include "framework/errors.h"
#include "framework/testing.h"

using namespace xgrad;

TEST_CASE("broadcast_shapes follows numpy") {
    CHECK(broadcast_shapes("add", {2, 3}, {3}) == Shape{2, 3});
    CHECK(broadcast_shapes("add", {4, 1, 3}, {5, 1}) == Shape{4, 5, 3});
    CHECK(broadcast_shapes("add", {}, {2, 2}) == Shape{2, 2});
    CHECK_THROWS_WITH_AS(broadcast_shapes("add", {2, 3}, {4}),
                         "add: shapes (2, 3) and (4,) cannot be broadcast (3 != 4 in dimension "
                         "1 of the result)",
                         ShapeError);
}

TEST_CASE("sum_to reduces added and stretched dimensions") {
    Tensor g = {{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}};
    XGRAD_CHECK_TENSOR_CLOSE(sum_to(g, {3}), Tensor({5.f, 7.f, 9.f}));
    Tensor column = {6.f, 15.f};
    column.reshape({2, 1});
    XGRAD_CHECK_TENSOR_CLOSE(sum_to(g, {2, 1}), column);
    XGRAD_CHECK_TENSOR_CLOSE(sum_to(g, {}), Tensor(21.f));
    XGRAD_CHECK_TENSOR_CLOSE(sum_to(g, {2, 3}), g);
    CHECK_THROWS_AS(sum_to(g, {2}), ShapeError);
}
