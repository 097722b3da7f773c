#include <doctest/doctest.h>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

#include <xtensor/xbuilder.hpp>

using namespace xgrad;

namespace {
using V = std::vector<Variable64>;

// Distinct values 0.1, 0.2, ... (shifted to have both signs) in the given shape.
Tensor64 ramp(const Shape& shape) {
    Tensor64 t = xt::arange<double>(static_cast<double>(shape_size(shape))) * 0.1 - 0.35;
    t.reshape(shape);
    return t;
}

Tensor shaped(Tensor t, const Shape& shape) {
    t.reshape(shape);
    return t;
}

const Tensor X23 = {{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}};
const Tensor X24 = {{1.f, 2.f, 3.f, 4.f}, {5.f, 6.f, 7.f, 8.f}};
}  // namespace

TEST_CASE("reshape: values, an inferred -1, errors naming both shapes") {
    Variable x(X23);
    XGRAD_CHECK_TENSOR_CLOSE(reshape(x, {3, -1}).value(),
                             Tensor({{1.f, 2.f}, {3.f, 4.f}, {5.f, 6.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(reshape(x, {-1}).value(), Tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}));
    CHECK(reshape(x, {1, 6, 1}).shape() == Shape{1, 6, 1});
    CHECK(reshape(Variable(Tensor(3.f)), {1, 1}).shape() == Shape{1, 1});
    CHECK(reshape(Variable(Tensor{3.f}), {}).shape() == Shape{});
    CHECK_THROWS_WITH_AS(reshape(x, {4, -1}), "reshape: cannot reshape (2, 3) into (4, -1)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(reshape(x, {4}), "reshape: cannot reshape (2, 3) into (4,)", ShapeError);
    CHECK_THROWS_WITH_AS(reshape(x, {-1, -1}),
                         "reshape: only one dimension may be -1, got (-1, -1)", ShapeError);
    CHECK_THROWS_WITH_AS(reshape(x, {-2, -3}), "reshape: dimension -2 in (-2, -3) is negative",
                         ShapeError);
    CHECK_THROWS_AS(reshape(Variable(Tensor::from_shape({0, 3})), {0, -1}), ShapeError);
}

TEST_CASE("reshape, flatten: gradient checks") {
    XGRAD_CHECK_GRADCHECK([](const V& in) { return reshape(in[0], {3, -1}); }, {ramp({2, 3})});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return reshape(in[0], {2, 1, 3}); }, {ramp({6})});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return reshape(in[0], {-1}); }, {ramp({1, 3, 1})});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return reshape(in[0], {1}); }, {Tensor64(0.5)});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return flatten(in[0]); }, {ramp({2, 3, 4})});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return flatten(in[0], 0); }, {ramp({2, 1, 3})});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return flatten(in[0], -2); }, {ramp({2, 3, 2})});
}

TEST_CASE("flatten: (32, 28, 28) -> (32, 784) in row-major order, start_dim, errors") {
    Tensor images = xt::arange<float>(32 * 28 * 28);
    images.reshape({32, 28, 28});
    Variable y = flatten(Variable(images));
    CHECK(y.shape() == Shape{32, 784});
    CHECK(y.value()(3, 29) == images(3, 1, 1));
    CHECK(y.value()(31, 783) == images(31, 27, 27));
    CHECK(flatten(Variable(images), 0).shape() == Shape{32 * 784});
    CHECK(flatten(Variable(images), -1).shape() == Shape{32, 28, 28});
    CHECK(flatten(Variable(Tensor{1.f, 2.f})).shape() ==
          Shape{2, 1});  // Keras: (batch,) -> (batch, 1)
    CHECK_THROWS_WITH_AS(flatten(Variable(X23), 3),
                         "flatten: start_dim 3 is out of range for shape (2, 3)", ShapeError);
    CHECK_THROWS_AS(flatten(Variable(X23), -3), ShapeError);
}

TEST_CASE("permute: values, gradient checks, errors") {
    const Tensor64 x = ramp({2, 3, 4});
    Variable64 y = permute(Variable64(x), {2, 0, 1});
    CHECK(y.shape() == Shape{4, 2, 3});
    CHECK(y.value()(3, 1, 2) == x(1, 2, 3));
    CHECK(y.value()(1, 0, 2) == x(0, 2, 1));
    XGRAD_CHECK_TENSOR_CLOSE(permute(Variable(X23), {1, 0}).value(),
                             Tensor({{1.f, 4.f}, {2.f, 5.f}, {3.f, 6.f}}));
    XGRAD_CHECK_GRADCHECK([](const V& in) { return permute(in[0], {2, 0, 1}); }, {x});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return permute(in[0], {1, 2, 0}); }, {ramp({1, 3, 2})});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return permute(in[0], {0}); }, {ramp({3})});
    CHECK_THROWS_WITH_AS(permute(Variable64(x), {0, 0, 1}),
                         "permute: order (0, 0, 1) is not a permutation of the axes of shape (2, "
                         "3, 4)",
                         ShapeError);
    CHECK_THROWS_AS(permute(Variable64(x), {0, 1}), ShapeError);
    CHECK_THROWS_AS(permute(Variable64(x), {0, 1, 3}), ShapeError);
}

TEST_CASE("squeeze, unsqueeze: shapes, gradient checks, errors") {
    Variable x(shaped(X23, {2, 1, 3}));
    CHECK(squeeze(x, 1).shape() == Shape{2, 3});
    CHECK(squeeze(x, -2).shape() == Shape{2, 3});
    XGRAD_CHECK_TENSOR_CLOSE(squeeze(x, 1).value(), X23);
    CHECK(unsqueeze(Variable(X23), 0).shape() == Shape{1, 2, 3});
    CHECK(unsqueeze(Variable(X23), 2).shape() == Shape{2, 3, 1});
    CHECK(unsqueeze(Variable(X23), -1).shape() == Shape{2, 3, 1});
    CHECK(unsqueeze(Variable(Tensor(2.f)), 0).shape() == Shape{1});
    XGRAD_CHECK_TENSOR_CLOSE(unsqueeze(Variable(X23), 1).value(), shaped(X23, {2, 1, 3}));
    XGRAD_CHECK_GRADCHECK([](const V& in) { return squeeze(in[0], 1); }, {ramp({2, 1, 3})});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return squeeze(in[0], 0); }, {ramp({1})});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return unsqueeze(in[0], 1); }, {ramp({2, 3})});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return unsqueeze(in[0], -1); }, {ramp({3, 1})});
    CHECK_THROWS_WITH_AS(squeeze(Variable(X23), 1),
                         "squeeze: axis 1 has size 3, not 1, in shape (2, 3)", ShapeError);
    CHECK_THROWS_WITH_AS(unsqueeze(Variable(X23), 3),
                         "unsqueeze: axis 3 is out of range for shape (2, 3)", ShapeError);
    CHECK_THROWS_AS(squeeze(Variable(X23), -3), ShapeError);
}

TEST_CASE("slice, narrow: values, gradient checks, errors") {
    Variable x(X24);
    XGRAD_CHECK_TENSOR_CLOSE(slice(x, 1, 1, 3).value(), Tensor({{2.f, 3.f}, {6.f, 7.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(slice(x, 0, 1, 2).value(), Tensor({{5.f, 6.f, 7.f, 8.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(narrow(x, -1, 1, 2).value(), Tensor({{2.f, 3.f}, {6.f, 7.f}}));
    CHECK(slice(x, 1, 2, 2).shape() == Shape{2, 0});

    Variable w(X24, true);
    sum(slice(w, 1, 1, 3) * Variable(Tensor{10.f, 20.f})).backward();
    XGRAD_CHECK_TENSOR_CLOSE(w.grad(), Tensor({{0.f, 10.f, 20.f, 0.f}, {0.f, 10.f, 20.f, 0.f}}));

    XGRAD_CHECK_GRADCHECK([](const V& in) { return slice(in[0], 1, 1, 3); }, {ramp({2, 4})});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return slice(in[0], 0, 0, 1); }, {ramp({3, 1, 2})});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return slice(in[0], 2, 1, 2); }, {ramp({2, 3, 2})});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return narrow(in[0], 0, 1, 2); }, {ramp({3})});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return narrow(in[0], -2, 0, 1); }, {ramp({2, 1, 3})});

    CHECK_THROWS_WITH_AS(slice(x, 1, 2, 5),
                         "slice: range 2..5 is out of bounds for axis 1 of size 4 in shape (2, 4)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(slice(x, -1, 3, 2),
                         "slice: range 3..2 starts after it stops for axis 1 of size 4 in shape "
                         "(2, 4)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(narrow(x, 1, 3, 2),
                         "narrow: start 3 with length 2 is out of bounds for axis 1 of size 4 in "
                         "shape (2, 4)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(slice(x, 2, 0, 1), "slice: axis 2 is out of range for shape (2, 4)",
                         ShapeError);
}

TEST_CASE("concat, stack: values, gradient checks, errors") {
    Variable a(Tensor{{1.f, 2.f}, {3.f, 4.f}}), b(shaped({5.f, 6.f}, {2, 1}));
    XGRAD_CHECK_TENSOR_CLOSE(concat({a, b}, 1).value(), Tensor({{1.f, 2.f, 5.f}, {3.f, 4.f, 6.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(concat<float>({a, Variable(Tensor{{7.f, 8.f}})}).value(),
                             Tensor({{1.f, 2.f}, {3.f, 4.f}, {7.f, 8.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(concat<float>({a}, -1).value(), a.value());
    Variable c(Tensor{{5.f, 6.f}, {7.f, 8.f}});
    XGRAD_CHECK_TENSOR_CLOSE(stack<float>({a, c}).value(),
                             Tensor({{{1.f, 2.f}, {3.f, 4.f}}, {{5.f, 6.f}, {7.f, 8.f}}}));
    XGRAD_CHECK_TENSOR_CLOSE(stack({a, c}, 1).value(),
                             Tensor({{{1.f, 2.f}, {5.f, 6.f}}, {{3.f, 4.f}, {7.f, 8.f}}}));
    XGRAD_CHECK_TENSOR_CLOSE(stack<float>({a, c}, -1).value(),
                             Tensor({{{1.f, 5.f}, {2.f, 6.f}}, {{3.f, 7.f}, {4.f, 8.f}}}));

    // Only the inputs that need a gradient get one.
    Variable p(Tensor{1.f, 2.f}, true), q(Tensor{3.f});
    sum(concat<float>({p, q}) * Variable(Tensor{1.f, 2.f, 3.f})).backward();
    XGRAD_CHECK_TENSOR_CLOSE(p.grad(), Tensor({1.f, 2.f}));
    CHECK_FALSE(q.has_grad());

    const auto cat0 = [](const V& in) { return concat(in, 0); };
    const auto cat1 = [](const V& in) { return concat(in, 1); };
    const auto catl = [](const V& in) { return concat(in, -1); };
    XGRAD_CHECK_GRADCHECK(cat0, {ramp({2, 3}), ramp({1, 3}), ramp({3, 3})});
    XGRAD_CHECK_GRADCHECK(cat1, {ramp({2, 1, 2}), ramp({2, 3, 2})});
    XGRAD_CHECK_GRADCHECK(catl, {ramp({2, 1}), ramp({2, 2})});
    XGRAD_CHECK_GRADCHECK(cat0, {ramp({4})});
    const auto st0 = [](const V& in) { return stack(in, 0); };
    const auto st1 = [](const V& in) { return stack(in, 1); };
    const auto stl = [](const V& in) { return stack(in, -1); };
    XGRAD_CHECK_GRADCHECK(st0, {ramp({2, 3}), ramp({2, 3}) * 2.0});
    XGRAD_CHECK_GRADCHECK(st1, {ramp({2, 1}), ramp({2, 1}) + 1.0, ramp({2, 1}) * -1.0});
    XGRAD_CHECK_GRADCHECK(stl, {ramp({3}), ramp({3}) - 0.5});
    XGRAD_CHECK_GRADCHECK(st0, {Tensor64(0.5), Tensor64(-1.5)});

    CHECK_THROWS_WITH_AS(concat<float>({a, Variable(Tensor::from_shape({3, 3}))}, 1),
                         "concat: tensor 1 has shape (3, 3) but tensor 0 has shape (2, 2); they "
                         "must match except along axis 1",
                         ShapeError);
    CHECK_THROWS_AS(concat<float>({a, Variable(Tensor{1.f, 2.f})}), ShapeError);
    CHECK_THROWS_WITH_AS(concat<float>({}), "concat: needs at least one tensor, got none",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(stack<float>({a, b}),
                         "stack: tensor 1 has shape (2, 1) but tensor 0 has shape (2, 2); all "
                         "shapes must be equal",
                         ShapeError);
    CHECK_THROWS_WITH_AS(stack<float>({a, c}, 3), "stack: axis 3 is out of range for shape (2, 2)",
                         ShapeError);
    CHECK_THROWS_AS(stack<float>({}), std::invalid_argument);
}

TEST_CASE("index_select: values, repeated indices add gradients, errors") {
    Variable x(Tensor{{1.f, 2.f}, {3.f, 4.f}, {5.f, 6.f}}, true);
    Variable y = index_select(x, 0, {2, 0, 2});
    XGRAD_CHECK_TENSOR_CLOSE(y.value(), Tensor({{5.f, 6.f}, {1.f, 2.f}, {5.f, 6.f}}));
    sum(y).backward();
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({{1.f, 1.f}, {0.f, 0.f}, {2.f, 2.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(index_select(x, -1, {1}).value(), shaped({2.f, 4.f, 6.f}, {3, 1}));
    CHECK(index_select(x, 0, {}).shape() == Shape{0, 2});

    XGRAD_CHECK_GRADCHECK(
        [](const V& in) {
            return index_select(in[0], 0, {2, 0, 2});
        },
        {ramp({3, 2})});
    XGRAD_CHECK_GRADCHECK(
        [](const V& in) {
            return index_select(in[0], 1, {1, 1, 0});
        },
        {ramp({2, 2, 3})});
    XGRAD_CHECK_GRADCHECK([](const V& in) { return index_select(in[0], -1, {0}); },
                          {ramp({2, 1, 1})});
    CHECK_THROWS_WITH_AS(index_select(x, 1, {0, 7}),
                         "index_select: index 7 is out of range for axis 1 of size 2 in shape (3, "
                         "2)",
                         ShapeError);
}

TEST_CASE("gather: values, gradients, errors") {
    Variable x(X23, true);
    Variable y = gather(x, 1, IndexTensor{{2, 0}, {1, 1}});
    XGRAD_CHECK_TENSOR_CLOSE(y.value(), Tensor({{3.f, 1.f}, {5.f, 5.f}}));
    sum(y).backward();
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({{1.f, 0.f, 1.f}, {0.f, 2.f, 0.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(gather(x, 0, IndexTensor{{1, 0, 1}}).value(),
                             Tensor({{4.f, 2.f, 6.f}}));
    // One label per row, the way a loss picks the target logit.
    IndexTensor labels = {2, 0};
    labels.reshape({2, 1});
    XGRAD_CHECK_TENSOR_CLOSE(gather(x, -1, labels).value(), shaped({3.f, 4.f}, {2, 1}));

    IndexTensor i3 = {{{0, 2, 1, 2}, {1, 1, 0, 0}}, {{2, 2, 2, 0}, {0, 1, 2, 1}}};  // (2, 2, 4)
    const auto g1 = [i3](const V& in) { return gather(in[0], 1, i3); };
    XGRAD_CHECK_GRADCHECK(g1, {ramp({2, 3, 4})});
    IndexTensor i0 = {{{1, 0}, {0, 0}}};  // (1, 2, 2): smaller than x outside the axis too
    const auto g0 = [i0](const V& in) { return gather(in[0], 0, i0); };
    XGRAD_CHECK_GRADCHECK(g0, {ramp({2, 3, 4})});
    const auto gl = [labels](const V& in) { return gather(in[0], 1, labels); };
    XGRAD_CHECK_GRADCHECK(gl, {ramp({2, 3})});

    CHECK_THROWS_WITH_AS(gather(x, 1, IndexTensor{{7, 0}, {0, 0}}),
                         "gather: index 7 is out of range for axis 1 of size 3", ShapeError);
    CHECK_THROWS_WITH_AS(gather(x, 1, IndexTensor{{-1, 0}, {0, 0}}),
                         "gather: index -1 is out of range for axis 1 of size 3", ShapeError);
    CHECK_THROWS_WITH_AS(gather(x, 1, IndexTensor{0, 1}),
                         "gather: index of shape (2,) does not fit x of shape (2, 3) (same rank, "
                         "and no larger outside axis 1)",
                         ShapeError);
    CHECK_THROWS_AS(gather(x, 1, IndexTensor(xt::zeros<std::int64_t>({3, 1}))), ShapeError);
}

TEST_CASE("shape ops: second derivatives (gradgradcheck)") {
    const Tensor64 x = ramp({2, 3, 4});
    // Each op composed with a square, so that the second derivative is not zero.
    auto check = [&x](auto op) {
        XGRAD_CHECK_GRADGRADCHECK([op](const V& in) { return op(in[0] * in[0]); }, {x});
    };
    check([](const Variable64& v) { return reshape(v, {4, -1}); });
    check([](const Variable64& v) { return flatten(v); });
    check([](const Variable64& v) { return permute(v, {2, 0, 1}); });
    check([](const Variable64& v) { return unsqueeze(squeeze(unsqueeze(v, 1), 1), 0); });
    check([](const Variable64& v) { return slice(v, 1, 1, 3); });
    check([](const Variable64& v) { return narrow(v, -1, 0, 2); });
    check([](const Variable64& v) { return concat({v, v * 2.0, slice(v, 2, 0, 1)}, 2); });
    check([](const Variable64& v) { return stack({v, v * 3.0}, 1); });
    check([](const Variable64& v) { return index_select(v, 2, {3, 0, 3}); });
    check([](const Variable64& v) {
        IndexTensor index = {{{0, 2}, {1, 1}, {3, 0}}, {{2, 2}, {0, 1}, {3, 3}}};
        return gather(v, 2, index);
    });
}
