#include <doctest/doctest.h>

#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

TEST_CASE("LayerNormalization: Keras' parameters, names and count, per time step") {
    nn::LayerNormalization ln;
    ln.build({10, 16});
    CHECK(ln.count_params() == 32);  // gamma and beta: 2 * features
    const auto named = ln.named_parameters();
    REQUIRE(named.size() == 2);
    CHECK(named[0].first == "gamma");
    CHECK(named[1].first == "beta");
    CHECK(ln.output_shape({10, 16}) == Shape{10, 16});
    CHECK(ln.epsilon() == 1e-3);

    nn::LayerNormalization scale_only(1e-5, false, true);
    scale_only.build({4});
    CHECK(scale_only.count_params() == 4);
    nn::LayerNormalization neither(1e-5, false, false);
    neither.build({4});
    CHECK(neither.count_params() == 0);
    CHECK_THROWS_WITH_AS(nn::LayerNormalization(0.0),
                         "LayerNormalization: epsilon must be positive, got 0",
                         std::invalid_argument);
}

TEST_CASE("LayerNormalization: each (example, step) row normalised, gamma and beta applied") {
    nn::LayerNormalization ln(1e-5);
    Tensor x = {{{1.f, 2.f, 3.f}, {10.f, 10.f, 16.f}}};  // (1, 2, 3)
    const Variable y = ln(Variable(x));
    CHECK(y.shape() == Shape{1, 2, 3});
    const Tensor row_means = xt::mean(y.value(), {2});
    XGRAD_CHECK_TENSOR_CLOSE(row_means, Tensor({{0.f, 0.f}}), 1e-5, 1e-5);
    ln.gamma().mutable_value() = Tensor{2.f, 2.f, 2.f};
    ln.beta().mutable_value() = Tensor{1.f, 1.f, 1.f};
    XGRAD_CHECK_TENSOR_CLOSE(ln(Variable(x)).value(), Tensor(y.value() * 2.f + 1.f), 1e-5, 1e-5);
    // The gradient reaches gamma and beta.
    sum(ln(Variable(x)) * Variable(Tensor{1.f, 2.f, 3.f})).backward();
    CHECK(ln.beta().grad()(2) == doctest::Approx(6.f));
    CHECK_THROWS_AS(ln(Variable(Tensor::from_shape({1, 2, 4}))), ShapeError);
}

TEST_CASE("LayerNormalization: built for one window length, it takes any other") {
    nn::LayerNormalization ln(1e-5);
    ln.build({8, 3});
    ln.gamma().mutable_value() = Tensor{1.f, 2.f, 3.f};
    const Tensor x = {{{1.f, 2.f, 4.f}, {0.f, 5.f, -1.f}}};  // (1, 2, 3): 2 steps
    const Tensor y = ln(Variable(x)).value();
    CHECK(y.shape() == Shape{1, 2, 3});
    XGRAD_CHECK_TENSOR_CLOSE(y, layer_norm(Variable(x), ln.gamma(), ln.beta(), 1e-5).value());
    CHECK_THROWS_WITH_AS(ln(Variable(Tensor::from_shape({1, 8, 4}))),
                         "layer_normalization: expected input shape (None, 8, 3), got (1, 8, 4)",
                         ShapeError);
}
