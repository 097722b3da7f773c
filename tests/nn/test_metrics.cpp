#include <doctest/doctest.h>

#include <cmath>

#include "framework/errors.h"
#include "nn_test_util.h"
#include "xgrad.h"

using namespace xgrad;

namespace metrics = xgrad::nn::metrics;

TEST_CASE("accuracies: sparse, categorical, binary; state adds up over batches exactly") {
    metrics::SparseCategoricalAccuracy sparse;
    sparse.update_state(Tensor{{0.1f, 0.9f}, {0.8f, 0.2f}, {0.3f, 0.7f}}, Tensor{1.f, 1.f, 1.f});
    CHECK(sparse.result() == doctest::Approx(2.0 / 3));
    sparse.update_state(Tensor{{0.6f, 0.4f}}, Tensor{0.f});
    CHECK(sparse.result() == doctest::Approx(3.0 / 4));  // not the mean of 2/3 and 1
    sparse.reset_state();
    CHECK(sparse.result() == 0.0);
    CHECK_THROWS_WITH_AS(sparse.update_state(Tensor{{0.1f, 0.9f}}, Tensor{2.f}),
                         "sparse_categorical_accuracy: target 2.000000 at position 0 is not a "
                         "class label in 0..1",
                         std::invalid_argument);

    metrics::CategoricalAccuracy categorical;
    categorical.update_state(Tensor{{0.1f, 0.9f}, {0.8f, 0.2f}}, Tensor{{0.f, 1.f}, {0.f, 1.f}});
    CHECK(categorical.result() == doctest::Approx(0.5));

    metrics::BinaryAccuracy binary;  // decisions 0, 1, 0, 1 against 0, 1, 1, 0
    binary.update_state(Tensor{0.2f, 0.6f, 0.5f, 0.9f}, Tensor{0.f, 1.f, 1.f, 0.f});
    CHECK(binary.result() == doctest::Approx(0.5));
}

TEST_CASE("accuracy resolves to binary, sparse or categorical accuracy the way Keras does") {
    auto resolved = [](bool binary_loss, const Tensor& p, const Tensor& t) {
        metrics::Accuracy a(binary_loss);
        a.update_state(p, t);
        CHECK(a.name() == "accuracy");
        return a.resolved()->name();
    };
    const Tensor three = {{0.2f, 0.5f, 0.3f}};
    CHECK(resolved(false, nn_test::column({0.7f}), nn_test::column({1.f})) == "binary_accuracy");
    CHECK(resolved(false, nn_test::column({0.7f}), Tensor{1.f}) == "binary_accuracy");
    CHECK(resolved(false, three, Tensor{1.f}) == "sparse_categorical_accuracy");
    CHECK(resolved(false, three, nn_test::column({1.f})) == "sparse_categorical_accuracy");
    CHECK(resolved(false, three, Tensor{{0.f, 1.f, 0.f}}) == "categorical_accuracy");
    CHECK(resolved(true, three, Tensor{{0.f, 1.f, 1.f}}) == "binary_accuracy");  // multi-label
    CHECK(nn::make_metric("acc")->name() == "acc");
}

TEST_CASE("top_k_categorical_accuracy on one-hot targets and on labels") {
    metrics::TopKCategoricalAccuracy top2(2);
    const Tensor p = {{0.1f, 0.5f, 0.4f}, {0.6f, 0.3f, 0.1f}};
    // Row 1: one score above class 2's 0.4, so in the top 2; row 2: two above 0.1, out.
    top2.update_state(p, Tensor{{0.f, 0.f, 1.f}, {0.f, 0.f, 1.f}});
    CHECK(top2.result() == doctest::Approx(0.5));
    top2.reset_state();
    top2.update_state(p, Tensor{2.f, 0.f});
    CHECK(top2.result() == doctest::Approx(1.0));
    CHECK(nn::make_metric("top_k_categorical_accuracy")->name() == "top_k_categorical_accuracy");
    CHECK_THROWS_AS(metrics::TopKCategoricalAccuracy(0), std::invalid_argument);
}

TEST_CASE("mae, mse and rmse over every element") {
    const Tensor p = {1.f, 2.f, 3.f}, t = {1.f, 0.f, 0.f};
    auto mae = nn::make_metric("mae"), mse = nn::make_metric("mse"), rmse = nn::make_metric("rmse");
    for (auto* m : {mae.get(), mse.get(), rmse.get()}) m->update_state(p, t);
    CHECK(mae->result() == doctest::Approx(5.0 / 3));
    CHECK(mse->result() == doctest::Approx(13.0 / 3));
    CHECK(rmse->result() == doctest::Approx(std::sqrt(13.0 / 3)));
    CHECK(nn::make_metric("mean_absolute_error")->name() == "mean_absolute_error");
    CHECK_THROWS_WITH_AS(mae->update_state(p, Tensor{1.f, 2.f}),
                         "mae: the target of shape (2,) does not match the prediction of shape "
                         "(3,)",
                         ShapeError);
}

TEST_CASE("precision and recall at 0.5") {
    // Predicted positive: 0.9 (actual 1), 0.8 (0), 0.6 (1); missed: 0.3 (1), 0.1 (1).
    const Tensor p = {0.9f, 0.8f, 0.3f, 0.6f, 0.1f}, t = {1.f, 0.f, 1.f, 1.f, 1.f};
    metrics::Precision precision;
    metrics::Recall recall;
    precision.update_state(p, t);
    recall.update_state(p, t);
    CHECK(precision.result() == doctest::Approx(2.0 / 3));
    CHECK(recall.result() == doctest::Approx(2.0 / 4));
    precision.reset_state();
    CHECK(precision.result() == 0.0);
}

TEST_CASE("auc: ROC area against a hand-sorted example, across batches, Keras' buckets") {
    // Sorted by score: 0.8 (positive), 0.4 (negative), 0.35 (positive), 0.1 (negative). Of the
    // four (positive, negative) pairs, three rank the positive higher: AUC 3/4. The 200
    // thresholds separate every score, so the trapezoids add up to exactly that.
    metrics::AUC auc;
    auc.update_state(Tensor{0.1f, 0.4f}, Tensor{0.f, 0.f});
    auc.update_state(Tensor{0.35f, 0.8f}, Tensor{1.f, 1.f});
    CHECK(auc.result() == doctest::Approx(0.75));
    auc.reset_state();
    auc.update_state(Tensor{0.1f, 0.4f, 0.35f, 0.8f}, Tensor{0.f, 0.f, 1.f, 1.f});
    CHECK(auc.result() == doctest::Approx(0.75));
    // Perfectly separated, and perfectly reversed.
    auc.reset_state();
    auc.update_state(Tensor{0.2f, 0.9f}, Tensor{0.f, 1.f});
    CHECK(auc.result() == doctest::Approx(1.0));
    auc.reset_state();
    auc.update_state(Tensor{0.9f, 0.2f}, Tensor{0.f, 1.f});
    CHECK(auc.result() == doctest::Approx(0.0));
    // Two scores between the same neighbouring thresholds (60/199 = 0.3015 and 61/199 =
    // 0.3065) cannot be told apart: Keras' interpolation gives 0.5, not 1.
    auc.reset_state();
    auc.update_state(Tensor{0.3020f, 0.3025f}, Tensor{0.f, 1.f});
    CHECK(auc.result() == doctest::Approx(0.5));
    // With 3 thresholds (-eps, 0.5, 1 + eps): scores 0.3 (negative) and 0.7 (positive) give
    // the ROC points (1, 1), (0, 1), (0, 0): area 1.
    metrics::AUC coarse(3);
    coarse.update_state(Tensor{0.3f, 0.7f}, Tensor{0.f, 1.f});
    CHECK(coarse.result() == doctest::Approx(1.0));
    CHECK_THROWS_AS(metrics::AUC(1), std::invalid_argument);
}

TEST_CASE("make_metric: unknown names list the valid ones") {
    CHECK_THROWS_WITH_AS(nn::make_metric("f1"),
                         "unknown metric 'f1'; valid metrics: accuracy, acc, binary_accuracy, "
                         "categorical_accuracy, sparse_categorical_accuracy, "
                         "top_k_categorical_accuracy, mae, mean_absolute_error, mse, "
                         "mean_squared_error, rmse, root_mean_squared_error, precision, recall, "
                         "auc",
                         std::invalid_argument);
    CHECK(nn::MetricSpec("auc").name() == "auc");
    CHECK(nn::MetricSpec(std::make_shared<metrics::Recall>()).name() == "recall");
}
