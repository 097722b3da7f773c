#include <doctest/doctest.h>

#include "problems.h"

using namespace optim_test;
using xgrad::optim::SGD;

namespace {

// Keras SGD written out in double: m = mu m - lr g; p += m (or p += mu m - lr g, Nesterov).
void sgd_reference(std::array<double, 2>& p, std::array<double, 2>& m, const SGD::Options& o) {
    const auto g = two_param_grad(p);
    for (int i = 0; i < 2; ++i) {
        const double gi = g[i] + o.weight_decay * p[i];
        if (o.momentum == 0) {
            p[i] = p[i] - o.learning_rate * gi;
        } else if (o.nesterov) {
            m[i] = o.momentum * m[i] - o.learning_rate * gi;
            p[i] = p[i] + o.momentum * m[i] - o.learning_rate * gi;
        } else {
            m[i] = o.momentum * m[i] - o.learning_rate * gi;
            p[i] = p[i] + m[i];
        }
    }
}

void check_three_steps(const SGD::Options& o) {
    TwoParams p;
    SGD opt(p.list(), o);
    std::array<double, 2> ref = {1.5, -0.5}, m = {0, 0};
    for (int step = 1; step <= 3; ++step) {
        CAPTURE(step);
        two_param_step(opt, p);
        sgd_reference(ref, m, o);
        check_two_params(p, ref);
    }
    CHECK(opt.iterations() == 3);
}

}  // namespace

TEST_CASE("SGD: the first step by hand") {
    TwoParams p;
    SGD opt(p.list(), {.learning_rate = 0.1});
    two_param_step(opt, p);
    // x = 1.5 - 0.1 * 1.5; y = -0.5 - 0.1 * (4 * (-0.5 - 1))
    CHECK(p.x.item() == doctest::Approx(1.35));
    CHECK(p.y.item() == doctest::Approx(0.1));
    two_param_step(opt, p);
    // x = 1.35 * 0.9; y = 0.1 - 0.1 * (4 * (0.1 - 1))
    CHECK(p.x.item() == doctest::Approx(1.215));
    CHECK(p.y.item() == doctest::Approx(0.46));
}

TEST_CASE("SGD: three steps against the double reference") {
    SUBCASE("plain") {
        check_three_steps({.learning_rate = 0.1});
    }
    SUBCASE("momentum") {
        check_three_steps({.learning_rate = 0.1, .momentum = 0.9});
    }
    SUBCASE("nesterov") {
        check_three_steps({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true});
    }
    SUBCASE("weight decay") {
        check_three_steps({.learning_rate = 0.1, .momentum = 0.5, .weight_decay = 0.3});
    }
}

TEST_CASE("SGD: Keras defaults and option checks") {
    TwoParams p;
    SGD opt(p.list());
    CHECK(opt.name() == "sgd");
    CHECK(opt.learning_rate() == 0.01);
    CHECK(opt.options().momentum == 0);
    CHECK_FALSE(opt.options().nesterov);
    CHECK_THROWS_AS(SGD(p.list(), {.momentum = 1.5}), std::invalid_argument);
    CHECK_THROWS_AS(SGD(p.list(), {.weight_decay = -1}), std::invalid_argument);
    CHECK_THROWS_AS(SGD(p.list(), {.learning_rate = -0.1}), std::invalid_argument);
}

TEST_CASE("SGD: without momentum it keeps no state") {
    TwoParams p;
    SGD opt(p.list());
    two_param_step(opt, p);
    CHECK(opt.state_dict().size() == 2);  // iterations and learning_rate only
    SGD with_momentum(p.list(), {.momentum = 0.9});
    two_param_step(with_momentum, p);
    CHECK(with_momentum.state_dict().count("param.1.momentum") == 1);
}

TEST_CASE("SGD converges on a quadratic and a logistic regression") {
    check_converges(
        [](std::vector<Variable> ps) {
            return std::make_unique<SGD>(std::move(ps),
                                         SGD::Options{.learning_rate = 0.05, .momentum = 0.9});
        },
        1500);
    check_converges(
        [](std::vector<Variable> ps) {
            return std::make_unique<SGD>(
                std::move(ps),
                SGD::Options{.learning_rate = 0.05, .momentum = 0.9, .nesterov = true});
        },
        1500);
}

TEST_CASE("SGD: save, load, continue is bit-for-bit an uninterrupted run") {
    check_resume(
        [](std::vector<Variable> ps) {
            return std::make_unique<SGD>(
                std::move(ps),
                SGD::Options{
                    .learning_rate = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 0.01});
        },
        5, 7);
}
