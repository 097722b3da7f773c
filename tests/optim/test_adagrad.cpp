#include <doctest/doctest.h>

#include "problems.h"

using namespace optim_test;
using xgrad::optim::Adagrad;

TEST_CASE("Adagrad: the first step by hand") {
    // acc = 0.1 + g^2; x = 1.5 - 0.1 * 1.5 / sqrt(2.35), y = -0.5 + 0.1 * 6 / sqrt(36.1).
    TwoParams p;
    Adagrad opt(p.list(), {.learning_rate = 0.1});
    two_param_step(opt, p);
    CHECK(p.x.item() == doctest::Approx(1.5 - 0.15 / std::sqrt(2.35)).epsilon(1e-6));
    CHECK(p.y.item() == doctest::Approx(-0.5 + 0.6 / std::sqrt(36.1)).epsilon(1e-6));
}

TEST_CASE("Adagrad: three steps against the double reference") {
    for (const Adagrad::Options o :
         {Adagrad::Options{.learning_rate = 0.1},
          Adagrad::Options{
              .learning_rate = 0.5, .initial_accumulator_value = 0, .epsilon = 1e-3}}) {
        TwoParams p;
        Adagrad opt(p.list(), o);
        std::array<double, 2> expected = {1.5, -0.5};
        std::array<double, 2> acc = {o.initial_accumulator_value, o.initial_accumulator_value};
        for (int step = 1; step <= 3; ++step) {
            CAPTURE(step);
            two_param_step(opt, p);
            const auto g = two_param_grad(expected);
            for (int i = 0; i < 2; ++i) {
                acc[i] += g[i] * g[i];
                expected[i] -= o.learning_rate * g[i] / std::sqrt(acc[i] + o.epsilon);
            }
            check_two_params(p, expected);
        }
    }
}

TEST_CASE("Adagrad: Keras defaults, the accumulator's start and option checks") {
    TwoParams p;
    Adagrad opt(p.list());
    CHECK(opt.name() == "adagrad");
    CHECK(opt.learning_rate() == 0.001);
    CHECK(opt.options().initial_accumulator_value == 0.1);
    CHECK(opt.options().epsilon == 1e-7);
    two_param_step(opt, p);
    // 0.1 + g^2 with g = 1.5 and -6.
    CHECK(opt.state_dict().at("param.0.accumulator")(0) == doctest::Approx(2.35));
    CHECK(opt.state_dict().at("param.1.accumulator")(0) == doctest::Approx(36.1));
    CHECK_THROWS_AS(Adagrad(p.list(), {.initial_accumulator_value = -1}), std::invalid_argument);
    CHECK_THROWS_AS(Adagrad(p.list(), {.epsilon = -1}), std::invalid_argument);
}

TEST_CASE("Adagrad converges on a quadratic and a logistic regression") {
    check_converges(
        [](std::vector<Variable> ps) {
            return std::make_unique<Adagrad>(std::move(ps), Adagrad::Options{.learning_rate = 0.5});
        },
        3000);
}

TEST_CASE("Adagrad: save, load, continue is bit-for-bit an uninterrupted run") {
    check_resume(
        [](std::vector<Variable> ps) {
            return std::make_unique<Adagrad>(std::move(ps), Adagrad::Options{.learning_rate = 0.3});
        },
        3, 8);
}
