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

TEST_CASE("tril, triu, causal_mask: numpy's triangles") {
    const Variable x(Tensor{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
    XGRAD_CHECK_TENSOR_CLOSE(tril(x).value(), Tensor({{1.f, 0.f, 0.f}, {4.f, 5.f, 0.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(tril(x, 1).value(), Tensor({{1.f, 2.f, 0.f}, {4.f, 5.f, 6.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(triu(x).value(), Tensor({{1.f, 2.f, 3.f}, {0.f, 5.f, 6.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(triu(x, -1).value(), Tensor({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}}));
    CHECK(causal_mask(2, 3) == Mask{{true, false, false}, {true, true, false}});
    CHECK_THROWS_WITH_AS(tril(Variable(Tensor{1.f})),
                         "tril: needs rank 2 or more (..., rows, columns), got shape (1,)",
                         ShapeError);
}

TEST_CASE("tril, triu: gradient checks and second derivatives on batches") {
    const auto l = [](const V& in) { return tril(in[0] * in[0], -1); };
    const auto u = [](const V& in) { return triu(in[0] * in[0]); };
    XGRAD_CHECK_GRADCHECK(l, {wavy({2, 3, 3})});
    XGRAD_CHECK_GRADGRADCHECK(l, {wavy({2, 3, 3})});
    XGRAD_CHECK_GRADCHECK(u, {wavy({2, 3, 4})});
    XGRAD_CHECK_GRADGRADCHECK(u, {wavy({2, 3, 4})});
}
