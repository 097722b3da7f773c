#include <doctest/doctest.h>

#include <cmath>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xsort.hpp>
#include <xtensor/xview.hpp>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

TEST_CASE("Dense: construction checks units, activation and initializer names") {
    CHECK_THROWS_WITH_AS(nn::Dense(0), "Dense: units must be positive, got 0",
                         std::invalid_argument);
    try {
        nn::Dense d(3, "rellu");
        FAIL("no error for an unknown activation");
    } catch (const std::invalid_argument& e) {
        const std::string msg = e.what();
        CHECK(msg.find("unknown activation 'rellu'") != std::string::npos);
        CHECK(msg.find("relu") != std::string::npos);
        CHECK(msg.find("softmax") != std::string::npos);
    }
    CHECK_THROWS_WITH_AS(nn::Dense(3, "relu", true, "xavier"),
                         "unknown initializer 'xavier'; valid names: glorot_uniform, "
                         "glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, "
                         "random_uniform, random_normal, zeros, ones, "
                         "orthogonal",
                         std::invalid_argument);
    CHECK(nn::Dense(3).activation() == "linear");
    CHECK(nn::Dense(3, "none").activation() == "linear");
    CHECK(nn::Dense(3, "relu").activation() == "relu");
    CHECK(nn::Dense(3).type_name() == "Dense");
    CHECK(nn::Dense(3).name() == "dense");
}

TEST_CASE("Dense: kernel (in, units) glorot-uniform, bias (units,) zeros") {
    nn::Dense d(100);
    CHECK_FALSE(d.kernel().defined());
    d.build({784});
    CHECK(d.kernel().shape() == Shape{784, 100});
    CHECK(d.bias().shape() == Shape{100});
    CHECK(d.bias().value() == Tensor(xt::zeros<float>({100})));
    const double limit = std::sqrt(6.0 / (784 + 100));
    CHECK(static_cast<double>(xt::amax(xt::abs(d.kernel().value()))()) <= limit);
    CHECK(static_cast<double>(xt::amax(xt::abs(d.kernel().value()))()) > 0.9 * limit);
    CHECK(d.count_params() == 78500);
    CHECK(d.output_shape({784}) == Shape{100});
    auto named = d.named_parameters();
    REQUIRE(named.size() == 2);
    CHECK(named[0].first == "kernel");
    CHECK(named[1].first == "bias");
    CHECK(d.kernel().requires_grad());

    nn::Dense nb(10, "relu", false);
    nb.build({100});
    CHECK(nb.count_params() == 1000);
    CHECK_FALSE(nb.bias().defined());
    CHECK(nb.parameters().size() == 1);
}

TEST_CASE("Dense: the kernel initializer is selectable and seeded by manual_seed") {
    manual_seed(5);
    nn::Dense a(50, "relu", true, "he_normal");
    a.build({200});
    const double stddev = std::sqrt(2.0 / 200);
    CHECK(static_cast<double>(xt::amax(xt::abs(a.kernel().value()))()) <=
          2 * stddev / 0.87962566103423978 + 1e-6);
    manual_seed(5);
    nn::Dense b(50, "relu", true, "he_normal");
    b.build({200});
    CHECK(a.kernel().value() == b.kernel().value());
    nn::Dense z(4, "linear", true, "zeros");
    z.build({3});
    CHECK(z.kernel().value() == Tensor(xt::zeros<float>({3, 4})));
}

TEST_CASE("Dense: forward is activation(x W + b); forward_linear skips the activation") {
    nn::Dense d(2, "relu");
    d.build({3});
    d.kernel().mutable_value() = Tensor{{1.f, -1.f}, {2.f, 0.5f}, {-1.f, 1.f}};
    d.bias().mutable_value() = Tensor{0.5f, -4.f};
    const Variable x(Tensor{{1.f, 2.f, 3.f}, {-1.f, 0.f, 1.f}});
    // x W + b = [[1 + 4 - 3 + 0.5, -1 + 1 + 3 - 4], [-1 - 1 + 0.5, 1 + 1 - 4]]
    XGRAD_CHECK_TENSOR_CLOSE(d.forward_linear(x).value(), Tensor({{2.5f, -1.f}, {-1.5f, -2.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(d(x).value(), Tensor({{2.5f, 0.f}, {0.f, 0.f}}));

    nn::Dense s(2, "softmax");
    s.build({3});
    s.kernel().mutable_value() = Tensor{{1.f, -1.f}, {2.f, 0.5f}, {-1.f, 1.f}};
    // logits x W = [[2, 3], [-2, 2]]; softmax by hand.
    const Tensor expected = {{0.26894142f, 0.73105858f}, {0.01798621f, 0.98201379f}};
    XGRAD_CHECK_TENSOR_CLOSE(s(x).value(), expected);
}

TEST_CASE("Dense: gradients reach the kernel and the bias") {
    nn::Dense d(2);
    d.build({3});
    const Tensor xv = {{1.f, 2.f, 3.f}, {-1.f, 0.f, 1.f}};
    sum(d(Variable(xv))).backward();
    // d sum(x W + b) / dW = x^T 1, / db = batch size.
    XGRAD_CHECK_TENSOR_CLOSE(d.kernel().grad(), Tensor({{0.f, 0.f}, {2.f, 2.f}, {4.f, 4.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(d.bias().grad(), Tensor({2.f, 2.f}));
}

TEST_CASE("Dense: shape errors name the layer and both shapes") {
    nn::Dense d(10);
    CHECK_THROWS_WITH_AS(d(Variable(Tensor::from_shape({32}))),
                         "dense: expected input of shape (None, ..., features), got (None,)",
                         ShapeError);
    CHECK_FALSE(d.built());
    d.build({784});
    CHECK_THROWS_WITH_AS(d(Variable(Tensor::from_shape({32, 100}))),
                         "dense: expected input shape (None, 784), got (32, 100)", ShapeError);
    CHECK_THROWS_WITH_AS(d.forward_linear(Variable(Tensor::from_shape({32, 100}))),
                         "dense: expected input shape (None, 784), got (32, 100)", ShapeError);
    CHECK_THROWS_AS(d.build({100}), ShapeError);
}

TEST_CASE("Dense: forward_linear builds an unbuilt layer") {
    nn::Dense d(4);
    CHECK(d.forward_linear(Variable(Tensor::from_shape({2, 3}))).shape() == Shape{2, 4});
    CHECK(d.built());
}

TEST_CASE("Dense: on rank > 2 it applies to the last axis, as Keras") {
    manual_seed(3);
    nn::Dense d(2, "relu");
    Tensor x = xt::arange<float>(-6.f, 6.f);
    x.reshape({2, 2, 3});  // (batch 2, 2 steps, 3 features)
    const Variable y = d(Variable(x));
    CHECK(y.shape() == Shape{2, 2, 2});
    CHECK(d.kernel().shape() == Shape{3, 2});
    CHECK(d.output_shape({5, 3}) == Shape{5, 2});
    // Each (step, example) row is x_row W + b, then relu.
    const Tensor& w = d.kernel().value();
    for (std::size_t b = 0; b < 2; ++b)
        for (std::size_t t = 0; t < 2; ++t)
            for (std::size_t u = 0; u < 2; ++u) {
                float v = 0;
                for (std::size_t f = 0; f < 3; ++f) v += x(b, t, f) * w(f, u);
                CHECK(y.value()(b, t, u) == doctest::Approx(std::max(v, 0.f)));
            }
}

TEST_CASE("Dense: built for one window length, it takes any other (Keras' None time axis)") {
    manual_seed(5);
    nn::Dense d(3);
    d.build({6, 4});
    Tensor x = xt::arange<float>(0.f, 24.f);
    x.reshape({1, 6, 4});
    const Tensor full = d(Variable(x)).value();
    // The last two steps alone, and one step without a time axis: the same rows.
    const Tensor tail = d(Variable(Tensor(xt::view(x, xt::all(), xt::range(4, 6))))).value();
    CHECK(tail.shape() == std::vector<std::size_t>{1, 2, 3});
    XGRAD_CHECK_TENSOR_CLOSE(tail, Tensor(xt::view(full, xt::all(), xt::range(4, 6))));
    const Tensor step = d(Variable(Tensor(xt::view(x, xt::all(), 5)))).value();
    XGRAD_CHECK_TENSOR_CLOSE(step, Tensor(xt::view(full, xt::all(), 5)));
    d.build({2, 4});  // already built: the same weights
    CHECK(d.count_params() == 15);
    // Another number of features is still an error naming both shapes.
    CHECK_THROWS_WITH_AS(d(Variable(Tensor::from_shape({1, 6, 5}))),
                         "dense: expected input shape (None, 6, 4), got (1, 6, 5)", ShapeError);
    CHECK_THROWS_WITH_AS(d.build({6, 5}),
                         "dense: already built for input shape (None, 6, 4), got (None, 6, 5)",
                         ShapeError);
}
