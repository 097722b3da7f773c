#include <doctest/doctest.h>

#include <cmath>

#include "framework/errors.h"
#include "nn_test_util.h"
#include "xgrad.h"

using namespace xgrad;
namespace losses = xgrad::nn::losses;

namespace {

double value(const Variable& v) {
    return double(v.item());
}

}  // namespace

TEST_CASE("mse, mae and huber against values worked out by hand") {
    const Variable p(Tensor{{1.f, 2.f}, {3.f, 4.f}});
    const Variable t(Tensor{{1.f, 0.f}, {0.f, 4.f}});
    // Errors 0, 2, 3, 0.
    CHECK(value(losses::mean_squared_error(p, t)) == doctest::Approx(13.0 / 4));
    CHECK(value(losses::mean_absolute_error(p, t)) == doctest::Approx(5.0 / 4));
    // Huber, delta 1: 0, 2 - 0.5, 3 - 0.5, 0.
    CHECK(value(losses::huber(p, t)) == doctest::Approx(4.0 / 4));
    // delta 2: 0, 0.5 * 4, 2 * (3 - 1), 0.
    CHECK(value(losses::huber(p, t, 2.0)) == doctest::Approx(6.0 / 4));
    CHECK(value(nn::Loss("mse")(p, t)) == doctest::Approx(13.0 / 4));
    CHECK(value(nn::Loss("mean_absolute_error")(p, t)) == doctest::Approx(5.0 / 4));
    CHECK(value(nn::Loss("huber", {.delta = 2.0})(p, t)) == doctest::Approx(6.0 / 4));
    // A target without the trailing axis of 1 is matched to the prediction, as Keras does.
    CHECK(value(losses::mean_squared_error(Variable(nn_test::column({1.f, 3.f})),
                                           Variable(Tensor{0.f, 0.f}))) == doctest::Approx(5.0));
    CHECK_THROWS_WITH_AS(losses::mean_squared_error(p, Variable(Tensor{1.f, 2.f, 3.f})),
                         "mean_squared_error: the target of shape (3,) does not match the "
                         "prediction of shape (2, 2)",
                         ShapeError);
}

TEST_CASE("binary_crossentropy: probabilities, logits, and a sigmoid output fused") {
    const Variable t(nn_test::column({1.f, 0.f}));
    // -(log 0.9 + log 0.8) / 2
    CHECK(value(losses::binary_crossentropy(Variable(nn_test::column({0.9f, 0.2f})), t)) ==
          doctest::Approx((0.1053605 + 0.2231436) / 2));
    // From logits 0 and 2: log 2 and log(1 + e^2).
    const Variable z(nn_test::column({0.f, 2.f}), true);
    const double expected = (std::log(2.0) + std::log1p(std::exp(2.0))) / 2;
    CHECK(value(losses::binary_crossentropy(z, t, true)) == doctest::Approx(expected));
    CHECK(value(nn::Loss("binary_crossentropy", {.from_logits = true})(z, t)) ==
          doctest::Approx(expected));
    CHECK(value(losses::binary_crossentropy(sigmoid(z), t)) == doctest::Approx(expected));
    // A saturated sigmoid: clipped probabilities would give -log(1e-7) = 16.1, logits give 50.
    const Variable far(nn_test::column({50.f}), true);
    CHECK(value(losses::binary_crossentropy(sigmoid(far), Variable(nn_test::column({0.f})))) ==
          doctest::Approx(50.0));
    {
        NoGradGuard no_grad;  // as in evaluate(): the sigmoid still keeps its logits
        CHECK(value(losses::binary_crossentropy(sigmoid(far), Variable(nn_test::column({0.f})))) ==
              doctest::Approx(50.0));
    }
}

TEST_CASE("categorical_crossentropy on one-hot and soft targets; a softmax output fused") {
    const Variable p(Tensor{{0.7f, 0.2f, 0.1f}, {0.1f, 0.8f, 0.1f}});
    const Variable t(Tensor{{1.f, 0.f, 0.f}, {0.f, 0.5f, 0.5f}});
    // Row 1: -log 0.7; row 2: -(0.5 log 0.8 + 0.5 log 0.1).
    const double expected = (0.3566749 + 0.5 * 0.2231436 + 0.5 * 2.3025851) / 2;
    CHECK(value(losses::categorical_crossentropy(p, t)) == doctest::Approx(expected));
    CHECK(value(nn::Loss("categorical_crossentropy")(p, t)) == doctest::Approx(expected));
    // Logits (1000, 0) against class 1: 1000 (clipping would say 16.1).
    const Variable z(Tensor{{1000.f, 0.f}}, true);
    const Variable one_hot(Tensor{{0.f, 1.f}});
    CHECK(value(losses::categorical_crossentropy(softmax(z), one_hot)) == doctest::Approx(1000.0));
    CHECK(value(losses::categorical_crossentropy(z, one_hot, true)) == doctest::Approx(1000.0));
    Variable loss = losses::categorical_crossentropy(softmax(z), one_hot);
    loss.backward();  // d/dz = softmax(z) - t = (1, -1)
    CHECK(z.grad()(0, 0) == doctest::Approx(1.0));
    CHECK(z.grad()(0, 1) == doctest::Approx(-1.0));
    CHECK_THROWS_WITH_AS(losses::categorical_crossentropy(p, Variable(Tensor{0.f, 1.f})),
                         "categorical_crossentropy: the target of shape (2,) does not match the "
                         "prediction of shape (2, 3); these look like class labels: use "
                         "sparse_categorical_crossentropy (or one-hot targets)",
                         ShapeError);
}

TEST_CASE("sparse_categorical_crossentropy and cross_entropy on whole-number float labels") {
    const Variable p(Tensor{{0.7f, 0.2f, 0.1f}, {0.1f, 0.8f, 0.1f}});
    const double expected = (0.3566749 + 0.2231436) / 2;  // -(log 0.7 + log 0.8) / 2
    CHECK(value(losses::sparse_categorical_crossentropy(p, Variable(Tensor{0.f, 1.f}))) ==
          doctest::Approx(expected));
    CHECK(
        value(losses::sparse_categorical_crossentropy(p, Variable(nn_test::column({0.f, 1.f})))) ==
        doctest::Approx(expected));  // (batch, 1) labels too
    // Logits (0, 0) against class 1: log 2.
    const Variable z(Tensor{{0.f, 0.f}});
    CHECK(value(losses::cross_entropy(z, Variable(Tensor{1.f}))) == doctest::Approx(std::log(2.0)));
    CHECK(value(nn::Loss("cross_entropy")(z, Variable(Tensor{1.f}))) ==
          doctest::Approx(std::log(2.0)));
    // A sequence of class scores (batch 1, 2 steps, 2 classes): one label per step.
    const Variable seq(Tensor{{{0.7f, 0.3f}, {0.4f, 0.6f}}});
    CHECK(value(losses::sparse_categorical_crossentropy(seq, Variable(Tensor{{0.f, 1.f}}))) ==
          doctest::Approx((0.3566749 + 0.5108256) / 2));
    CHECK_THROWS_WITH_AS(
        losses::sparse_categorical_crossentropy(p, Variable(Tensor{0.f, 1.5f})),
        "sparse_categorical_crossentropy: target 1.500000 at position 1 is not a whole number "
        "(a class label)",
        std::invalid_argument);
    CHECK_THROWS_AS(losses::sparse_categorical_crossentropy(p, Variable(Tensor{0.f, 3.f})),
                    std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        losses::sparse_categorical_crossentropy(p, p),
        "sparse_categorical_crossentropy: the class labels of shape (2, 3) do not match the "
        "prediction of shape (2, 3) (expected (2,)); for one-hot targets use "
        "categorical_crossentropy",
        ShapeError);
}

TEST_CASE("kl_divergence against a value worked out by hand") {
    // 0.25 log(0.25 / 0.5) + 0.75 log(0.75 / 0.5)
    const double expected = 0.25 * std::log(0.5) + 0.75 * std::log(1.5);
    CHECK(value(losses::kl_divergence(Variable(Tensor{{0.5f, 0.5f}}),
                                      Variable(Tensor{{0.25f, 0.75f}}))) ==
          doctest::Approx(expected));
    CHECK(value(nn::Loss("kl_divergence")(Variable(Tensor{{0.5f, 0.5f}}),
                                          Variable(Tensor{{0.5f, 0.5f}}))) == doctest::Approx(0.0));
}

TEST_CASE("Loss: a user's function, and unknown names") {
    nn::Loss mine = [](const Variable& p, const Variable& t) { return sum(abs(p - t)); };
    CHECK(mine.name() == "custom");
    CHECK(value(mine(Variable(Tensor{1.f, 2.f}), Variable(Tensor{0.f, 0.f}))) == 3.0);
    nn::Loss named("l1_sum", [](const Variable& p, const Variable& t) { return sum(abs(p - t)); });
    CHECK(named.name() == "l1_sum");
    CHECK_THROWS_AS(nn::Loss("categorical"), std::invalid_argument);
    CHECK(nn::Loss::names().size() == 10);
}
