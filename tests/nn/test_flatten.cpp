#include <doctest/doctest.h>

#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "xgrad.h"

using namespace xgrad;

TEST_CASE("Flatten: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...) in row-major order") {
    nn::Flatten f;
    CHECK(f.type_name() == "Flatten");
    CHECK_FALSE(f.declared_input_shape());
    Tensor x = xt::arange<float>(24.f);
    x.reshape({2, 3, 4});
    const Variable y = f(Variable(x));
    CHECK(y.shape() == Shape{2, 12});
    CHECK(y.value()(0, 5) == 5.f);
    CHECK(y.value()(1, 11) == 23.f);
    CHECK(f.count_params() == 0);
    CHECK(f.output_shape({3, 4}) == Shape{12});
    CHECK(f.output_shape({28, 28}) == Shape{784});
}

TEST_CASE("Flatten: the gradient flows back in the input's shape") {
    nn::Flatten f;
    Variable x(Tensor::from_shape({2, 2, 2}), true);
    x.mutable_value().fill(1.f);
    sum(f(x) * 3.f).backward();
    CHECK(x.grad() == Tensor(xt::ones<float>({2, 2, 2}) * 3.f));
}

TEST_CASE("Flatten: a declared input shape is checked") {
    nn::Flatten f({28, 28});
    CHECK(*f.declared_input_shape() == Shape{28, 28});
    CHECK_THROWS_WITH_AS(f(Variable(Tensor::from_shape({2, 14, 14}))),
                         "flatten: expected input shape (None, 28, 28), got (None, 14, 14)",
                         ShapeError);
    CHECK(f(Variable(Tensor::from_shape({2, 28, 28}))).shape() == Shape{2, 784});
    CHECK_THROWS_WITH_AS(f(Variable(Tensor::from_shape({2, 14, 14}))),
                         "flatten: expected input shape (None, 28, 28), got (2, 14, 14)",
                         ShapeError);
}

TEST_CASE("Flatten: a batch of scalars becomes (batch, 1)") {
    nn::Flatten f;
    CHECK(f(Variable(Tensor{1.f, 2.f, 3.f})).shape() == Shape{3, 1});
    CHECK(f.output_shape({}) == Shape{1});
}
