// Small problems shared by the optimizer tests: a two-parameter quadratic for step-by-step
// checks against a double-precision reference, a convex quadratic and a logistic regression
// for convergence, and a save / load / continue check for exact resumption.
#pragma once

#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "framework/record.h"
#include "framework/testing.h"
#include "xgrad.h"

namespace optim_test {

using namespace xgrad;
using xgrad::optim::Optimizer;

// f(x, y) = 0.5 x^2 + 2 (y - 1)^2 over two one-element parameters, from x = 1.5, y = -0.5.
// Its gradient (x, 4 (y - 1)) starts at (1.5, -6): two very different scales.
struct TwoParams {
    Variable x = parameter(Tensor{1.5f});
    Variable y = parameter(Tensor{-0.5f});
    std::vector<Variable> list() const { return {x, y}; }
};

inline Variable two_param_loss(const TwoParams& p) {
    Variable dy = p.y - 1.0f;
    return sum(0.5f * p.x * p.x + 2.0f * dy * dy);
}

// The same gradient in double, for the reference updates the tests write out by hand.
inline std::array<double, 2> two_param_grad(const std::array<double, 2>& t) {
    return {t[0], 4 * (t[1] - 1)};
}

// Runs one optimizer step on the two-parameter problem.
inline void two_param_step(Optimizer& opt, const TwoParams& p) {
    opt.zero_grad();
    two_param_loss(p).backward();
    opt.step();
}

// Checks the float32 parameters against the double reference (relative 1e-5).
inline void check_two_params(const TwoParams& p, const std::array<double, 2>& expected) {
    CHECK(p.x.item() == doctest::Approx(expected[0]).epsilon(1e-5));
    CHECK(p.y.item() == doctest::Approx(expected[1]).epsilon(1e-5));
}

// sum(k * (w - c)^2): a convex quadratic with curvatures 0.2 .. 5 and its minimum at c.
struct Quadratic {
    Tensor k = {1.0f, 0.2f, 5.0f};
    Tensor c = {0.5f, -1.0f, 2.0f};
    Variable w = parameter(Tensor{2.0f, -3.0f, 0.5f});

    Variable loss() const {
        Variable d = w - Variable(c);
        return sum(Variable(k) * d * d);
    }
    double distance() const { return xt::amax(xt::abs(w.value() - c))(); }
};

// Mean logistic loss of a linear model on fixed 2-D data, written as one op with its own
// backward so that it depends only on the framework core:
//   z_i = w . x_i + b,  loss = mean(softplus(z_i) - y_i z_i),
//   d loss / dw = mean((sigmoid(z_i) - y_i) x_i),  d loss / db = mean(sigmoid(z_i) - y_i).
// Labels are drawn from the model itself with some noise, so the data are not separable and
// the minimum is finite.
struct Logistic {
    static constexpr std::size_t n = 200;
    Tensor xs = Tensor::from_shape({n, 2});
    Tensor ys = Tensor::from_shape({n});
    Variable w = parameter(Tensor{0.0f, 0.0f});
    Variable b = parameter(Tensor{0.0f});

    Logistic() {
        std::mt19937 rng(7);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        std::uniform_real_distribution<double> uniform(0.0, 1.0);
        for (std::size_t i = 0; i < n; ++i) {
            xs(i, 0) = normal(rng);
            xs(i, 1) = normal(rng);
            const double z = 1.5 * xs(i, 0) - 1.0 * xs(i, 1) + 0.5;
            ys(i) = uniform(rng) < 1 / (1 + std::exp(-z)) ? 1.0f : 0.0f;
        }
    }

    std::vector<Variable> list() const { return {w, b}; }

    // The gradient (dw0, dw1, db) in double at the current parameters.
    std::array<double, 3> gradient() const { return gradient_at(xs, ys, w.value(), b.value()); }

    static std::array<double, 3> gradient_at(const Tensor& xs, const Tensor& ys, const Tensor& w,
                                             const Tensor& b) {
        std::array<double, 3> g{0, 0, 0};
        for (std::size_t i = 0; i < n; ++i) {
            const double z = double(w(0)) * xs(i, 0) + double(w(1)) * xs(i, 1) + b(0);
            const double r = 1 / (1 + std::exp(-z)) - ys(i);
            g[0] += r * xs(i, 0) / n;
            g[1] += r * xs(i, 1) / n;
            g[2] += r / n;
        }
        return g;
    }

    Variable loss() const {
        double total = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const double z =
                double(w.value()(0)) * xs(i, 0) + double(w.value()(1)) * xs(i, 1) + b.value()(0);
            total += std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))) - ys(i) * z;
        }
        const Tensor xs_copy = xs, ys_copy = ys;
        return record<float>("logistic_loss", Tensor(static_cast<float>(total / n)), {w, b},
                             [xs_copy, ys_copy](const BackwardContext<float>& c) {
                                 const auto g =
                                     gradient_at(xs_copy, ys_copy, c.input(0), c.input(1));
                                 const float s = c.grad.flat(0);
                                 return Grads<float>{Tensor{s * float(g[0]), s * float(g[1])},
                                                     Tensor{s * float(g[2])}};
                             });
    }

    double gradient_norm() const {
        const auto g = gradient();
        return std::sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]);
    }
};

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(std::vector<Variable>)>;

// Minimises the quadratic and the logistic loss with full-batch steps; both must reach
// their minimum.
inline void check_converges(const MakeOptimizer& make, int steps) {
    Quadratic q;
    auto opt = make({q.w});
    for (int i = 0; i < steps; ++i) {
        opt->zero_grad();
        q.loss().backward();
        opt->step();
    }
    CHECK_MESSAGE(q.distance() < 1e-3, opt->name() << " on the quadratic");

    Logistic lr;
    auto opt2 = make(lr.list());
    const double start = lr.loss().item();
    for (int i = 0; i < steps; ++i) {
        opt2->zero_grad();
        lr.loss().backward();
        opt2->step();
    }
    CHECK(lr.loss().item() < start);
    CHECK_MESSAGE(lr.gradient_norm() < 1e-4, opt2->name() << " on the logistic regression");
}

// Runs k steps, saves the state, loads it into a fresh optimizer on copies of the
// parameters, runs m more steps and compares with an uninterrupted run of k + m steps: the
// parameters and the whole state must match bit for bit. The learning rate is changed to an
// odd value before saving, so it must survive float32 storage exactly.
inline void check_resume(const MakeOptimizer& make, int k, int m) {
    auto run = [](Optimizer& opt, const Logistic& p, int steps) {
        for (int i = 0; i < steps; ++i) {
            opt.zero_grad();
            p.loss().backward();
            opt.step();
        }
    };
    Logistic straight;
    auto opt = make(straight.list());
    run(*opt, straight, k);
    opt->set_learning_rate(opt->learning_rate() * 1.2345678901234567);
    run(*opt, straight, m);

    Logistic first;
    auto opt1 = make(first.list());
    run(*opt1, first, k);
    opt1->set_learning_rate(opt1->learning_rate() * 1.2345678901234567);
    const auto saved = opt1->state_dict();

    Logistic resumed;
    resumed.w = parameter(Tensor(first.w.value()));
    resumed.b = parameter(Tensor(first.b.value()));
    auto opt2 = make(resumed.list());
    opt2->load_state_dict(saved);
    CHECK(opt2->iterations() == k);
    CHECK(opt2->learning_rate() == opt1->learning_rate());
    run(*opt2, resumed, m);

    CHECK(opt2->iterations() == k + m);
    CHECK(xt::all(xt::equal(resumed.w.value(), straight.w.value())));
    CHECK(xt::all(xt::equal(resumed.b.value(), straight.b.value())));
    const auto a = opt->state_dict(), b = opt2->state_dict();
    REQUIRE(a.size() == b.size());
    for (const auto& item : a) {
        const auto& key = item.first;
        const auto& t = item.second;
        REQUIRE(b.count(key) == 1);
        CHECK_MESSAGE(xt::all(xt::equal(t, b.at(key))), key);
    }
}

}  // namespace optim_test
