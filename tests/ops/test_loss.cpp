#include <doctest/doctest.h>

#include <random>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "framework/errors.h"
#include "framework/testing.h"
#include "xgrad.h"

using namespace xgrad;

namespace {

using V64 = std::vector<Variable64>;

Tensor64 uniform(const Shape& shape, unsigned seed, double lo, double hi) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> dist(lo, hi);
    Tensor64 t = Tensor64::from_shape(shape);
    for (auto& v : t) v = dist(rng);
    return t;
}

const Reduction kReductions[] = {Reduction::mean, Reduction::sum, Reduction::none};

template <class T>
bool all_finite(const TensorOf<T>& t) {
    return xt::all(xt::isfinite(t));
}

}  // namespace

TEST_CASE("cross_entropy: forward and gradient against hand-computed values") {
    const IndexTensor labels = {2, 0};
    Variable64 logits(Tensor64{{1.0, 2.0, 3.0}, {1.0, 1.0, 1.0}}, true);
    XGRAD_CHECK_TENSOR_CLOSE(cross_entropy(logits, labels, Reduction::none).value(),
                             Tensor64({0.4076059644443803, 1.0986122886681098}));
    CHECK(cross_entropy(logits, labels, Reduction::sum).item() ==
          doctest::Approx(1.5062182531124901));
    Variable64 loss = cross_entropy(logits, labels);
    CHECK(loss.item() == doctest::Approx(0.7531091265562451));
    loss.backward();
    // (softmax - onehot) / batch.
    XGRAD_CHECK_TENSOR_CLOSE(
        logits.grad(), Tensor64({{0.04501528658519023, 0.12236423552739882, -0.16737952211258905},
                                 {-1.0 / 3, 1.0 / 6, 1.0 / 6}}));
}

TEST_CASE("cross_entropy agrees with nll_loss(log_softmax) and sparse CE on softmax") {
    const Tensor64 x = uniform({4, 5}, 3, -3, 3);
    const IndexTensor labels = {0, 4, 2, 2};
    for (Reduction r : kReductions) {
        const Tensor64 fused = cross_entropy(Variable64(x), labels, r).value();
        XGRAD_CHECK_TENSOR_CLOSE(nll_loss(log_softmax(Variable64(x)), labels, r).value(), fused);
        XGRAD_CHECK_TENSOR_CLOSE(
            sparse_categorical_crossentropy(softmax(Variable64(x)), labels, r).value(), fused);
    }
}

TEST_CASE("probability losses clip to [1e-7, 1 - 1e-7] before the log") {
    const Tensor64 probs = {{0.2, 0.3, 0.5}, {0.9, 0.1, 0.0}};
    const IndexTensor labels = {2, 2};
    XGRAD_CHECK_TENSOR_CLOSE(
        sparse_categorical_crossentropy(Variable64(probs), labels, Reduction::none).value(),
        Tensor64({0.6931471805599453, 16.11809565095832}));
    CHECK(sparse_categorical_crossentropy(Variable64(probs), labels).item() ==
          doctest::Approx(8.405621415759133));

    const Tensor64 targets = {{0.0, 0.0, 1.0}, {0.5, 0.5, 0.0}};
    XGRAD_CHECK_TENSOR_CLOSE(
        categorical_crossentropy(Variable64(probs), Variable64(targets), Reduction::none).value(),
        Tensor64({0.6931471805599453, 1.203972804325936}));

    const Variable64 p(Tensor64{{0.9, 0.2}, {0.5, 1.0}}), t(Tensor64{{1.0, 0.0}, {1.0, 0.0}});
    // Per example: the mean over the last axis; -log(1e-7) where p = 1 meets t = 0.
    XGRAD_CHECK_TENSOR_CLOSE(
        binary_cross_entropy(p, t, Reduction::none).value(),
        Tensor64({0.16425203348601802, (0.6931471805599453 + 16.11809565095832) / 2}), 1e-6, 1e-6);
}

TEST_CASE("nll_loss and binary cross-entropy from logits: forward values") {
    const Variable64 lp(Tensor64{{-1.0, -2.0}, {-0.5, -3.0}});
    const IndexTensor labels = {1, 0};
    XGRAD_CHECK_TENSOR_CLOSE(nll_loss(lp, labels, Reduction::none).value(), Tensor64({2.0, 0.5}));
    CHECK(nll_loss(lp, labels).item() == doctest::Approx(1.25));
    CHECK(nll_loss(lp, labels, Reduction::sum).item() == doctest::Approx(2.5));

    const Variable64 x(Tensor64{0.0, 2.0}), t(Tensor64{1.0, 0.0});
    XGRAD_CHECK_TENSOR_CLOSE(binary_cross_entropy_with_logits(x, t, Reduction::none).value(),
                             Tensor64({0.6931471805599453, 2.1269280110429727}));
    XGRAD_CHECK_TENSOR_CLOSE(binary_cross_entropy(sigmoid(x), t, Reduction::none).value(),
                             binary_cross_entropy_with_logits(x, t, Reduction::none).value(), 1e-9,
                             1e-9);
}

TEST_CASE("regression losses: forward values for every reduction") {
    const Variable64 p(Tensor64{{1.0, 2.0}, {3.0, 4.0}}), t(Tensor64{{1.0, 0.0}, {0.0, 4.0}});
    XGRAD_CHECK_TENSOR_CLOSE(mse_loss(p, t, Reduction::none).value(), Tensor64({2.0, 4.5}));
    CHECK(mse_loss(p, t).item() == doctest::Approx(3.25));
    CHECK(mse_loss(p, t, Reduction::sum).item() == doctest::Approx(6.5));
    XGRAD_CHECK_TENSOR_CLOSE(mae_loss(p, t, Reduction::none).value(), Tensor64({1.0, 1.5}));
    CHECK(mae_loss(p, t).item() == doctest::Approx(1.25));
    XGRAD_CHECK_TENSOR_CLOSE(huber_loss(p, t, 1.0, Reduction::none).value(),
                             Tensor64({0.75, 1.25}));
    CHECK(huber_loss(p, t).item() == doctest::Approx(1.0));
    XGRAD_CHECK_TENSOR_CLOSE(huber_loss(p, t, 2.5, Reduction::none).value(),
                             Tensor64({1.0, 2.1875}));
    // Rank 1: every element is an example; rank 3: one value per row of the last axis.
    CHECK(mse_loss(Variable64(Tensor64{1.0, 3.0}), Variable64(Tensor64{0.0, 0.0}), Reduction::none)
              .shape() == Shape{2});
    const Tensor64 z = xt::zeros<double>({2, 3, 4});
    CHECK(mse_loss(Variable64(z), Variable64(z), Reduction::none).shape() == Shape{2, 3});
}

TEST_CASE("losses: gradient checks for every reduction and several shapes") {
    for (Reduction r : kReductions) {
        CAPTURE(static_cast<int>(r));
        unsigned seed = 10;
        for (const auto& item :
             {std::pair{3ul, 4ul}, std::pair{1ul, 1ul}, std::pair{1ul, 3ul}, std::pair{4ul, 1ul}}) {
            const auto& batch = item.first;
            const auto& classes = item.second;
            CAPTURE(batch);
            CAPTURE(classes);
            IndexTensor labels = IndexTensor::from_shape({batch});
            for (std::size_t i = 0; i < batch; ++i) labels(i) = (i * 7 + 1) % classes;
            XGRAD_CHECK_GRADCHECK([&](const V64& in) { return cross_entropy(in[0], labels, r); },
                                  {uniform({batch, classes}, seed++, -3, 3)});
            XGRAD_CHECK_GRADCHECK([&](const V64& in) { return nll_loss(in[0], labels, r); },
                                  {uniform({batch, classes}, seed++, -3, -0.1)});
            XGRAD_CHECK_GRADCHECK(
                [&](const V64& in) { return sparse_categorical_crossentropy(in[0], labels, r); },
                {uniform({batch, classes}, seed++, 0.05, 0.95)});
            XGRAD_CHECK_GRADCHECK(
                [&](const V64& in) { return categorical_crossentropy(in[0], in[1], r); },
                {uniform({batch, classes}, seed++, 0.05, 0.95),
                 uniform({batch, classes}, seed++, 0, 1)});
        }
        for (const Shape& s : {Shape{4}, Shape{1}, Shape{2, 3}, Shape{3, 1}, Shape{2, 1, 3}}) {
            CAPTURE(format_shape(s));
            const Tensor64 a = uniform(s, seed++, -2, 2), b = uniform(s, seed++, -2, 2);
            const Tensor64 p = uniform(s, seed++, 0.05, 0.95), t = uniform(s, seed++, 0, 1);
            XGRAD_CHECK_GRADCHECK([&](const V64& in) { return mse_loss(in[0], in[1], r); }, {a, b});
            XGRAD_CHECK_GRADCHECK([&](const V64& in) { return mae_loss(in[0], in[1], r); }, {a, b});
            XGRAD_CHECK_GRADCHECK([&](const V64& in) { return huber_loss(in[0], in[1], 0.7, r); },
                                  {a, b});
            XGRAD_CHECK_GRADCHECK(
                [&](const V64& in) { return binary_cross_entropy(in[0], in[1], r); }, {p, t});
            XGRAD_CHECK_GRADCHECK(
                [&](const V64& in) { return binary_cross_entropy_with_logits(in[0], in[1], r); },
                {a, t});
        }
    }
}

TEST_CASE("losses stay finite with finite gradients for logits of +-1e4") {
    const Tensor big = {{1e4f, -1e4f, 0.f}, {-1e4f, -1e4f, -1e4f}, {-1e4f, 1e4f, 1e4f}};
    const IndexTensor labels = {1, 2, 0};
    for (Reduction r : kReductions) {
        CAPTURE(static_cast<int>(r));
        using Fn = std::function<Variable(const Variable&)>;
        const std::vector<std::pair<const char*, Fn>> losses = {
            {"cross_entropy", [&](const Variable& x) { return cross_entropy(x, labels, r); }},
            {"nll_loss(log_softmax)",
             [&](const Variable& x) { return nll_loss(log_softmax(x), labels, r); }},
            {"sparse_categorical_crossentropy(softmax)",
             [&](const Variable& x) {
                 return sparse_categorical_crossentropy(softmax(x), labels, r);
             }},
            {"categorical_crossentropy(softmax)",
             [&](const Variable& x) {
                 const Tensor onehot = {{0.f, 1.f, 0.f}, {0.f, 0.f, 1.f}, {1.f, 0.f, 0.f}};
                 return categorical_crossentropy(softmax(x), Variable(onehot), r);
             }},
            {"binary_cross_entropy(sigmoid)",
             [&](const Variable& x) {
                 return binary_cross_entropy(sigmoid(x), Variable(Tensor(xt::ones_like(x.value()))),
                                             r);
             }},
            {"binary_cross_entropy_with_logits",
             [&](const Variable& x) {
                 return binary_cross_entropy_with_logits(
                     x, Variable(Tensor(xt::zeros_like(x.value()))), r);
             }},
        };
        for (const auto& item : losses) {
            const auto& name = item.first;
            const auto& f = item.second;
            CAPTURE(name);
            Variable x(big, true);
            Variable loss = f(x);
            CHECK(all_finite(loss.value()));
            loss.backward(Tensor(xt::ones_like(loss.value())));
            CHECK(all_finite(x.grad()));
        }
    }
    // The fused loss is exact where the probability route must clip: -log p of 2e4.
    Variable x(big, true);
    XGRAD_CHECK_TENSOR_CLOSE(cross_entropy(x, labels, Reduction::none).value(),
                             Tensor({2e4f, 1.0986123f, 2e4f + 0.6931472f}));
}

TEST_CASE("class losses check labels and shapes") {
    Variable logits(Tensor::from_shape({2, 3}));
    CHECK_THROWS_WITH_AS(cross_entropy(logits, IndexTensor{0, 3}),
                         "cross_entropy: label 3 at position 1 is out of range for 3 classes "
                         "(valid labels are 0..2)",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(nll_loss(logits, IndexTensor{-1, 0}),
                         "nll_loss: label -1 at position 0 is out of range for 3 classes (valid "
                         "labels are 0..2)",
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cross_entropy(logits, IndexTensor{0, 1, 2}),
                         "cross_entropy: labels of shape (3,) do not match logits of shape (2, 3) "
                         "(expected 2 labels, one per example)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(cross_entropy(Variable(Tensor{1.f, 2.f}), IndexTensor{0}),
                         "cross_entropy: logits must have shape (batch, classes), got (2,)",
                         ShapeError);
    CHECK_THROWS_AS(sparse_categorical_crossentropy(logits, IndexTensor{5, 0}),
                    std::invalid_argument);
}

TEST_CASE("elementwise losses require matching shapes and a positive huber delta") {
    Variable a(Tensor::from_shape({2, 3})), b(Tensor::from_shape({3}));
    CHECK_THROWS_WITH_AS(mse_loss(a, b),
                         "mse_loss: pred (2, 3) and target (3,) must have the same shape",
                         ShapeError);
    CHECK_THROWS_WITH_AS(binary_cross_entropy_with_logits(a, b),
                         "binary_cross_entropy_with_logits: logits (2, 3) and targets (3,) must "
                         "have the same shape",
                         ShapeError);
    CHECK_THROWS_AS(mae_loss(a, b), ShapeError);
    CHECK_THROWS_AS(categorical_crossentropy(a, b), ShapeError);
    CHECK_THROWS_WITH_AS(huber_loss(a, a, 0.0), "huber_loss: delta must be positive, got 0",
                         std::invalid_argument);
}

TEST_CASE("losses: second derivatives (gradgradcheck) for every reduction") {
    for (Reduction r : kReductions) {
        CAPTURE(static_cast<int>(r));
        unsigned seed = 70;
        const std::size_t batch = 3, classes = 4;
        IndexTensor labels = {1, 3, 0};
        // Each loss of a square, so that the second derivative is not trivially zero.
        XGRAD_CHECK_GRADGRADCHECK(
            [&](const V64& in) { return cross_entropy(in[0] * in[0], labels, r); },
            {uniform({batch, classes}, seed++, -2, 2)});
        XGRAD_CHECK_GRADGRADCHECK([&](const V64& in) { return nll_loss(in[0] * in[0], labels, r); },
                                  {uniform({batch, classes}, seed++, -2, 2)});
        XGRAD_CHECK_GRADGRADCHECK(
            [&](const V64& in) {
                return sparse_categorical_crossentropy(in[0] * in[0], labels, r);
            },
            {uniform({batch, classes}, seed++, 0.3, 0.9)});
        XGRAD_CHECK_GRADGRADCHECK(
            [&](const V64& in) { return categorical_crossentropy(in[0] * in[0], in[1], r); },
            {uniform({batch, classes}, seed++, 0.3, 0.9), uniform({batch, classes}, seed++, 0, 1)});
        for (const Shape& s : {Shape{4}, Shape{2, 3}, Shape{2, 1, 3}}) {
            CAPTURE(format_shape(s));
            const Tensor64 a = uniform(s, seed++, -2, 2), b = uniform(s, seed++, -2, 2);
            const Tensor64 p = uniform(s, seed++, 0.3, 0.9), t = uniform(s, seed++, 0, 1);
            XGRAD_CHECK_GRADGRADCHECK(
                [&](const V64& in) { return mse_loss(in[0] * in[0], in[1], r); }, {a, b});
            XGRAD_CHECK_GRADGRADCHECK(
                [&](const V64& in) { return mae_loss(in[0] * in[0], in[1], r); }, {a, b});
            XGRAD_CHECK_GRADGRADCHECK(
                [&](const V64& in) { return huber_loss(in[0] * in[0], in[1], 0.7, r); }, {a, b});
            XGRAD_CHECK_GRADGRADCHECK(
                [&](const V64& in) { return binary_cross_entropy(in[0] * in[0], in[1], r); },
                {p, t});
            XGRAD_CHECK_GRADGRADCHECK(
                [&](const V64& in) {
                    return binary_cross_entropy_with_logits(in[0] * in[0], in[1], r);
                },
                {a, t});
        }
    }
}
