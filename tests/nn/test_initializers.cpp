#include <doctest/doctest.h>

#include <cmath>

#include <xtensor/xmath.hpp>
#include <xtensor/xsort.hpp>

#include "xgrad.h"

using namespace xgrad;

namespace {

double mean_of(const Tensor& t) {
    return static_cast<double>(xt::mean(t)());
}
double std_of(const Tensor& t) {
    return std::sqrt(static_cast<double>(xt::variance(t)()));
}
double max_abs(const Tensor& t) {
    return static_cast<double>(xt::amax(xt::abs(t))());
}

}  // namespace

TEST_CASE("an unknown initializer name lists the valid ones") {
    CHECK_THROWS_WITH_AS(nn::initialize("glorot", {2, 2}, 2, 2),
                         "unknown initializer 'glorot'; valid names: glorot_uniform, "
                         "glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal, "
                         "random_uniform, random_normal, zeros, ones, "
                         "orthogonal",
                         std::invalid_argument);
    CHECK_NOTHROW(nn::check_initializer_name("he_normal"));
    CHECK(nn::initializer_names().size() == 11);
}

TEST_CASE("uniform variance-scaling initialisers: limits and variance") {
    const std::size_t in = 400, out = 200;
    struct Case {
        const char* name;
        double limit;
    };
    for (const Case& c :
         {Case{"glorot_uniform", std::sqrt(6.0 / (in + out))},
          Case{"he_uniform", std::sqrt(6.0 / in)}, Case{"lecun_uniform", std::sqrt(3.0 / in)}}) {
        CAPTURE(c.name);
        const Tensor t = nn::initialize(c.name, {in, out}, in, out);
        CHECK(t.shape() == Tensor::shape_type{in, out});
        CHECK(max_abs(t) <= c.limit);
        CHECK(max_abs(t) > 0.99 * c.limit);
        CHECK(std::abs(mean_of(t)) < 0.01 * c.limit);
        // U(-l, l) has standard deviation l / sqrt(3).
        CHECK(std_of(t) == doctest::Approx(c.limit / std::sqrt(3.0)).epsilon(0.02));
    }
}

TEST_CASE("normal variance-scaling initialisers: truncated at two stddevs, variance restored") {
    const std::size_t in = 400, out = 200;
    struct Case {
        const char* name;
        double stddev;  // the target standard deviation sqrt(scale / n)
    };
    for (const Case& c :
         {Case{"glorot_normal", std::sqrt(2.0 / (in + out))},
          Case{"he_normal", std::sqrt(2.0 / in)}, Case{"lecun_normal", std::sqrt(1.0 / in)}}) {
        CAPTURE(c.name);
        const Tensor t = nn::initialize(c.name, {in, out}, in, out);
        CHECK(max_abs(t) <= 2 * c.stddev / 0.87962566103423978 + 1e-6);
        CHECK(std::abs(mean_of(t)) < 0.01 * c.stddev);
        CHECK(std_of(t) == doctest::Approx(c.stddev).epsilon(0.02));
    }
}

TEST_CASE("random, zeros and ones initialisers") {
    const Tensor u = nn::initialize("random_uniform", {300, 300}, 300, 300);
    CHECK(max_abs(u) <= 0.05);
    CHECK(std_of(u) == doctest::Approx(0.05 / std::sqrt(3.0)).epsilon(0.02));
    const Tensor n = nn::initialize("random_normal", {300, 300}, 300, 300);
    CHECK(std_of(n) == doctest::Approx(0.05).epsilon(0.02));
    CHECK(nn::initialize("zeros", {2, 3}, 2, 3) == Tensor(xt::zeros<float>({2, 3})));
    CHECK(nn::initialize("ones", {4}, 1, 4) == Tensor(xt::ones<float>({4})));
}

TEST_CASE("manual_seed makes initial weights reproducible") {
    manual_seed(42);
    const Tensor a = nn::initialize("glorot_uniform", {5, 4}, 5, 4);
    const Tensor b = nn::initialize("glorot_uniform", {5, 4}, 5, 4);
    manual_seed(42);
    const Tensor c = nn::initialize("glorot_uniform", {5, 4}, 5, 4);
    CHECK(a == c);
    CHECK(a != b);
    Rng rng1(3), rng2(3);
    CHECK(nn::initialize("he_normal", {6}, 6, 1, rng1) ==
          nn::initialize("he_normal", {6}, 6, 1, rng2));
}

TEST_CASE("orthogonal: orthonormal rows or columns, whichever are fewer; rank 2 or more") {
    manual_seed(9);
    for (const Shape& shape : {Shape{6, 24}, Shape{24, 6}, Shape{2, 3, 6}, Shape{5, 5}}) {
        CAPTURE(format_shape(shape));
        Tensor w = nn::initialize("orthogonal", shape, 1, 1);
        REQUIRE(to_shape(w.shape()) == shape);
        const std::size_t cols = shape.back(), rows = w.size() / cols;
        w.reshape({rows, cols});
        const Variable m(w);
        const Tensor gram =
            rows <= cols ? matmul(m, transpose(m)).value() : matmul(transpose(m), m).value();
        const std::size_t n = std::min(rows, cols);
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j < n; ++j) {
                CHECK(gram(i, j) == doctest::Approx(i == j ? 1.0 : 0.0).epsilon(1e-5).scale(1));
            }
        }
    }
    CHECK_THROWS_WITH_AS(nn::initialize("orthogonal", {4}, 4, 4),
                         "the orthogonal initializer needs a shape of rank 2 or more, got rank 1",
                         std::invalid_argument);
}
