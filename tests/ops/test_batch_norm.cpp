#include <doctest/doctest.h>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {
using V = std::vector<Variable64>;

Tensor64 values(const Shape& shape) {
    Tensor64 t = Tensor64::from_shape(shape);
    for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = 0.3 * double((i * 5) % 11) - 1.2;
    return t;
}
}  // namespace

TEST_CASE("batch_norm: hand-computed statistics per channel") {
    // Channel 0: 1, 3 (mean 2, variance 1); channel 1: 10, 10 (mean 10, variance 0).
    Tensor x = {{1.f, 10.f}, {3.f, 10.f}};
    Tensor mean, var;
    Variable y = batch_norm(Variable(x), Variable(Tensor{2.f, 1.f}), Variable(Tensor{0.5f, -1.f}),
                            1e-3, &mean, &var);
    XGRAD_CHECK_TENSOR_CLOSE(mean, Tensor({2.f, 10.f}));
    XGRAD_CHECK_TENSOR_CLOSE(var, Tensor({1.f, 0.f}));
    const float s = 2.f / std::sqrt(1.001f);
    XGRAD_CHECK_TENSOR_CLOSE(y.value(), Tensor({{0.5f - s, -1.f}, {0.5f + s, -1.f}}));
    // Inference with given statistics: (x - mean) / sqrt(var + eps) * gamma + beta.
    Variable z =
        batch_norm_inference(Variable(x), Variable(Tensor{1.f, 1.f}), Variable(Tensor{0.f, 0.f}),
                             Tensor{1.f, 9.f}, Tensor{4.f, 1.f}, 0.0);
    XGRAD_CHECK_TENSOR_CLOSE(z.value(), Tensor({{0.f, 1.f}, {1.f, 1.f}}));
}

TEST_CASE("batch_norm: statistics over batch, height and width for 4-D input") {
    const Tensor64 x = values({3, 2, 2, 2});
    Tensor64 mean, var;
    batch_norm(Variable64(x), Variable64(Tensor64{1, 1}), Variable64(Tensor64{0, 0}), 1e-3, &mean,
               &var);
    for (std::size_t c = 0; c < 2; ++c) {
        double m = 0, v = 0;
        for (std::size_t i = c; i < x.size(); i += 2) m += x.data()[i] / 12;
        for (std::size_t i = c; i < x.size(); i += 2)
            v += (x.data()[i] - m) * (x.data()[i] - m) / 12;
        CHECK(mean(c) == doctest::Approx(m));
        CHECK(var(c) == doctest::Approx(v));
    }
}

TEST_CASE("batch_norm and batch_norm_inference: float64 gradcheck") {
    const Tensor64 g = {1.2, -0.7, 0.4}, b = {0.1, 0.2, -0.3};
    for (const Shape& shape : {Shape{4, 3}, Shape{2, 3, 2, 3}}) {
        const Tensor64 x = values(shape);
        XGRAD_CHECK_GRADCHECK([](const V& v) { return batch_norm(v[0], v[1], v[2], 1e-3); },
                              {x, g, b});
        XGRAD_CHECK_GRADCHECK(
            [](const V& v) {
                return batch_norm_inference(v[0], v[1], v[2], Tensor64{0.1, -0.2, 0.3},
                                            Tensor64{0.5, 1.5, 2.0}, 1e-3);
            },
            {x, g, b});
    }
}

TEST_CASE("batch_norm: errors name the op and the shapes") {
    Variable x(Tensor(xt::zeros<float>({4, 3})));
    Variable g2(Tensor(xt::ones<float>({2}))), b3(Tensor(xt::zeros<float>({3})));
    CHECK_THROWS_WITH_AS(
        batch_norm(x, g2, b3, 1e-3),
        doctest::Contains("batch_norm: x (4, 3) needs gamma of shape (3,), got (2,)"), ShapeError);
    CHECK_THROWS_AS(batch_norm(Variable(Tensor{1.f, 2.f}), b3, b3, 1e-3), ShapeError);
    CHECK_THROWS_WITH_AS(batch_norm_inference(x, b3, b3, Tensor{0.f}, Tensor{1.f, 1.f, 1.f}, 1e-3),
                         doctest::Contains("mean of shape (3,)"), ShapeError);
}

TEST_CASE("batch_norm and batch_norm_inference: second derivatives (gradgradcheck)") {
    const Tensor64 g = {1.2, -0.7, 0.4}, b = {0.1, 0.2, -0.3};
    for (const Shape& shape : {Shape{4, 3}, Shape{2, 3, 2, 3}}) {
        const Tensor64 x = values(shape);
        XGRAD_CHECK_GRADGRADCHECK(
            [](const V& v) { return batch_norm(v[0], v[1] * v[1], v[2], 1e-3); }, {x, g, b});
        XGRAD_CHECK_GRADGRADCHECK(
            [](const V& v) {
                return batch_norm_inference(v[0] * v[0], v[1] * v[1], v[2],
                                            Tensor64{0.1, -0.2, 0.3}, Tensor64{0.5, 1.5, 2.0},
                                            1e-3);
            },
            {x, g, b});
    }
}
