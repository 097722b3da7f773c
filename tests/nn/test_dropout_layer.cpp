#include <doctest/doctest.h>

#include <xtensor/xbuilder.hpp>

#include "xgrad.h"

using namespace xgrad;

TEST_CASE("Dropout: the rate must be in [0, 1)") {
    CHECK_THROWS_WITH_AS(nn::Dropout(1.0), "Dropout: rate must be in [0, 1), got 1",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(nn::Dropout(-0.5), "Dropout: rate must be in [0, 1), got -0.5",
                         std::invalid_argument);
    CHECK(nn::Dropout(0.25).rate() == 0.25);
    CHECK(nn::Dropout(0.0).name() == "dropout");
}

TEST_CASE("Dropout: zeroes about `rate` of the inputs in training and scales the rest") {
    manual_seed(11);
    nn::Dropout d(0.5);
    CHECK(d.is_training());
    const Tensor x = xt::ones<float>({100, 100});
    const Tensor y = d(Variable(x)).value();
    std::size_t zeros = 0;
    for (float v : y) {
        CHECK((v == 0.f || v == 2.f));
        zeros += v == 0.f;
    }
    CHECK(zeros > 4500);
    CHECK(zeros < 5500);
    CHECK(d.output_shape({100}) == Shape{100});
    CHECK(d.count_params() == 0);
}

TEST_CASE("Dropout: the identity in eval mode") {
    nn::Dropout d(0.9);
    d.eval();
    const Tensor x = {{1.f, 2.f, 3.f}};
    CHECK(d(Variable(x)).value() == x);
}

TEST_CASE("Dropout: manual_seed makes the mask reproducible") {
    nn::Dropout d(0.3);
    const Tensor x = xt::ones<float>({10, 10});
    manual_seed(4);
    const Tensor a = d(Variable(x)).value();
    manual_seed(4);
    const Tensor b = d(Variable(x)).value();
    CHECK(a == b);
}
