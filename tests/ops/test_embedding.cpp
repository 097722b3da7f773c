#include <doctest/doctest.h>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

#include <xtensor/xbuilder.hpp>
#include <xtensor/xview.hpp>

using namespace xgrad;

namespace {
using V = std::vector<Variable64>;

Tensor64 ramp(const Shape& shape) {
    Tensor64 t = xt::arange<double>(static_cast<double>(shape_size(shape))) * 0.1 - 0.35;
    t.reshape(shape);
    return t;
}

// Ids with repeats, so that gradients must add up in a row.
const IndexTensor kIds = {{2, 0, 2}, {4, 1, 2}};
}  // namespace

TEST_CASE("embedding: rows by id, any shape of ids") {
    const Variable table(Tensor{{0.f, 1.f}, {10.f, 11.f}, {20.f, 21.f}});
    XGRAD_CHECK_TENSOR_CLOSE(embedding(table, IndexTensor{{2, 0}, {1, 1}}).value(),
                             Tensor({{{20.f, 21.f}, {0.f, 1.f}}, {{10.f, 11.f}, {10.f, 11.f}}}));
    CHECK(embedding(table, IndexTensor{1}).shape() == Shape{1, 2});
    XGRAD_CHECK_TENSOR_CLOSE(embedding(table, IndexTensor(std::int64_t{2})).value(),
                             Tensor({20.f, 21.f}));
    CHECK(embedding(table, IndexTensor::from_shape({0, 5})).shape() == Shape{0, 5, 2});
}

TEST_CASE("embedding: errors name the op, the id, its position and the table") {
    const Variable table(Tensor::from_shape({3, 2}));
    CHECK_THROWS_WITH_AS(embedding(table, IndexTensor{{0, 1}, {3, 0}}),
                         "embedding: id 3 at position (1, 0) is out of range for a table of "
                         "shape (3, 2)",
                         std::out_of_range);
    CHECK_THROWS_WITH_AS(embedding(table, IndexTensor{-1}),
                         "embedding: id -1 at position (0,) is out of range for a table of "
                         "shape (3, 2)",
                         std::out_of_range);
    CHECK_THROWS_WITH_AS(embedding(Variable(Tensor::from_shape({6})), IndexTensor{0}),
                         "embedding: the table must have shape (num_rows, dim), got (6,)",
                         ShapeError);
}

TEST_CASE("embedding: gradient checks, first and second order") {
    XGRAD_CHECK_GRADCHECK([](const V& in) { return embedding(in[0], kIds); }, {ramp({5, 3})});
    // Used twice and by another op: in-place and returned gradients add up.
    XGRAD_CHECK_GRADCHECK(
        [](const V& in) {
            return embedding(in[0], kIds) * embedding(in[0], IndexTensor{{1, 1, 3}}) +
                   sum(in[0] * in[0]);
        },
        {ramp({5, 3})});
    XGRAD_CHECK_GRADGRADCHECK(
        [](const V& in) {
            const Variable64 e = embedding(in[0], kIds);
            return e * e * embedding(in[0], IndexTensor{{1, 1, 3}, {0, 0, 0}});
        },
        {ramp({5, 3})});
}

TEST_CASE("embedding: backward adds only the used rows into the table's gradient") {
    // The same gradients as index_select's (a dense backward), when the table is used twice,
    // by another op too, and when its gradient already holds a value from an earlier backward.
    const Tensor64 init = ramp({5, 3});
    Variable64 a(init, true), b(init, true);
    for (int pass = 0; pass < 2; ++pass) {
        const Variable64 ya =
            sum(embedding(a, kIds) * 3.0) + sum(embedding(a, IndexTensor{1})) + sum(a * a);
        const Variable64 yb = sum(index_select(b, 0, {2, 0, 2, 4, 1, 2}) * 3.0) +
                              sum(index_select(b, 0, {1})) + sum(b * b);
        ya.backward();
        yb.backward();
        XGRAD_CHECK_TENSOR_CLOSE(a.grad(), b.grad());
    }
    // Rows not used by any lookup hold exactly the other op's gradient (2 a): nothing stray.
    Variable64 t(init, true);
    sum(embedding(t, IndexTensor{1})).backward();
    Tensor64 expected = xt::zeros<double>({5, 3});
    xt::view(expected, 1) = 1.0;
    XGRAD_CHECK_TENSOR_CLOSE(t.grad(), expected);
    // autograd grad() and create_graph take the returned (dense) path: same values.
    Variable64 u(init, true);
    const Variable64 y = sum(embedding(u, kIds) * embedding(u, kIds));
    const Variable64 g = grad<double>({y}, {u}, {.create_graph = true})[0];
    y.backward();
    XGRAD_CHECK_TENSOR_CLOSE(g.value(), u.grad());
    CHECK_FALSE(g.is_leaf());
}
