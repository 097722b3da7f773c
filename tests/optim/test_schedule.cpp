#include <doctest/doctest.h>

#include "problems.h"

using namespace optim_test;
using namespace xgrad::optim;

TEST_CASE("StepDecay drops by the factor every step_size steps") {
    StepDecay s(0.1, 0.5, 10);
    CHECK(s(0) == doctest::Approx(0.1));
    CHECK(s(9) == doctest::Approx(0.1));
    CHECK(s(10) == doctest::Approx(0.05));
    CHECK(s(25) == doctest::Approx(0.025));
    CHECK_THROWS_AS(s(-1), std::invalid_argument);
    CHECK_THROWS_AS(StepDecay(0.1, 0.5, 0), std::invalid_argument);
}

TEST_CASE("ExponentialDecay, smooth and staircase") {
    ExponentialDecay smooth(0.1, 100, 0.96);
    CHECK(smooth(0) == doctest::Approx(0.1));
    CHECK(smooth(50) == doctest::Approx(0.1 * std::sqrt(0.96)));
    CHECK(smooth(200) == doctest::Approx(0.1 * 0.96 * 0.96));
    ExponentialDecay stairs(0.1, 100, 0.96, true);
    CHECK(stairs(99) == doctest::Approx(0.1));
    CHECK(stairs(150) == doctest::Approx(0.096));
    CHECK_THROWS_AS(ExponentialDecay(0.1, 0, 0.9), std::invalid_argument);
}

TEST_CASE("CosineDecay, with alpha and with a warm-up") {
    CosineDecay c(1.0, 100);
    CHECK(c(0) == doctest::Approx(1.0));
    CHECK(c(50) == doctest::Approx(0.5));
    CHECK(c(25) == doctest::Approx(0.5 * (1 + std::sqrt(0.5))));
    CHECK(c(100) == doctest::Approx(0.0));
    CHECK(c(250) == doctest::Approx(0.0));  // stays at the end value

    CosineDecay floor(2.0, 100, 0.1);
    CHECK(floor(50) == doctest::Approx(2.0 * 0.55));
    CHECK(floor(100) == doctest::Approx(0.2));

    // A linear ramp 0 -> 1 over 10 steps, then cosine from 1 over 100 steps.
    CosineDecay warm(0.0, 100, 0.0, 10, 1.0);
    CHECK(warm(0) == doctest::Approx(0.0));
    CHECK(warm(5) == doctest::Approx(0.5));
    CHECK(warm(10) == doctest::Approx(1.0));
    CHECK(warm(60) == doctest::Approx(0.5));
    CHECK(warm(110) == doctest::Approx(0.0));
    CHECK_THROWS_AS(CosineDecay(1.0, 0), std::invalid_argument);
    CHECK_THROWS_AS(warm(-3), std::invalid_argument);
}

TEST_CASE("a schedule drives an optimizer through set_learning_rate") {
    TwoParams p;
    SGD opt(p.list());
    const StepDecay schedule(0.4, 0.5, 2);
    const LearningRateSchedule& any = schedule;
    std::vector<double> seen;
    for (int epoch = 0; epoch < 5; ++epoch) {
        opt.set_learning_rate(any(epoch));
        seen.push_back(opt.learning_rate());
    }
    CHECK(seen == std::vector<double>{0.4, 0.4, 0.2, 0.2, 0.1});
}

TEST_CASE("ReduceLROnPlateau: patience, factor, min_delta, min_lr, cooldown, mode") {
    TwoParams p;
    SUBCASE("reduces after patience epochs without improvement") {
        Adam opt(p.list(), {.learning_rate = 0.1});
        ReduceLROnPlateau plateau(opt, 0.5, 2);
        CHECK_FALSE(plateau.update(1.0));  // first value is an improvement over +inf
        CHECK_FALSE(plateau.update(1.0));  // wait 1
        CHECK(plateau.update(0.99995));    // within min_delta: wait 2 -> reduce
        CHECK(opt.learning_rate() == doctest::Approx(0.05));
        CHECK_FALSE(plateau.update(0.5));  // a real improvement resets the wait
        CHECK(plateau.best() == 0.5);
        CHECK_FALSE(plateau.update(0.6));
        CHECK(plateau.update(0.7));
        CHECK(opt.learning_rate() == doctest::Approx(0.025));
    }
    SUBCASE("never below min_lr") {
        Adam opt(p.list(), {.learning_rate = 0.1});
        ReduceLROnPlateau plateau(opt, 0.1, 0, 1e-4, 0.05);
        CHECK_FALSE(plateau.update(1.0));
        CHECK(plateau.update(1.0));
        CHECK(opt.learning_rate() == doctest::Approx(0.05));
        CHECK_FALSE(plateau.update(1.0));  // already at min_lr
        CHECK(opt.learning_rate() == doctest::Approx(0.05));
    }
    SUBCASE("cooldown pauses counting after a reduction") {
        Adam opt(p.list(), {.learning_rate = 1.0});
        ReduceLROnPlateau plateau(opt, 0.5, 1, 1e-4, 0, PlateauMode::min, 2);
        CHECK_FALSE(plateau.update(1.0));
        CHECK(plateau.update(1.0));
        CHECK_FALSE(plateau.update(1.0));  // cooldown 2 -> 1
        CHECK_FALSE(plateau.update(1.0));  // cooldown 1 -> 0
        CHECK(plateau.update(1.0));
        CHECK(opt.learning_rate() == doctest::Approx(0.25));
    }
    SUBCASE("mode max watches a metric that should grow") {
        Adam opt(p.list(), {.learning_rate = 0.1});
        ReduceLROnPlateau plateau(opt, 0.5, 1, 0.01, 0, PlateauMode::max);
        CHECK_FALSE(plateau.update(0.80));
        CHECK_FALSE(plateau.update(0.85));
        CHECK(plateau.update(0.855));  // not more than min_delta better
        CHECK(opt.learning_rate() == doctest::Approx(0.05));
    }
    SUBCASE("bad settings") {
        Adam opt(p.list());
        CHECK_THROWS_AS(ReduceLROnPlateau(opt, 1.0), std::invalid_argument);
        CHECK_THROWS_AS(ReduceLROnPlateau(opt, 0.1, -1), std::invalid_argument);
        CHECK_THROWS_AS(ReduceLROnPlateau(opt, 0.1, 10, 1e-4, -1), std::invalid_argument);
    }
}
