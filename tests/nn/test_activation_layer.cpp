#include <doctest/doctest.h>

#include <xtensor/xmath.hpp>

#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

TEST_CASE("Activation: applies the named function") {
    nn::Activation relu("relu");
    CHECK(relu.activation() == "relu");
    CHECK(relu.type_name() == "Activation");
    CHECK(relu.name() == "activation");
    XGRAD_CHECK_TENSOR_CLOSE(relu(Variable(Tensor{{-1.f, 2.f}, {3.f, -4.f}})).value(),
                             Tensor({{0.f, 2.f}, {3.f, 0.f}}));
    nn::Activation tanh_layer("tanh");
    const Tensor x = {{0.5f, -0.25f}};
    XGRAD_CHECK_TENSOR_CLOSE(tanh_layer(Variable(x)).value(), Tensor(xt::tanh(x)));
    nn::Activation linear("linear");
    CHECK(linear(Variable(x)).value() == x);
    CHECK(relu.count_params() == 0);
    CHECK(relu.output_shape({7, 3}) == Shape{7, 3});
}

TEST_CASE("Activation: every activation of ops/activation.h is accepted") {
    for (const auto& name : activation_names()) {
        CAPTURE(name);
        nn::Activation a(name);
        CHECK(a(Variable(Tensor{{0.5f, -1.f, 2.f}})).shape() == Shape{1, 3});
    }
}

TEST_CASE("Activation: an unknown name lists the valid ones") {
    try {
        nn::Activation a("sigmod");
        FAIL("no error for an unknown activation");
    } catch (const std::invalid_argument& e) {
        const std::string msg = e.what();
        CHECK(msg.find("unknown activation 'sigmod'") != std::string::npos);
        for (const auto& name : activation_names()) CHECK(msg.find(name) != std::string::npos);
    }
}

TEST_CASE("Activation: accepts any shape, also after the first call") {
    nn::Activation a("sigmoid");
    CHECK(a(Variable(Tensor::from_shape({2, 3}))).shape() == Shape{2, 3});
    CHECK(a(Variable(Tensor::from_shape({4, 5, 6}))).shape() == Shape{4, 5, 6});
}
