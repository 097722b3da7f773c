#include <doctest/doctest.h>

#include <xtensor/xbuilder.hpp>
#include "framework/errors.h"

#include "ops/reduce.h"
#include "xgrad.h"

using namespace xgrad;

TEST_CASE("merge layers: shapes, counts and errors") {
    nn::Concatenate cat(1);
    CHECK(cat.output_shapes({{2, 3}, {4, 3}}) == std::vector<Shape>{{6, 3}});
    CHECK(nn::Concatenate().output_shapes({{2, 3}, {2, 1}}) == std::vector<Shape>{{2, 4}});
    CHECK_THROWS_WITH_AS(nn::Concatenate().output_shapes({{2, 3}, {4, 1}}),
                         "concatenate: inputs must agree on every axis but -1, got (None, 2, 3), "
                         "(None, 4, 1)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(nn::Concatenate(3).output_shapes({{2, 3}, {2, 3}}),
                         "concatenate: axis 3 is out of range for inputs of rank 3", ShapeError);
    CHECK_THROWS_WITH_AS(nn::Add().output_shapes({{2}}), "add (Add) needs at least 2 inputs, got 1",
                         std::invalid_argument);
    nn::Maximum max;
    CHECK_THROWS_AS(max(Variable(xt::ones<float>({1, 1}))), std::invalid_argument);
}

TEST_CASE("merge layers: gradients reach each input") {
    // loss = sum(y * (1, 2, ..., n)): each input's gradient is the weights it contributed to.
    auto grads = [](nn::Module& layer) {
        const Variable a(Tensor{{0.5f, -1.f, 2.f}}, true), b(Tensor{{1.5f, 0.25f, -3.f}}, true);
        const Variable y = layer({a, b})[0];
        Tensor w = xt::arange<float>(1.f, 1.f + static_cast<float>(y.size()));
        w.reshape(y.shape());
        sum(y * Variable(w)).backward();
        return std::pair{a.grad(), b.grad()};
    };
    nn::Subtract sub;
    auto [ga, gb] = grads(sub);
    CHECK(ga == Tensor{{1.f, 2.f, 3.f}});
    CHECK(gb == Tensor{{-1.f, -2.f, -3.f}});
    nn::Maximum max;
    auto [ma, mb] = grads(max);
    CHECK(ma == Tensor{{0.f, 0.f, 3.f}});
    CHECK(mb == Tensor{{1.f, 2.f, 0.f}});
    nn::Average avg;
    auto [aa, ab] = grads(avg);
    CHECK(aa == Tensor{{0.5f, 1.f, 1.5f}});
    CHECK(ab == Tensor{{0.5f, 1.f, 1.5f}});
    nn::Multiply mul;
    auto [pa, pb] = grads(mul);
    CHECK(pa == Tensor{{1.5f, 0.5f, -9.f}});
    CHECK(pb == Tensor{{0.5f, -2.f, 6.f}});
    nn::Concatenate cat;
    auto [ca, cb] = grads(cat);
    CHECK(ca == Tensor{{1.f, 2.f, 3.f}});
    CHECK(cb == Tensor{{4.f, 5.f, 6.f}});
}
