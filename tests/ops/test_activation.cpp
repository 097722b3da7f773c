#include <doctest/doctest.h>

#include <cmath>

#include <functional>
#include <random>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>
#include <xtensor/xstrided_view.hpp>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

using V64 = std::vector<Variable64>;

Tensor64 random_tensor(const Shape& shape, unsigned seed, double scale = 2.0) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> dist(-scale, scale);
    Tensor64 t = Tensor64::from_shape(shape);
    for (auto& v : t) v = dist(rng);
    return t;
}

const std::vector<Shape> kShapes = {{5}, {1}, {2, 3}, {3, 1}, {1, 4}, {2, 1, 3}};

// Every activation as a function of one input, with its default parameters.
const std::vector<std::pair<const char*, std::function<Variable64(const Variable64&)>>>
    kActivations = {
        {"relu", [](const Variable64& x) { return relu(x); }},
        {"leaky_relu", [](const Variable64& x) { return leaky_relu(x); }},
        {"leaky_relu(0.05)", [](const Variable64& x) { return leaky_relu(x, 0.05); }},
        {"elu", [](const Variable64& x) { return elu(x); }},
        {"elu(0.5)", [](const Variable64& x) { return elu(x, 0.5); }},
        {"selu", [](const Variable64& x) { return selu(x); }},
        {"gelu", [](const Variable64& x) { return gelu(x); }},
        {"gelu(tanh)", [](const Variable64& x) { return gelu(x, true); }},
        {"sigmoid", [](const Variable64& x) { return sigmoid(x); }},
        {"tanh", [](const Variable64& x) { return xgrad::tanh(x); }},
        {"softplus", [](const Variable64& x) { return softplus(x); }},
        {"softsign", [](const Variable64& x) { return softsign(x); }},
        {"silu", [](const Variable64& x) { return silu(x); }},
        {"swish", [](const Variable64& x) { return swish(x); }},
        {"hard_sigmoid", [](const Variable64& x) { return hard_sigmoid(x); }},
        {"softmax", [](const Variable64& x) { return softmax(x); }},
        {"log_softmax", [](const Variable64& x) { return log_softmax(x); }},
        {"softmax(axis 0)", [](const Variable64& x) { return softmax(x, 0); }},
        {"log_softmax(axis 0)", [](const Variable64& x) { return log_softmax(x, 0); }},
};

bool all_finite(const Tensor64& t) {
    return xt::all(xt::isfinite(t));
}

}  // namespace

TEST_CASE("activations: forward against hand-computed values") {
    const Variable64 x(Tensor64{-1.0, 0.0, 2.0});
    XGRAD_CHECK_TENSOR_CLOSE(relu(x).value(), Tensor64({0.0, 0.0, 2.0}));
    XGRAD_CHECK_TENSOR_CLOSE(leaky_relu(x).value(), Tensor64({-0.2, 0.0, 2.0}));
    XGRAD_CHECK_TENSOR_CLOSE(leaky_relu(x, 0.1).value(), Tensor64({-0.1, 0.0, 2.0}));
    XGRAD_CHECK_TENSOR_CLOSE(elu(x).value(), Tensor64({-0.6321205588285577, 0.0, 2.0}));
    XGRAD_CHECK_TENSOR_CLOSE(elu(x, 2.0).value(), Tensor64({-1.2642411176571153, 0.0, 2.0}));
    XGRAD_CHECK_TENSOR_CLOSE(selu(x).value(),
                             Tensor64({-1.1113307378125628, 0.0, 2.101401974710961}));
    XGRAD_CHECK_TENSOR_CLOSE(gelu(x).value(),
                             Tensor64({-0.15865525393145707, 0.0, 1.9544997361036416}));
    XGRAD_CHECK_TENSOR_CLOSE(gelu(x, true).value(),
                             Tensor64({-0.15880800939172324, 0.0, 1.954597694087775}));
    XGRAD_CHECK_TENSOR_CLOSE(sigmoid(x).value(),
                             Tensor64({0.2689414213699951, 0.5, 0.8807970779778823}));
    XGRAD_CHECK_TENSOR_CLOSE(xgrad::tanh(x).value(),
                             Tensor64({-0.7615941559557649, 0.0, 0.9640275800758169}));
    XGRAD_CHECK_TENSOR_CLOSE(softplus(x).value(), Tensor64({0.31326168751822286, 0.6931471805599453,
                                                            2.1269280110429727}));
    XGRAD_CHECK_TENSOR_CLOSE(softsign(x).value(), Tensor64({-0.5, 0.0, 2.0 / 3.0}));
    XGRAD_CHECK_TENSOR_CLOSE(silu(x).value(),
                             Tensor64({-0.2689414213699951, 0.0, 1.7615941559557646}));
    XGRAD_CHECK_TENSOR_CLOSE(swish(x).value(), silu(x).value());
    XGRAD_CHECK_TENSOR_CLOSE(hard_sigmoid(Variable64(Tensor64{-4.0, 0.0, 1.5, 4.0})).value(),
                             Tensor64({0.0, 0.5, 0.75, 1.0}));
}

TEST_CASE("softmax and log_softmax: forward along an axis") {
    const Variable64 x(Tensor64{1.0, 2.0, 3.0});
    XGRAD_CHECK_TENSOR_CLOSE(softmax(x).value(), Tensor64({0.09003057317038046, 0.24472847105479764,
                                                           0.6652409557748219}));
    XGRAD_CHECK_TENSOR_CLOSE(
        log_softmax(x).value(),
        Tensor64({-2.4076059644443806, -1.4076059644443804, -0.4076059644443803}));
    // Along axis 0 of a (2, 2): each column is normalised.
    const Variable64 m(Tensor64{{0.0, 1.0}, {0.0, 3.0}});
    XGRAD_CHECK_TENSOR_CLOSE(softmax(m, 0).value(),
                             Tensor64({{0.5, 0.11920292202211755}, {0.5, 0.8807970779778823}}));
    XGRAD_CHECK_TENSOR_CLOSE(softmax(m, -1).value(),
                             Tensor64({{0.2689414213699951, 0.7310585786300049},
                                       {0.04742587317756678, 0.9525741268224334}}));
    CHECK_THROWS_WITH_AS(softmax(m, 2), "softmax: axis 2 is out of range for shape (2, 2)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(log_softmax(m, -3),
                         "log_softmax: axis -3 is out of range for shape (2, 2)", ShapeError);
}

TEST_CASE("activations: gradient checks over several shapes") {
    for (const auto& item : kActivations) {
        const auto& name = item.first;
        const auto& f = item.second;
        CAPTURE(name);
        unsigned seed = 1;
        for (const Shape& s : kShapes) {
            CAPTURE(format_shape(s));
            // hard_sigmoid's kinks are at +-3: span them.
            const double scale = std::string(name) == "hard_sigmoid" ? 4.0 : 2.0;
            XGRAD_CHECK_GRADCHECK([&f = f](const V64& in) { return f(in[0]); },
                                  {random_tensor(s, seed++, scale)});
        }
    }
    // softmax along a middle axis.
    XGRAD_CHECK_GRADCHECK([](const V64& in) { return softmax(in[0], 1); },
                          {random_tensor({2, 3, 2}, 9)});
    XGRAD_CHECK_GRADCHECK([](const V64& in) { return log_softmax(in[0], 1); },
                          {random_tensor({2, 3, 2}, 10)});
}

TEST_CASE("activations: finite values and gradients for inputs of +-1e4") {
    for (const auto& item : kActivations) {
        const auto& name = item.first;
        const auto& f = item.second;
        CAPTURE(name);
        Variable64 x(Tensor64{{1e4, -1e4, 0.0}, {-1e4, -1e4, -1e4}}, true);
        Variable64 y = f(x);
        CHECK(all_finite(y.value()));
        y.backward(Tensor64{{1.0, 0.5, -2.0}, {0.3, 0.7, 1.1}});
        CHECK(all_finite(x.grad()));
    }
    // In float32 too, where exp(1e4) is already infinite.
    Variable x(Tensor{{1e4f, -1e4f, 0.f}, {-1e4f, -1e4f, -1e4f}}, true);
    Variable y = log_softmax(x);
    XGRAD_CHECK_TENSOR_CLOSE(
        y.value(), Tensor({{0.f, -2e4f, -1e4f}, {-1.0986123f, -1.0986123f, -1.0986123f}}));
    Variable p = softmax(x);
    XGRAD_CHECK_TENSOR_CLOSE(p.value(), Tensor({{1.f, 0.f, 0.f}, {1.f / 3, 1.f / 3, 1.f / 3}}));
    p.backward(Tensor{{1.f, 2.f, 3.f}, {1.f, 2.f, 3.f}});
    CHECK(xt::all(xt::isfinite(x.grad())));
    using Fn = Variable (*)(const Variable&);
    for (Fn act : std::vector<Fn>{sigmoid<float>, softplus<float>, silu<float>}) {
        Variable z(Tensor{1e4f, -1e4f}, true);
        Variable out = act(z);
        out.backward(Tensor{1.f, 1.f});
        CHECK(xt::all(xt::isfinite(out.value())));
        CHECK(xt::all(xt::isfinite(z.grad())));
    }
}

TEST_CASE("activate: looks activations up by name") {
    const Variable64 x(random_tensor({2, 3}, 3));
    XGRAD_CHECK_TENSOR_CLOSE(activate("relu", x).value(), relu(x).value());
    XGRAD_CHECK_TENSOR_CLOSE(activate("softmax", x).value(), softmax(x, -1).value());
    XGRAD_CHECK_TENSOR_CLOSE(activate("gelu", x).value(), gelu(x).value());
    CHECK(activate("linear", x).node() == x.node());
    CHECK(activation_names().size() == 15);
    for (const auto& name : activation_names()) {
        CAPTURE(name);
        CHECK_NOTHROW(check_activation_name(name));
        XGRAD_CHECK_GRADCHECK([&name](const V64& in) { return activate(name, in[0]); },
                              {random_tensor({2, 3}, 4)});
    }
}

TEST_CASE("activate: an unknown name lists the valid ones") {
    const char* message =
        "unknown activation 'rleu'; valid names: linear, relu, leaky_relu, elu, selu, gelu, "
        "sigmoid, tanh, softplus, softsign, silu, swish, hard_sigmoid, softmax, log_softmax";
    CHECK_THROWS_WITH_AS(activate("rleu", Variable(Tensor{1.f})), message, std::invalid_argument);
    CHECK_THROWS_WITH_AS(check_activation_name("rleu"), message, std::invalid_argument);
    CHECK_THROWS_AS(check_activation_name("ReLU"), std::invalid_argument);
}

TEST_CASE("relu lets NaN through instead of hiding it as 0") {
    Variable x(Tensor{std::nanf(""), -1.f, 2.f});
    const Tensor y = relu(x).value();
    CHECK(std::isnan(y(0)));
    CHECK(y(1) == 0.f);
    CHECK(y(2) == 2.f);
}

TEST_CASE("activations: second derivatives (gradgradcheck) on every shape") {
    // Composed with a product, so that the second derivative also exercises the chain rule
    // through the activation's graph backward (relu, leaky_relu and hard_sigmoid are
    // piecewise linear: their own second derivative is 0 away from the kinks).
    for (const auto& activation : kActivations) {
        for (std::size_t k = 0; k < kShapes.size(); ++k) {
            const Tensor64 x = random_tensor(kShapes[k], 300 + static_cast<unsigned>(k));
            const auto& f = activation.second;
            INFO(activation.first, " on shape ", format_shape(kShapes[k]));
            XGRAD_CHECK_GRADGRADCHECK([&f](const V64& in) { return f(in[0]) * in[0]; }, {x});
        }
    }
    XGRAD_CHECK_GRADGRADCHECK([](const V64& in) { return erf(in[0]) * in[0]; },
                              {random_tensor({2, 3}, 7)});
}

TEST_CASE("float32 tanh is within 7 ulp of the exact value everywhere") {
    // Its branchless kernel (ops/float_math.h) against tanh in double, over [-10, 10] and at
    // tiny inputs and the clamp. scripts/fit_float_math.py measures 6.3 ulp at most when
    // each multiply-add rounds twice (the -O1 sanitizer build), less with FMA.
    Tensor x = xt::linspace<float>(-10.0f, 10.0f, 400001);
    const Tensor edges = {0.0f,  0.62499f, 0.625f, 0.62501f, -0.625f, 43.5f,
                          44.0f, -44.0f,   1e-30f, -1e-30f,  30.0f,   -30.0f};
    x = xt::concatenate(xt::xtuple(x, edges));
    const Tensor y = xgrad::tanh(Variable(x)).value();
    double worst = 0;
    float at = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double exact = std::tanh(static_cast<double>(x(i)));
        // One ulp of the exact value, as a float32 spacing.
        const double ulp = std::nextafter(std::abs(static_cast<float>(exact)), 2.0f) -
                           std::abs(static_cast<float>(exact));
        const double err = std::abs(y(i) - exact) / ulp;
        if (err > worst) worst = err, at = x(i);
    }
    CAPTURE(at);
    CHECK(worst <= 7.0);
}

TEST_CASE("tanh_backward: grad * (1 - y^2), differentiable in both inputs to second order") {
    const Variable64 g(Tensor64{0.5, -2.0, 3.0});
    const Variable64 y(Tensor64{0.0, 0.5, -0.9});
    XGRAD_CHECK_TENSOR_CLOSE(tanh_backward(g, y).value(), Tensor64({0.5, -1.5, 0.57}));
    for (std::size_t k = 0; k < kShapes.size(); ++k) {
        const Tensor64 a = random_tensor(kShapes[k], 400 + static_cast<unsigned>(k));
        const Tensor64 b = random_tensor(kShapes[k], 500 + static_cast<unsigned>(k), 0.9);
        INFO("shape ", format_shape(kShapes[k]));
        const auto f = [](const V64& in) { return tanh_backward(in[0], in[1]); };
        XGRAD_CHECK_GRADCHECK(f, {a, b});
        XGRAD_CHECK_GRADGRADCHECK(f, {a, b});
    }
    CHECK_THROWS_WITH_AS(
        tanh_backward(Variable(Tensor{1.f, 2.f}), Variable(Tensor{{1.f, 2.f}})),
        "tanh_backward: the gradient has shape (2,) but the output has shape (1, 2)", ShapeError);
}

TEST_CASE("tanh's input gradient with create_graph is one tanh_backward node") {
    Variable64 x(random_tensor({2, 3}, 600), true);
    const Variable64 y = xgrad::tanh(x);
    const Variable64 dx = grad<double>({sum(y)}, {x}, {.create_graph = true})[0];
    CHECK(std::string(dx.node()->op) == "tanh_backward");
    XGRAD_CHECK_TENSOR_CLOSE(dx.value(), Tensor64(1.0 - xt::square(xt::tanh(x.value()))));
}

TEST_CASE("float32 gelu and its derivative are close to the exact values everywhere") {
    // Its branchless erf and exp kernels (ops/float_math.h) against the exact formulas in
    // double over [-10, 10]: the error relative to max(1, |exact|), as for 1 + erf near -1
    // even libm's erff leaves only absolute precision. Measured worst: 1.1e-6 for the value
    // (x times erf's error around x = -4.6) and 2.5e-7 for the derivative (release build).
    const Tensor x = xt::linspace<float>(-10.0f, 10.0f, 400001);
    const Variable xv(x, true);
    const Variable y = gelu(xv);
    y.backward(Tensor(xt::ones<float>(x.shape())));
    const Tensor dy = xv.grad();
    double worst_y = 0, worst_dy = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double v = x(i);
        const double exact = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
        const double slope = 0.5 * (1 + std::erf(v / std::sqrt(2.0))) +
                             v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
        worst_y =
            std::max(worst_y, std::abs(y.value()(i) - exact) / std::max(1.0, std::abs(exact)));
        worst_dy = std::max(worst_dy, std::abs(dy(i) - slope) / std::max(1.0, std::abs(slope)));
    }
    MESSAGE("gelu float32: worst error ", worst_y, " (value), ", worst_dy, " (derivative)");
    CHECK(worst_y < 1.5e-6);
    CHECK(worst_dy < 1e-6);
}
