#include <doctest/doctest.h>

#include "problems.h"

using namespace optim_test;
using xgrad::optim::RMSprop;

namespace {

// Keras RMSprop written out in double.
struct RMSpropReference {
    RMSprop::Options o;
    std::array<double, 2> rms{}, mom{}, mg{};

    void step(std::array<double, 2>& p) {
        const auto g = two_param_grad(p);
        for (int i = 0; i < 2; ++i) {
            rms[i] = o.rho * rms[i] + (1 - o.rho) * g[i] * g[i];
            double denom = rms[i] + o.epsilon;
            if (o.centered) {
                mg[i] = o.rho * mg[i] + (1 - o.rho) * g[i];
                denom -= mg[i] * mg[i];
            }
            const double inc = o.learning_rate * g[i] / std::sqrt(denom);
            mom[i] = o.momentum * mom[i] + inc;
            p[i] -= o.momentum > 0 ? mom[i] : inc;
        }
    }
};

void check_three_steps(const RMSprop::Options& o) {
    TwoParams p;
    RMSprop opt(p.list(), o);
    RMSpropReference ref{o};
    std::array<double, 2> expected = {1.5, -0.5};
    for (int step = 1; step <= 3; ++step) {
        CAPTURE(step);
        two_param_step(opt, p);
        ref.step(expected);
        check_two_params(p, expected);
    }
}

}  // namespace

TEST_CASE("RMSprop: the first step by hand") {
    // rms = 0.1 g^2, so the step is 0.1 * g / sqrt(0.1 g^2 + 1e-7) ~= 0.1 / sqrt(0.1) = 0.316.
    TwoParams p;
    RMSprop opt(p.list(), {.learning_rate = 0.1});
    two_param_step(opt, p);
    CHECK(p.x.item() == doctest::Approx(1.1837723043).epsilon(1e-6));
    CHECK(p.y.item() == doctest::Approx(-0.1837722384).epsilon(1e-6));
}

TEST_CASE("RMSprop: three steps against the double reference") {
    SUBCASE("plain") {
        check_three_steps({.learning_rate = 0.1});
    }
    SUBCASE("momentum") {
        check_three_steps({.learning_rate = 0.1, .momentum = 0.8});
    }
    SUBCASE("centered") {
        check_three_steps({.learning_rate = 0.01, .centered = true});
    }
    SUBCASE("centered with momentum") {
        check_three_steps({.learning_rate = 0.01, .rho = 0.8, .momentum = 0.5, .centered = true});
    }
}

TEST_CASE("RMSprop: Keras defaults, state slots and option checks") {
    TwoParams p;
    RMSprop opt(p.list());
    CHECK(opt.name() == "rmsprop");
    CHECK(opt.learning_rate() == 0.001);
    CHECK(opt.options().rho == 0.9);
    CHECK(opt.options().epsilon == 1e-7);
    RMSprop full(p.list(), {.momentum = 0.5, .centered = true});
    two_param_step(full, p);
    const auto state = full.state_dict();
    for (const char* key : {"param.0.rms", "param.0.momentum", "param.0.mg"}) {
        CHECK_MESSAGE(state.count(key) == 1, key);
    }
    CHECK_THROWS_AS(RMSprop(p.list(), {.rho = 1.0}), std::invalid_argument);
    CHECK_THROWS_AS(RMSprop(p.list(), {.momentum = -0.5}), std::invalid_argument);
}

TEST_CASE("RMSprop converges on a quadratic and a logistic regression") {
    check_converges(
        [](std::vector<Variable> ps) {
            return std::make_unique<RMSprop>(std::move(ps),
                                             RMSprop::Options{.learning_rate = 0.002});
        },
        3000);
    check_converges(
        [](std::vector<Variable> ps) {
            return std::make_unique<RMSprop>(
                std::move(ps),
                RMSprop::Options{.learning_rate = 0.001, .momentum = 0.5, .centered = true});
        },
        3000);
}

TEST_CASE("RMSprop: save, load, continue is bit-for-bit an uninterrupted run") {
    check_resume(
        [](std::vector<Variable> ps) {
            return std::make_unique<RMSprop>(
                std::move(ps),
                RMSprop::Options{.learning_rate = 0.01, .momentum = 0.5, .centered = true});
        },
        5, 6);
}
