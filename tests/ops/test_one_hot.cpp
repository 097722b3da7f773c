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

TEST_CASE("one_hot: ids of any shape, a constant, errors naming the id") {
    const Variable y = one_hot(IndexTensor{{0, 2}, {1, 1}}, 3);
    CHECK(y.shape() == Shape{2, 2, 3});
    XGRAD_CHECK_TENSOR_CLOSE(y.value(), Tensor({{{1.f, 0.f, 0.f}, {0.f, 0.f, 1.f}},
                                                {{0.f, 1.f, 0.f}, {0.f, 1.f, 0.f}}}));
    CHECK_FALSE(y.requires_grad());
    CHECK(one_hot<double>(IndexTensor{1}, 2).value()(0, 1) == 1.0);
    CHECK_THROWS_WITH_AS(one_hot(IndexTensor{{0, 3}}, 3),
                         "one_hot: id 3 at position (0, 1) is out of range for depth 3",
                         std::invalid_argument);
    CHECK_THROWS_AS(one_hot(IndexTensor{-1}, 3), std::invalid_argument);
    // Its use as a selector: sum(one_hot * x) picks x at the ids, with gradient 1 there.
    const IndexTensor ids = {2, 0};
    XGRAD_CHECK_GRADCHECK([ids](const V& in) { return sum(one_hot<double>(ids, 3) * in[0]); },
                          {wavy({2, 3})});
}
