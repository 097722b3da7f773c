#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/testing.h"
#include "nn_test_util.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

bool bit_equal(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

// Keras' docstring example: mean (1, 8, 5), variance (1, 1, 1).
Tensor keras_example() {
    return {{0.f, 7.f, 4.f}, {2.f, 9.f, 6.f}, {0.f, 7.f, 4.f}, {2.f, 9.f, 6.f}};
}

}  // namespace

TEST_CASE("Normalization::adapt: per-feature mean and biased variance, worked by hand") {
    nn::Normalization norm;
    CHECK_FALSE(norm.adapted());
    norm.adapt(keras_example());
    CHECK(norm.adapted());
    XGRAD_CHECK_TENSOR_CLOSE(norm.mean().value(), Tensor({1.f, 8.f, 5.f}), 0.0, 0.0);
    XGRAD_CHECK_TENSOR_CLOSE(norm.variance().value(), Tensor({1.f, 1.f, 1.f}), 0.0, 0.0);
    CHECK(norm.count().value()() == 4.f);
    // Keras: layer([[0, 7, 4]]) == [[-1, -1, -1]].
    XGRAD_CHECK_TENSOR_CLOSE(norm(Variable(Tensor({{0.f, 7.f, 4.f}}))).value(),
                             Tensor({{-1.f, -1.f, -1.f}}), 0.0, 0.0);

    // Rank 3: the statistics run over the first two axes. Feature 0 holds 1, 2, 3, 6:
    // mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5. Feature 1 holds 0, 0, 0, 4: mean 1, variance 3.
    nn::Normalization seq;
    seq.adapt(Tensor({{{1.f, 0.f}, {2.f, 0.f}}, {{3.f, 0.f}, {6.f, 4.f}}}));
    CHECK(seq.built_input_shape() == Shape{2, 2});
    XGRAD_CHECK_TENSOR_CLOSE(seq.mean().value(), Tensor({3.f, 1.f}), 0.0, 0.0);
    XGRAD_CHECK_TENSOR_CLOSE(seq.variance().value(), Tensor({3.5f, 3.f}), 0.0, 0.0);
    CHECK(seq.count().value()() == 4.f);

    // A second adapt replaces the statistics (as in Keras).
    norm.adapt(Tensor({{1.f, 1.f, 1.f}, {3.f, 1.f, 5.f}}));
    XGRAD_CHECK_TENSOR_CLOSE(norm.mean().value(), Tensor({2.f, 1.f, 3.f}), 0.0, 0.0);
    XGRAD_CHECK_TENSOR_CLOSE(norm.variance().value(), Tensor({1.f, 0.f, 4.f}), 0.0, 0.0);
    CHECK(norm.count().value()() == 2.f);
}

TEST_CASE("Normalization::adapt accumulates in double: an offset does not eat the variance") {
    // Values 10000 + {0, 0.5, 1, ..., 4.5}: exact in float32; the variance is 2.0625 (that of
    // 0..4.5 step 0.5). Float accumulation of squares near 1e8 would lose it entirely.
    Tensor x = xt::zeros<float>({10, 1});
    for (std::size_t i = 0; i < 10; ++i) x(i, 0) = 10000.f + 0.5f * float(i);
    nn::Normalization norm;
    norm.adapt(x);
    CHECK(norm.mean().value()(0) == 10002.25f);
    CHECK(norm.variance().value()(0) == 2.0625f);
}

TEST_CASE("Normalization forward: Keras' formula (x - mean) / max(sqrt(variance), 1e-7)") {
    nn::Normalization norm;
    // Feature 0 is constant (variance 0): Keras divides by epsilon = 1e-7, not by 0.
    norm.adapt(Tensor({{5.f, 1.f}, {5.f, 3.f}, {5.f, 8.f}}));
    const float m1 = 4.f, v1 = (9.f + 1.f + 16.f) / 3.f;
    const Tensor y = norm(Variable(Tensor({{5.f, 0.f}, {5.5f, 4.f}}))).value();
    CHECK(y(0, 0) == 0.f);
    CHECK(y(1, 0) == 0.5f / 1e-7f);
    CHECK(y(0, 1) == (0.f - m1) / std::sqrt(v1));
    CHECK(y(1, 1) == (4.f - m1) / std::sqrt(v1));
    // The gradient reaches x: d/dx = 1 / sqrt(variance).
    Variable x(Tensor({{1.f, 2.f}}), true);
    sum(norm(x)).backward();
    XGRAD_CHECK_TENSOR_CLOSE(x.grad(), Tensor({{1.f / 1e-7f, 1.f / std::sqrt(v1)}}));
    // Non-trainable: the statistics get no gradient and the optimizer never sees them.
    CHECK(norm.trainable_parameters().empty());
    CHECK_FALSE(norm.mean().has_grad());
}

TEST_CASE("Normalization before adapt is the identity, as in Keras") {
    nn::Normalization norm;
    const Tensor x = {{3.f, -2.f}};
    XGRAD_CHECK_TENSOR_CLOSE(norm(Variable(x)).value(), x, 0.0, 0.0);
    CHECK_FALSE(norm.adapted());
}

TEST_CASE("normalize: float64 finite-difference gradients for x, mean and variance") {
    const Tensor64 x = {{0.3, -1.2, 2.0}, {1.5, 0.7, -0.4}};
    const Tensor64 mean = {0.1, -0.5, 1.0};
    const Tensor64 variance = {0.8, 2.5, 0.3};
    XGRAD_CHECK_GRADCHECK(
        [](const std::vector<Variable64>& v) { return nn::normalize(v[0], v[1], v[2]); },
        {x, mean, variance});
    // Rank 3 input, features on the last axis.
    const Tensor64 x3 = xt::linspace<double>(-2.0, 3.0, 12).reshape({2, 2, 3});
    XGRAD_CHECK_GRADCHECK(
        [](const std::vector<Variable64>& v) { return nn::normalize(v[0], v[1], v[2]); },
        {x3, mean, variance});
}

TEST_CASE("Normalization: 2 * features + 1 non-trainable parameters; Keras' summary row") {
    nn::Sequential model;
    model.add(nn::Normalization({30}));
    model.add(nn::Dense(16, "relu"));
    model.add(nn::Dense(1, "sigmoid"));
    CHECK(model.layers()[0]->count_params() == 61);
    CHECK(model.layers()[0]->count_trainable_params() == 0);
    const std::string s = model.summary();
    CHECK(s.find(" normalization (Normalizati  (None, 30)                61\n on)\n") !=
          std::string::npos);
    CHECK(s.find("Total params: 574") != std::string::npos);  // 61 + 496 + 17
    CHECK(s.find("Trainable params: 513") != std::string::npos);
    CHECK(s.find("Non-trainable params: 61") != std::string::npos);
}

TEST_CASE("Normalization: bad adapt data is an error that leaves the statistics as they were") {
    nn::Normalization norm;
    norm.adapt(keras_example());
    CHECK_THROWS_WITH_AS(norm.adapt(Tensor({1.f, 2.f})),
                         doctest::Contains("normalization: adapt expects data of shape "
                                           "(examples, ..., features), got (2,)"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(
        norm.adapt(Tensor({{1.f, 2.f}})),
        doctest::Contains("already built for input shape (None, 3), got (None, 2)"), ShapeError);
    CHECK_THROWS_WITH_AS(norm.adapt(Tensor(xt::zeros<float>({0, 3}))),
                         doctest::Contains("'normalization': adapt was given no examples"),
                         std::invalid_argument);
    Tensor bad = keras_example();
    bad(2, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH_AS(
        norm.adapt(bad),
        doctest::Contains("'normalization': adapt data holds a NaN or infinite value in feature 1"),
        std::invalid_argument);
    bad(2, 1) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_AS(norm.adapt(bad), std::invalid_argument);
    XGRAD_CHECK_TENSOR_CLOSE(norm.mean().value(), Tensor({1.f, 8.f, 5.f}), 0.0, 0.0);
    CHECK(norm.count().value()() == 4.f);
    // Inputs of another shape than the adapted one.
    CHECK_THROWS_AS(norm(Variable(Tensor({{1.f, 2.f}}))), ShapeError);
}

TEST_CASE("save_model / load_model round-trip an adapted Normalization bit for bit") {
    Tensor data = xt::linspace<float>(-3.f, 40.f, 5 * 4).reshape({5, 4});
    data(1, 2) = 1e-3f;
    auto norm = std::make_shared<nn::Normalization>(Shape{4});
    norm->adapt(data);
    nn::Sequential model;
    model.add(norm);
    model.add(nn::Dense(3, "tanh"));
    const Tensor before = model(Variable(data)).value();
    const std::string path = nn_test::tmp_path("normalization_round_trip.safetensors");
    nn::save_model(model, path);
    nn::Sequential loaded = nn::load_model(path);
    CHECK(nn::model_architecture(loaded) == nn::model_architecture(model));
    CHECK(loaded.summary() == model.summary());
    const auto a = model.state_dict(), b = loaded.state_dict();
    REQUIRE(a.size() == b.size());
    CHECK(a.count("normalization/count") == 1);
    for (const auto& entry : a) {
        CAPTURE(entry.first);
        CHECK(bit_equal(entry.second, b.at(entry.first)));
    }
    const auto* back = dynamic_cast<const nn::Normalization*>(loaded.layers()[0].get());
    REQUIRE(back);
    CHECK(back->adapted());
    CHECK(bit_equal(loaded(Variable(data)).value(), before));
    // Only the last axis is supported; another axis in a file is an error, not a silent change.
    std::string arch = nn::model_architecture(model);
    const auto at = arch.find("\"axis\":-1");
    REQUIRE(at != std::string::npos);
    arch.replace(at, 9, "\"axis\":1");
    CHECK_THROWS_WITH_AS(nn::model_from_architecture(arch),
                         doctest::Contains("layer 'normalization' 'axis' is 1; only -1 (the last "
                                           "axis) is supported"),
                         std::invalid_argument);
}

TEST_CASE("Normalization::adapt(dataset): batch by batch, the same statistics as one tensor") {
    // 7 examples in batches of 3, 3, 1: merging the batches must be exact, not a mean of means.
    Tensor x = xt::zeros<float>({7, 2});
    const float a[7] = {1, 4, 4, 9, -2, 0, 30}, b[7] = {100, 101, 99, 100, 102, 98, 100};
    for (std::size_t i = 0; i < 7; ++i) {
        x(i, 0) = a[i];
        x(i, 1) = b[i];
    }
    nn::Normalization whole, batched;
    whole.adapt(x);
    batched.adapt(data::TensorDataset(x, Tensor(xt::zeros<float>({7, 1}))), 3);
    // mean 46 / 7; sum of squares 1 + 16 + 16 + 81 + 4 + 0 + 900 = 1018 -> variance 1018/7 -
    // (46/7)^2.
    CHECK(batched.mean().value()(0) == doctest::Approx(46.0 / 7).epsilon(1e-6));
    CHECK(batched.variance().value()(0) ==
          doctest::Approx(1018.0 / 7 - (46.0 / 7) * (46.0 / 7)).epsilon(1e-6));
    CHECK(batched.count().value()() == 7.f);
    XGRAD_CHECK_TENSOR_CLOSE(batched.mean().value(), whole.mean().value(), 1e-6, 0.0);
    XGRAD_CHECK_TENSOR_CLOSE(batched.variance().value(), whole.variance().value(), 1e-6, 0.0);
    // Two inputs, or no examples, are errors.
    CHECK_THROWS_WITH_AS(
        batched.adapt(data::TensorDataset(std::vector<Tensor>{x, x}, std::vector<Tensor>{})),
        doctest::Contains("adapt needs a dataset with one input, this one has 2"),
        std::invalid_argument);
    CHECK_THROWS_WITH_AS(batched.adapt(data::TensorDataset(x, x), 0),
                         doctest::Contains("adapt batch size is 0"), std::invalid_argument);
}
