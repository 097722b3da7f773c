#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>

#include "xgrad.h"

using namespace xgrad;

namespace {
// How often each class comes out of n draws of `draw_one`.
template <class F>
std::vector<double> frequencies(std::size_t classes, int n, F draw_one) {
    std::vector<double> counts(classes, 0.0);
    for (int i = 0; i < n; ++i) counts[static_cast<std::size_t>(draw_one())] += 1.0 / n;
    return counts;
}
}  // namespace

TEST_CASE("multinomial: frequencies follow the weights, shapes, reproducible from a seed") {
    Rng rng(7);
    const Tensor w = {1.f, 0.f, 3.f};
    const IndexTensor draws = multinomial(w, 20000, rng);
    REQUIRE(draws.shape() == IndexTensor::shape_type{20000});
    std::vector<double> f(3, 0.0);
    for (auto d : draws) f[static_cast<std::size_t>(d)] += 1.0 / 20000;
    CHECK(f[0] == doctest::Approx(0.25).epsilon(0.05));
    CHECK(f[1] == 0.0);
    CHECK(f[2] == doctest::Approx(0.75).epsilon(0.05));
    CHECK(multinomial(Tensor{{1.f, 1.f}, {0.f, 1.f}}, 4, rng).shape() ==
          IndexTensor::shape_type{2, 4});
    Rng a(3), b(3);
    CHECK(multinomial(w, 50, a) == multinomial(w, 50, b));
}

TEST_CASE("multinomial: errors name the weight and the row") {
    Rng rng(1);
    CHECK_THROWS_WITH_AS(multinomial(Tensor{{1.f, 2.f}, {1.f, -1.f}}, 1, rng),
                         "multinomial: weight -1.000000 of class 1 in row 1 is not a finite "
                         "non-negative number",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(multinomial(Tensor{0.f, 0.f}, 1, rng),
                         "multinomial: the weights of row 0 sum to 0, so no class can be drawn",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(multinomial(Tensor::from_shape({1, 2, 3}), 1, rng),
                         "multinomial: expected shape (classes,) or (rows, classes), got (1, 2, 3)",
                         std::invalid_argument);
    CHECK_THROWS_AS(multinomial(Tensor{1.f, NAN}, 1, rng), std::invalid_argument);
}

TEST_CASE("sample_categorical: softmax with temperature, top-k, greedy, reproducible") {
    const Tensor logits = {std::log(1.f), std::log(2.f), std::log(5.f), std::log(2.f)};
    Rng rng(11);
    auto draws = [&](SamplingOptions o) {
        return frequencies(4, 20000, [&] { return sample_categorical(logits, o, rng)(); });
    };
    const auto plain = draws({});
    CHECK(plain[0] == doctest::Approx(0.1).epsilon(0.08));
    CHECK(plain[2] == doctest::Approx(0.5).epsilon(0.05));
    // Temperature 0.5 squares the probabilities: 1:4:25:4.
    const auto sharp = draws({.temperature = 0.5});
    CHECK(sharp[2] == doctest::Approx(25.0 / 34).epsilon(0.03));
    // top_k 1 keeps the largest; top_k 2 keeps the ties at the second largest as well.
    const auto top1 = draws({.top_k = 1});
    CHECK(top1[2] == doctest::Approx(1.0));
    const auto top2 = draws({.top_k = 2});
    CHECK(top2[0] == 0.0);
    CHECK(top2[2] == doctest::Approx(5.0 / 9).epsilon(0.05));
    CHECK(sample_categorical(logits, {.temperature = 0})() == 2);
    CHECK(sample_categorical(Tensor{{0.f, 9.f}, {9.f, 0.f}}, {.temperature = 0}) ==
          IndexTensor{1, 0});
    CHECK(sample_categorical(Tensor{-INFINITY, INFINITY, 0.f})() == 1);
    Rng a(5), b(5);
    for (int i = 0; i < 20; ++i) {
        CHECK(sample_categorical(logits, {}, a)() == sample_categorical(logits, {}, b)());
    }
}

TEST_CASE("sample_categorical: errors") {
    CHECK_THROWS_WITH_AS(sample_categorical(Tensor{1.f}, {.temperature = -1}),
                         "sample_categorical: temperature must be finite and >= 0, got -1.000000",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(sample_categorical(Tensor{1.f, NAN}),
                         "sample_categorical: logit 1 of row 0 is NaN", std::invalid_argument);
    CHECK_THROWS_WITH_AS(sample_categorical(Tensor{-INFINITY, -INFINITY}),
                         "sample_categorical: every logit of row 0 is -inf, so no class can be "
                         "drawn",
                         std::invalid_argument);
    CHECK_THROWS_AS(sample_categorical(Tensor::from_shape({0})), std::invalid_argument);
}
