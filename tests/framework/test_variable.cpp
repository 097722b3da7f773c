#include <doctest/doctest.h>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

TEST_CASE("a Variable is a shallow handle: copies share value and gradient") {
    Variable a(Tensor{1.f, 2.f}, true);
    Variable b = a;
    b.mutable_value()(0) = 5.f;
    CHECK(a.value()(0) == 5.f);
    sum(a * a).backward();
    CHECK(b.has_grad());
    XGRAD_CHECK_TENSOR_CLOSE(b.grad(), Tensor({10.f, 4.f}));
}

TEST_CASE("leaves, op results and their flags") {
    Variable x(Tensor{1.f, 2.f}, true);
    Variable c(Tensor{3.f, 4.f});
    CHECK(x.is_leaf());
    CHECK(x.requires_grad());
    CHECK_FALSE(c.requires_grad());
    Variable y = x * c;
    CHECK_FALSE(y.is_leaf());
    CHECK(std::string(y.op()) == "mul");
    CHECK(y.requires_grad());
    CHECK_FALSE((c * c).requires_grad());
    CHECK_THROWS_AS(y.set_requires_grad(false), GraphError);
    c.set_requires_grad(true);
    CHECK(c.requires_grad());
}

TEST_CASE("scalars mix with Variables on either side") {
    Variable x(Tensor{1.f, 2.f, 4.f}, true);
    Variable y = 1.0f - x * 2 + 3 / x;
    XGRAD_CHECK_TENSOR_CLOSE(y.value(), Tensor({2.f, -1.5f, -6.25f}));
    sum(y).backward();
    // d/dx (1 - 2x + 3/x) = -2 - 3/x^2
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({-5.f, -2.75f, -2.1875f}));
}

TEST_CASE("item, shape and empty handles") {
    Variable s(Tensor(3.5f));
    CHECK(s.item() == 3.5f);
    CHECK(s.shape().empty());
    Variable v(Tensor{{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
    CHECK(v.shape() == Shape{2, 3});
    CHECK(v.size() == 6);
    CHECK_THROWS_WITH_AS(v.item(), "item: needs a one-element variable, got shape (2, 3)",
                         ShapeError);
    Variable empty;
    CHECK_FALSE(empty.defined());
    CHECK_THROWS_AS(empty.value(), GraphError);
}

TEST_CASE("grad of a variable backward never reached is a clear error") {
    Variable x(Tensor{1.f}, true);
    CHECK_THROWS_WITH_AS(x.grad(), doctest::Contains("has no gradient"), GraphError);
}

TEST_CASE("format_shape prints shapes as tuples") {
    CHECK(format_shape({}) == "()");
    CHECK(format_shape({784}) == "(784,)");
    CHECK(format_shape({32, 784}) == "(32, 784)");
}
