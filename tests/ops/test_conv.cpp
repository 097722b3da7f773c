#include <doctest/doctest.h>

#include <xtensor/xsort.hpp>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {
using V = std::vector<Variable64>;

// Deterministic, distinct-enough values: no ties, no symmetry hiding a transposed index.
Tensor64 ramp(const Shape& shape, double scale = 0.1) {
    Tensor64 t = Tensor64::from_shape(shape);
    for (std::size_t i = 0; i < t.size(); ++i) t.data()[i] = scale * double((i * 7) % 13) - 0.55;
    return t;
}

// Direct definition of a channels-last convolution, one output element at a time.
Tensor64 naive_conv(const Tensor64& x, const Tensor64& k, const Conv2dOptions& o) {
    const std::size_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], c = x.shape()[3];
    const std::size_t kh = k.shape()[0], kw = k.shape()[1], oc = k.shape()[3];
    const WindowAxis ah = window_axis(h, kh, o.strides[0], o.dilation[0], o.padding);
    const WindowAxis aw = window_axis(w, kw, o.strides[1], o.dilation[1], o.padding);
    Tensor64 y = xt::zeros<double>({n, ah.out, aw.out, oc});
    for (std::size_t b = 0; b < n; ++b)
        for (std::size_t i = 0; i < ah.out; ++i)
            for (std::size_t j = 0; j < aw.out; ++j)
                for (std::size_t f = 0; f < oc; ++f)
                    for (std::size_t u = 0; u < kh; ++u)
                        for (std::size_t v = 0; v < kw; ++v) {
                            const long yy =
                                long(i * o.strides[0] + u * o.dilation[0]) - long(ah.pad_before);
                            const long xx =
                                long(j * o.strides[1] + v * o.dilation[1]) - long(aw.pad_before);
                            if (yy < 0 || xx < 0 || yy >= long(h) || xx >= long(w)) continue;
                            for (std::size_t ch = 0; ch < c; ++ch)
                                y(b, i, j, f) +=
                                    x(b, std::size_t(yy), std::size_t(xx), ch) * k(u, v, ch, f);
                        }
    return y;
}

const std::vector<Conv2dOptions> option_sets = {
    {{1, 1}, "valid", {1, 1}}, {{2, 2}, "valid", {1, 1}}, {{1, 1}, "same", {1, 1}},
    {{2, 1}, "same", {1, 1}},  {{1, 1}, "valid", {2, 2}}, {{2, 2}, "same", {2, 1}},
};
}  // namespace

TEST_CASE("conv2d: hand-computed 3x3 input, 2x2 kernel") {
    // x = [[1 2 3] [4 5 6] [7 8 9]], kernel [[1 0] [0 -1]]: y = x[i][j] - x[i+1][j+1] = -4.
    Tensor x = xt::reshape_view(Tensor{1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 3, 3, 1});
    Tensor k = xt::reshape_view(Tensor{1, 0, 0, -1}, {2, 2, 1, 1});
    Variable y = conv2d(Variable(x), Variable(k), Variable(Tensor{0.5f}));
    CHECK(y.shape() == Shape{1, 2, 2, 1});
    XGRAD_CHECK_TENSOR_CLOSE(
        y.value(), Tensor(xt::reshape_view(Tensor{-3.5f, -3.5f, -3.5f, -3.5f}, {1, 2, 2, 1})));
    // 'same' keeps 3x3; TensorFlow pads the extra row/column at the bottom/right.
    Variable s = conv2d(Variable(x), Variable(k), Variable(), {{1, 1}, "same", {1, 1}});
    XGRAD_CHECK_TENSOR_CLOSE(
        s.value(), Tensor(xt::reshape_view(Tensor{-4, -4, 3, -4, -4, 6, 7, 8, 9}, {1, 3, 3, 1})));
}

TEST_CASE("conv2d: forward matches the direct definition for strides, padding, dilation") {
    const Tensor64 x = ramp({2, 7, 6, 3});
    const Tensor64 k = ramp({3, 2, 3, 4}, 0.07);
    for (const auto& o : option_sets) {
        CAPTURE(o.padding);
        CAPTURE(o.strides[0]);
        CAPTURE(o.dilation[0]);
        XGRAD_CHECK_TENSOR_CLOSE(conv2d(Variable64(x), Variable64(k), Variable64(), o).value(),
                                 naive_conv(x, k, o), 1e-10, 1e-12);
    }
}

TEST_CASE("conv2d: output sizes follow Keras") {
    Variable x(Tensor(xt::zeros<float>({1, 28, 28, 1})));
    Variable k(Tensor(xt::zeros<float>({3, 3, 1, 32})));
    CHECK(conv2d(x, k).shape() == Shape{1, 26, 26, 32});
    CHECK(conv2d(x, k, Variable(), {{2, 2}, "same", {1, 1}}).shape() == Shape{1, 14, 14, 32});
    CHECK(conv2d(x, k, Variable(), {{2, 2}, "valid", {1, 1}}).shape() == Shape{1, 13, 13, 32});
    CHECK(conv2d(x, k, Variable(), {{1, 1}, "valid", {2, 2}}).shape() == Shape{1, 24, 24, 32});
}

TEST_CASE("conv2d: float64 gradcheck over strides, paddings and dilations") {
    const Tensor64 x = ramp({2, 5, 6, 2});
    const Tensor64 k = ramp({2, 3, 2, 3}, 0.05);
    const Tensor64 b = {0.1, -0.2, 0.3};
    for (const auto& o : option_sets) {
        CAPTURE(o.padding);
        CAPTURE(o.strides[0]);
        CAPTURE(o.dilation[0]);
        XGRAD_CHECK_GRADCHECK([&](const V& v) { return conv2d(v[0], v[1], v[2], o); }, {x, k, b});
        XGRAD_CHECK_GRADCHECK([&](const V& v) { return conv2d(v[0], v[1], Variable64(), o); },
                              {x, k});
    }
}

TEST_CASE("conv2d with fused relu: float64 gradcheck, and equal to relu(conv2d)") {
    const Tensor64 x = ramp({2, 5, 6, 2});
    const Tensor64 k = ramp({2, 3, 2, 3}, 0.05);
    const Tensor64 b = {0.1, -0.2, 0.3};
    for (Conv2dOptions o : option_sets) {
        CAPTURE(o.padding);
        CAPTURE(o.strides[0]);
        CAPTURE(o.dilation[0]);
        Conv2dOptions fused = o;
        fused.relu = true;
        XGRAD_CHECK_GRADCHECK([&](const V& v) { return conv2d(v[0], v[1], v[2], fused); },
                              {x, k, b});
        const Tensor64 y = conv2d(Variable64(x), Variable64(k), Variable64(b), fused).value();
        XGRAD_CHECK_TENSOR_CLOSE(
            y, relu(conv2d(Variable64(x), Variable64(k), Variable64(b), o)).value(), 0, 0);
        CHECK(xt::amin(y)() == 0.0);  // both sides of relu occur
        CHECK(xt::amax(y)() > 0.01);
    }
}

// Image i of a batch as a batch of one.
Tensor64 image(const Tensor64& batch, std::size_t i) {
    Shape shape(batch.shape().begin(), batch.shape().end());
    shape[0] = 1;
    Tensor64 one = Tensor64::from_shape(shape);
    std::copy_n(batch.data() + i * one.size(), one.size(), one.data());
    return one;
}

TEST_CASE("conv2d: a batch lowered in several chunks equals its images one at a time") {
    // 40 images of 12x12x8 under a 3x3 kernel: the im2col matrix and the output are
    // 40 * 100 * (72 + 2) values, more than one chunk (2^17 values) holds, so forward and
    // backward cross chunk borders.
    const Tensor64 x = ramp({40, 12, 12, 8});
    const Tensor64 k = ramp({3, 3, 8, 2}, 0.085);
    const Tensor64 b = {0.05, -0.1};
    const Conv2dOptions o{{1, 1}, "valid", {1, 1}, true};
    Variable64 xb(x, true), kb(k, true), bb(b, true);
    Variable64 y = conv2d(xb, kb, bb, o);
    const Tensor64 weights = ramp(to_shape(y.shape()), 0.01);  // a loss that weighs each output
    sum(y * Variable64(weights)).backward();
    // Both sides of relu occur, so the check below sees masked and unmasked gradients.
    CHECK(xt::amin(y.value())() == 0.0);
    CHECK(xt::amax(y.value())() > 0.1);

    Tensor64 dk = xt::zeros<double>(k.shape()), db = xt::zeros<double>(b.shape());
    for (std::size_t i = 0; i < 40; ++i) {
        CAPTURE(i);
        Variable64 xi(image(x, i), true), ki(k, true), bi(b, true);
        Variable64 yi = conv2d(xi, ki, bi, o);
        XGRAD_CHECK_TENSOR_CLOSE(yi.value(), image(y.value(), i), 1e-12, 1e-14);
        sum(yi * Variable64(image(weights, i))).backward();
        XGRAD_CHECK_TENSOR_CLOSE(xi.grad(), image(xb.grad(), i), 1e-12, 1e-14);
        dk += ki.grad();
        db += bi.grad();
    }
    XGRAD_CHECK_TENSOR_CLOSE(kb.grad(), dk, 1e-10, 1e-12);
    XGRAD_CHECK_TENSOR_CLOSE(bb.grad(), db, 1e-10, 1e-12);
}

TEST_CASE("conv2d: errors name the op and the shapes") {
    Variable x(Tensor(xt::zeros<float>({2, 5, 5, 3})));
    Variable k(Tensor(xt::zeros<float>({3, 3, 2, 4})));
    CHECK_THROWS_WITH_AS(conv2d(x, k),
                         doctest::Contains("conv2d: x (2, 5, 5, 3) and kernel (3, 3, 2, 4)"),
                         ShapeError);
    CHECK_THROWS_AS(conv2d(Variable(Tensor(xt::zeros<float>({5, 5, 3}))), k), ShapeError);
    Variable big(Tensor(xt::zeros<float>({7, 7, 3, 4})));
    CHECK_THROWS_WITH_AS(conv2d(x, big), doctest::Contains("larger than the input"), ShapeError);
    Variable k3(Tensor(xt::zeros<float>({3, 3, 3, 4})));
    CHECK_THROWS_WITH_AS(conv2d(x, k3, Variable(Tensor(xt::zeros<float>({3})))),
                         doctest::Contains("bias (3,)"), ShapeError);
    CHECK_THROWS_AS(conv2d(x, k3, Variable(), {{1, 1}, "full", {1, 1}}), std::invalid_argument);
    CHECK_THROWS_AS(conv2d(x, k3, Variable(), {{0, 1}, "valid", {1, 1}}), std::invalid_argument);
}

TEST_CASE("conv2d: an empty batch has zero kernel and bias gradients") {
    Variable64 x(Tensor64::from_shape({0, 5, 5, 2}), true);
    Variable64 k(Tensor64(xt::ones<double>({3, 3, 2, 4})), true);
    Variable64 b(Tensor64(xt::ones<double>({4})), true);
    Variable64 y = conv2d(x, k, b);
    CHECK(y.shape() == Shape{0, 3, 3, 4});
    sum(y * 2.0).backward();
    XGRAD_CHECK_TENSOR_CLOSE(k.grad(), Tensor64(xt::zeros<double>({3, 3, 2, 4})));
    XGRAD_CHECK_TENSOR_CLOSE(b.grad(), Tensor64(xt::zeros<double>({4})));
}

TEST_CASE("conv2d: second derivatives (gradgradcheck) over strides, paddings, dilations, relu") {
    const Tensor64 x = ramp({2, 4, 5, 2});
    const Tensor64 k = ramp({2, 3, 2, 3}, 0.05);
    const Tensor64 b = {0.1, -0.2, 0.3};
    for (const auto& base : option_sets) {
        for (bool relu : {false, true}) {
            Conv2dOptions o = base;
            o.relu = relu;
            CAPTURE(o.padding);
            CAPTURE(o.strides[0]);
            CAPTURE(o.dilation[0]);
            CAPTURE(relu);
            // x * x makes the result non-linear in x, so the second derivative in x is not 0.
            XGRAD_CHECK_GRADGRADCHECK(
                [&o](const V& v) { return conv2d(v[0] * v[0], v[1], v[2], o); }, {x, k, b});
        }
    }
}

TEST_CASE("conv2d_max_pool equals max_pool2d(conv2d) in values and gradients, across chunks") {
    // 40 images: several chunks (see the chunk test above), so the winners' indices and the
    // rebuilt conv gradients cross chunk borders.
    const Tensor64 x = ramp({40, 12, 11, 8});
    const Tensor64 k = ramp({3, 3, 8, 3}, 0.085);
    const Tensor64 b = {0.05, -0.6, 0.02};  // the second channel is often all below 0
    struct Pool {
        Size2 size, strides;
        std::string padding;
    };
    // 2x2 (the usual), 3x2 windows with "same" padding, and gaps between the windows.
    for (const Pool& p : {Pool{{2, 2}, {2, 2}, "valid"}, Pool{{3, 2}, {3, 2}, "same"},
                          Pool{{2, 2}, {3, 3}, "valid"}}) {
        for (bool relu : {true, false}) {
            const Conv2dOptions o{{1, 1}, "valid", {1, 1}, relu};
            CAPTURE(p.size[0]);
            CAPTURE(p.strides[0]);
            CAPTURE(relu);
            Variable64 x1(x, true), k1(k, true), b1(b, true), x2(x, true), k2(k, true), b2(b, true);
            Variable64 fused = conv2d_max_pool(x1, k1, b1, o, p.size, p.strides, p.padding);
            Variable64 apart = max_pool2d(conv2d(x2, k2, b2, o), p.size, p.strides, p.padding);
            REQUIRE(fused.shape() == apart.shape());
            XGRAD_CHECK_TENSOR_CLOSE(fused.value(), apart.value(), 0, 0);
            if (relu) CHECK(xt::amin(fused.value())() == 0.0);  // relu's mask is exercised
            const Tensor64 w = ramp(to_shape(fused.shape()), 0.01);
            sum(fused * Variable64(w)).backward();
            sum(apart * Variable64(w)).backward();
            XGRAD_CHECK_TENSOR_CLOSE(x1.grad(), x2.grad(), 1e-12, 1e-14);
            XGRAD_CHECK_TENSOR_CLOSE(k1.grad(), k2.grad(), 1e-12, 1e-14);
            XGRAD_CHECK_TENSOR_CLOSE(b1.grad(), b2.grad(), 1e-12, 1e-14);
        }
    }
}

TEST_CASE("conv2d_max_pool: float64 gradcheck and gradgradcheck, with and without relu") {
    // Values far enough apart that no finite-difference step changes a window's winner.
    Tensor64 x = Tensor64::from_shape({2, 5, 6, 2});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = 0.05 * double((i * 37) % 61) - 1.4;
    const Tensor64 k = ramp({2, 3, 2, 3}, 0.05);
    const Tensor64 b = {0.1, -0.2, 0.3};
    for (const auto& base : option_sets) {
        for (bool relu : {false, true}) {
            Conv2dOptions o = base;
            o.relu = relu;
            CAPTURE(o.padding);
            CAPTURE(o.strides[0]);
            CAPTURE(o.dilation[0]);
            CAPTURE(relu);
            XGRAD_CHECK_GRADCHECK(
                [&o](const V& v) {
                    return conv2d_max_pool(v[0], v[1], v[2], o, {2, 2}, {2, 2});
                },
                {x, k, b});
            // x * x makes the result non-linear in x, so the second derivative in x is not 0.
            XGRAD_CHECK_GRADGRADCHECK(
                [&o](const V& v) {
                    return conv2d_max_pool(v[0] * v[0], v[1], v[2], o, {2, 2}, {2, 2}, "same");
                },
                {x, k, b});
        }
    }
}

TEST_CASE("conv2d_max_pool: overlapping windows and bad shapes are errors") {
    Variable x(Tensor(xt::zeros<float>({2, 6, 6, 3})));
    Variable k(Tensor(xt::zeros<float>({3, 3, 3, 4})));
    CHECK_THROWS_WITH_AS(conv2d_max_pool(x, k, Variable(), {}, {2, 2}, {1, 1}),
                         doctest::Contains("conv2d_max_pool: the pool windows must not overlap, "
                                           "got pool size (2, 2) and strides (1, 1)"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(conv2d_max_pool(x, Variable(Tensor(xt::zeros<float>({3, 3, 2, 4}))),
                                         Variable(), {}, {2, 2}, {2, 2}),
                         doctest::Contains("conv2d: x (2, 6, 6, 3) and kernel (3, 3, 2, 4)"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(conv2d_max_pool(x, k, Variable(), {}, {5, 5}, {5, 5}),
                         doctest::Contains("conv2d_max_pool: x (2, 4, 4, 4) is smaller than"),
                         ShapeError);
}
