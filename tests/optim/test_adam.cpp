#include <doctest/doctest.h>

#include <algorithm>

#include "problems.h"

using namespace optim_test;
using xgrad::optim::Adam;
using xgrad::optim::AdamW;

namespace {

// Adam in the textbook form, in double: bias-corrected m_hat and v_hat, with epsilon scaled
// by sqrt(1 - beta2^t). That is algebraically Keras's form (epsilon outside the square root,
// bias correction folded into the step size), written independently of it.
struct AdamReference {
    double lr, b1, b2, eps, wd;
    bool amsgrad, decoupled;
    std::array<double, 2> m{}, v{}, vmax{};
    int t = 0;

    void step(std::array<double, 2>& p) {
        ++t;
        const auto g = two_param_grad(p);
        const double c1 = 1 - std::pow(b1, t), c2 = 1 - std::pow(b2, t);
        for (int i = 0; i < 2; ++i) {
            const double gi = decoupled ? g[i] : g[i] + wd * p[i];
            m[i] = b1 * m[i] + (1 - b1) * gi;
            v[i] = b2 * v[i] + (1 - b2) * gi * gi;
            vmax[i] = std::max(vmax[i], v[i]);
            const double m_hat = m[i] / c1;
            const double v_hat = (amsgrad ? vmax[i] : v[i]) / c2;
            if (decoupled) p[i] -= lr * wd * p[i];
            p[i] -= lr * m_hat / (std::sqrt(v_hat) + eps / std::sqrt(c2));
        }
    }
};

void check_three_steps(xgrad::optim::Optimizer& opt, const TwoParams& p, AdamReference ref) {
    std::array<double, 2> expected = {1.5, -0.5};
    for (int step = 1; step <= 3; ++step) {
        CAPTURE(step);
        two_param_step(opt, p);
        ref.step(expected);
        check_two_params(p, expected);
    }
}

}  // namespace

TEST_CASE("Adam: the first step by hand") {
    // Step 1: m = 0.1 g, v = 0.001 g^2, step size 0.1 * sqrt(0.001) / 0.1, so the update is
    // 0.1 * g / (|g| + 1e-7 / sqrt(0.001)): almost exactly 0.1 against the gradient's sign.
    TwoParams p;
    Adam opt(p.list(), {.learning_rate = 0.1});
    two_param_step(opt, p);
    CHECK(p.x.item() == doctest::Approx(1.4000002108).epsilon(1e-6));
    CHECK(p.y.item() == doctest::Approx(-0.4000000527).epsilon(1e-6));
}

TEST_CASE("Adam, AdamW: three steps against the double reference") {
    TwoParams p;
    SUBCASE("adam") {
        Adam opt(p.list(), {.learning_rate = 0.1});
        check_three_steps(opt, p, {0.1, 0.9, 0.999, 1e-7, 0, false, false});
    }
    SUBCASE("adam, other betas and a large epsilon") {
        Adam opt(p.list(), {.learning_rate = 0.05, .beta1 = 0.5, .beta2 = 0.9, .epsilon = 0.1});
        check_three_steps(opt, p, {0.05, 0.5, 0.9, 0.1, 0, false, false});
    }
    SUBCASE("amsgrad") {
        // beta2 = 0.5 makes v shrink between steps, so the running maximum matters.
        Adam opt(p.list(), {.learning_rate = 0.1, .beta2 = 0.5, .amsgrad = true});
        check_three_steps(opt, p, {0.1, 0.9, 0.5, 1e-7, 0, true, false});
    }
    SUBCASE("adam with L2 weight decay") {
        Adam opt(p.list(), {.learning_rate = 0.1, .weight_decay = 0.5});
        check_three_steps(opt, p, {0.1, 0.9, 0.999, 1e-7, 0.5, false, false});
    }
    SUBCASE("adamw") {
        AdamW opt(p.list(), {.learning_rate = 0.1, .weight_decay = 0.5});
        check_three_steps(opt, p, {0.1, 0.9, 0.999, 1e-7, 0.5, false, true});
    }
    SUBCASE("adamw with amsgrad") {
        AdamW opt(p.list(), {.learning_rate = 0.1, .beta2 = 0.5, .amsgrad = true});
        check_three_steps(opt, p, {0.1, 0.9, 0.5, 1e-7, 0.004, true, true});
    }
}

TEST_CASE("Adam, AdamW: Keras defaults, names, state slots and option checks") {
    TwoParams p;
    Adam adam(p.list());
    CHECK(adam.name() == "adam");
    CHECK(adam.learning_rate() == 0.001);
    CHECK(adam.options().beta1 == 0.9);
    CHECK(adam.options().beta2 == 0.999);
    CHECK(adam.options().epsilon == 1e-7);
    CHECK(adam.options().weight_decay == 0);
    AdamW adamw(p.list());
    CHECK(adamw.name() == "adamw");
    CHECK(adamw.options().weight_decay == 0.004);

    Adam ams(p.list(), {.amsgrad = true});
    two_param_step(ams, p);
    const auto state = ams.state_dict();
    for (const char* key : {"param.0.m", "param.0.v", "param.0.v_hat", "param.1.v_hat"}) {
        CHECK_MESSAGE(state.count(key) == 1, key);
    }
    CHECK_THROWS_AS(Adam(p.list(), {.beta1 = 1.0}), std::invalid_argument);
    CHECK_THROWS_AS(Adam(p.list(), {.beta2 = -0.1}), std::invalid_argument);
    CHECK_THROWS_AS(Adam(p.list(), {.epsilon = -1}), std::invalid_argument);
    CHECK_THROWS_WITH_AS(AdamW(p.list(), {.weight_decay = -1}),
                         "AdamW: weight_decay must be finite and >= 0, got -1.000000",
                         std::invalid_argument);
}

TEST_CASE("Adam, AdamW converge on a quadratic and a logistic regression") {
    check_converges(
        [](std::vector<Variable> ps) {
            return std::make_unique<Adam>(std::move(ps), Adam::Options{.learning_rate = 0.02});
        },
        3000);
    check_converges(
        [](std::vector<Variable> ps) {
            return std::make_unique<Adam>(std::move(ps),
                                          Adam::Options{.learning_rate = 0.02, .amsgrad = true});
        },
        3000);
    // Weight decay moves the minimum by about lr * wd relative; a small one stays inside the
    // tolerance.
    check_converges(
        [](std::vector<Variable> ps) {
            return std::make_unique<AdamW>(
                std::move(ps), AdamW::Options{.learning_rate = 0.02, .weight_decay = 1e-5});
        },
        3000);
}

TEST_CASE("Adam, AdamW: save, load, continue is bit-for-bit an uninterrupted run") {
    SUBCASE("adam, amsgrad") {
        check_resume(
            [](std::vector<Variable> ps) {
                return std::make_unique<Adam>(
                    std::move(ps), Adam::Options{.learning_rate = 0.05, .amsgrad = true});
            },
            6, 9);
    }
    SUBCASE("adamw") {
        check_resume(
            [](std::vector<Variable> ps) {
                return std::make_unique<AdamW>(std::move(ps),
                                               AdamW::Options{.learning_rate = 0.05});
            },
            4, 5);
    }
    SUBCASE("saved before the first step") {
        check_resume([](std::vector<Variable> ps) { return std::make_unique<Adam>(std::move(ps)); },
                     0, 4);
    }
}
