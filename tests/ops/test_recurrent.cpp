#include <doctest/doctest.h>

#include <cmath>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

#include <xtensor/xbuilder.hpp>

using namespace xgrad;

namespace {
using V = std::vector<Variable64>;

// Values of both signs in (-0.8, 0.8), different in every element.
Tensor64 wave(const Shape& shape, double phase) {
    Tensor64 t =
        0.8 * xt::sin(xt::arange<double>(static_cast<double>(shape_size(shape))) * 1.7 + phase);
    t.reshape(shape);
    return t;
}

// A (1, 1) tensor.
Tensor64 one(double v) {
    Tensor64 t = Tensor64::from_shape({1, 1});
    t(0, 0) = v;
    return t;
}

double sig(double z) {
    return 1 / (1 + std::exp(-z));
}
}  // namespace

TEST_CASE("lstm_recurrence: the steps by hand, h_1..h_T then c_T") {
    // One unit, batch 1, two steps: z = xproj_t + h R, gates i f g o.
    const Tensor64 xp = {{{0.1, 0.2, 0.3, 0.4}, {-0.5, 0.6, -0.7, 0.8}}};
    const Tensor64 r = {{0.5, -0.4, 0.3, -0.2}};
    const Variable64 y =
        lstm_recurrence(Variable64(xp), Variable64(one(0.3)), Variable64(one(-0.2)), Variable64(r));
    REQUIRE(y.shape() == Shape{1, 3, 1});
    double h = 0.3, c = -0.2;
    for (int t = 0; t < 2; ++t) {
        double z[4];
        for (int q = 0; q < 4; ++q) z[q] = xp(0, t, q) + h * r(0, q);
        c = sig(z[1]) * c + sig(z[0]) * std::tanh(z[2]);
        h = sig(z[3]) * std::tanh(c);
        CHECK(y.value()(0, t, 0) == doctest::Approx(h).epsilon(1e-12));
    }
    CHECK(y.value()(0, 2, 0) == doctest::Approx(c).epsilon(1e-12));
}

TEST_CASE("lstm_recurrence: gradient checks over 3 steps, first and second order") {
    const std::vector<Tensor64> in = {wave({2, 3, 8}, 0.1), wave({2, 2}, 0.7), wave({2, 2}, 1.3),
                                      wave({2, 8}, 2.1)};
    const auto f = [](const V& v) { return lstm_recurrence(v[0], v[1], v[2], v[3]); };
    XGRAD_CHECK_GRADCHECK(f, in);
    XGRAD_CHECK_GRADGRADCHECK(f, in);
}

TEST_CASE("lstm_recurrence: shapes that do not fit name all four") {
    const Variable x(Tensor::from_shape({2, 3, 8})), h(Tensor::from_shape({2, 2}));
    CHECK_THROWS_WITH_AS(lstm_recurrence(x, h, h, Variable(Tensor::from_shape({2, 6}))),
                         "lstm_recurrence: xproj (2, 3, 8), h0 (2, 2), c0 (2, 2) and "
                         "recurrent_kernel (2, 6) do not fit (expected (batch, time, 4 units), "
                         "(batch, units) twice and (units, 4 units))",
                         ShapeError);
    CHECK_THROWS_AS(lstm_recurrence(x, Variable(Tensor::from_shape({3, 2})), h,
                                    Variable(Tensor::from_shape({2, 8}))),
                    ShapeError);
}

TEST_CASE("gru_cell and simple_rnn_cell: values, and gradient checks unrolled over 3 steps") {
    // GRU, one unit: reset_after applies r to h U + b_rec.
    const Tensor64 a = {{0.1, -0.2, 0.3}}, u = {{0.4, 0.5, -0.6}}, b = {0.05, -0.1, 0.2};
    const double h = 0.7;
    const double z = sig(0.1 + h * 0.4 + 0.05), r = sig(-0.2 + h * 0.5 - 0.1);
    const double cand = std::tanh(0.3 + r * (h * -0.6 + 0.2));
    CHECK(gru_cell(Variable64(a), Variable64(one(h)), Variable64(u), Variable64(b)).value()(0, 0) ==
          doctest::Approx(z * h + (1 - z) * cand).epsilon(1e-12));
    CHECK(simple_rnn_cell(Variable64(one(0.1)), Variable64(one(h)), Variable64(one(0.4)))
              .value()(0, 0) == doctest::Approx(std::tanh(0.1 + h * 0.4)).epsilon(1e-12));

    const auto gru3 = [](const V& v) {  // a (batch, time, 3u), h0, U, b_rec
        Variable64 h = v[1];
        for (std::size_t t = 0; t < 3; ++t) {
            h = gru_cell(reshape(slice(v[0], 1, t, t + 1), {2, 6}), h, v[2], v[3]);
        }
        return h;
    };
    const std::vector<Tensor64> gin = {wave({2, 3, 6}, 0.2), wave({2, 2}, 0.5), wave({2, 6}, 0.9),
                                       wave({6}, 1.9)};
    XGRAD_CHECK_GRADCHECK(gru3, gin);
    XGRAD_CHECK_GRADGRADCHECK(gru3, gin);
    const auto rnn3 = [](const V& v) {
        Variable64 h = v[1];
        for (std::size_t t = 0; t < 3; ++t) {
            h = simple_rnn_cell(reshape(slice(v[0], 1, t, t + 1), {2, 2}), h, v[2]);
        }
        return h;
    };
    const std::vector<Tensor64> rin = {wave({2, 3, 2}, 0.3), wave({2, 2}, 0.6), wave({2, 2}, 1.1)};
    XGRAD_CHECK_GRADCHECK(rnn3, rin);
    XGRAD_CHECK_GRADGRADCHECK(rnn3, rin);
}
