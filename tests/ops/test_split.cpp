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

TEST_CASE("split, chunk: pieces along an axis, errors") {
    const Variable x(Tensor{{1.f, 2.f, 3.f, 4.f, 5.f}});
    const auto parts = split(x, {2, 0, 3}, 1);
    REQUIRE(parts.size() == 3);
    XGRAD_CHECK_TENSOR_CLOSE(parts[0].value(), Tensor({{1.f, 2.f}}));
    CHECK(parts[1].shape() == Shape{1, 0});
    XGRAD_CHECK_TENSOR_CLOSE(parts[2].value(), Tensor({{3.f, 4.f, 5.f}}));
    const auto chunks = chunk(x, 2, -1);  // ceil(5 / 2) = 3: sizes 3 and 2
    REQUIRE(chunks.size() == 2);
    CHECK(chunks[0].shape() == Shape{1, 3});
    CHECK(chunks[1].shape() == Shape{1, 2});
    CHECK(chunk(x, 4, 1).size() == 3);  // sizes 2, 2, 1 (torch.chunk)
    CHECK_THROWS_WITH_AS(split(x, {2, 2}, 1),
                         "split: sizes (2, 2) do not add up to 5, the size of axis 1 in shape "
                         "(1, 5)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(chunk(x, 0, 1), "chunk: the number of chunks must be positive",
                         std::invalid_argument);
}

TEST_CASE("split, chunk: gradient checks and second derivatives") {
    // Pieces weighted differently, so a gradient sent to the wrong piece shows.
    const auto f = [](const V& in) {
        const auto p = split(in[0] * in[0], {1, 2}, 1);
        return concat({p[1] * 3.0, p[0]}, 1);
    };
    const auto g = [](const V& in) {
        const auto p = chunk(in[0] * in[0], 2, 0);
        return p[0] * 2.0 - p[1];
    };
    XGRAD_CHECK_GRADCHECK(f, {wavy({2, 3, 2})});
    XGRAD_CHECK_GRADGRADCHECK(f, {wavy({2, 3, 2})});
    XGRAD_CHECK_GRADCHECK(g, {wavy({4, 3})});
    XGRAD_CHECK_GRADGRADCHECK(g, {wavy({4, 3})});
}
