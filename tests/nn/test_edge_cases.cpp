// Limits and edge cases of training with nn::Trainer on a user data::TensorDataset: tiny
// batches and datasets, and bad input that must give a clear error (or a clean stop) rather
// than a crash or a silent wrong answer.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "xgrad.h"

using namespace xgrad;

namespace {

// n examples of 2 features; label 1 when x0 + x1 > 0 (alternating, so both classes appear).
std::pair<Tensor, IndexTensor> blobs(std::size_t n) {
    Tensor x = Tensor::from_shape({n, 2});
    IndexTensor y = IndexTensor::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        y(i) = static_cast<std::int64_t>(i % 2);
        const float c = y(i) ? 1.f : -1.f;
        x(i, 0) = c + 0.1f * static_cast<float>(i % 3);
        x(i, 1) = c - 0.1f * static_cast<float>(i % 5);
    }
    return {x, y};
}

// n labels of class 0.
IndexTensor no_labels(std::size_t n) {
    IndexTensor y = IndexTensor::from_shape({n});
    y.fill(0);
    return y;
}

std::shared_ptr<data::TensorDataset> dataset(std::size_t n) {
    auto [x, y] = blobs(n);
    return std::make_shared<data::TensorDataset>(x, y, 2);
}

// A 2 -> 4 -> 2 softmax classifier, built so the optimizer gets its parameters.
struct Setup {
    nn::Sequential model;
    std::unique_ptr<nn::Trainer> trainer;
    explicit Setup(std::size_t inputs = 2, const std::string& hidden = "relu") {
        manual_seed(7);
        model.add(nn::Dense(4, hidden));
        model.add(nn::Dense(2, "softmax"));
        model.build({inputs});
        trainer = std::make_unique<nn::Trainer>(
            model, optim::make_optimizer("sgd", model.trainable_parameters(), 0.1),
            "sparse_categorical_crossentropy", std::vector<nn::MetricSpec>{"accuracy"});
    }
};

// Counts the batches fit() runs.
struct BatchCounter : nn::Callback {
    std::size_t batches = 0;
    void on_batch_end(nn::Trainer&, std::size_t, std::size_t, const nn::Logs&) override {
        ++batches;
    }
};

nn::FitOptions quiet(std::size_t epochs, std::size_t batch_size) {
    nn::FitOptions o;
    o.epochs = epochs;
    o.batch_size = batch_size;
    o.verbose = 0;
    return o;
}

// The message of the exception `f` throws (of type E), or "" if it throws none.
template <class E, class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a batch of 1: one step per example, finite losses, every example seen") {
    Setup s;
    auto counter = std::make_shared<BatchCounter>();
    nn::FitOptions o = quiet(3, 1);
    o.callbacks = {counter};
    const nn::History h = s.trainer->fit(dataset(6), o);
    CHECK(counter->batches == 18);
    REQUIRE(h["loss"].size() == 3);
    for (double loss : h["loss"]) CHECK(std::isfinite(loss));
    CHECK(h["loss"].back() < h["loss"].front());  // it does learn, one example at a time
    const nn::Logs logs = s.trainer->evaluate(*dataset(6), 1);
    CHECK(std::isfinite(logs.at("loss")));
    CHECK(s.trainer->predict(blobs(1).first, 1).shape() == std::vector<std::size_t>{1, 2});
}

TEST_CASE("a dataset smaller than one batch trains on one short batch per epoch") {
    Setup s;
    auto counter = std::make_shared<BatchCounter>();
    nn::FitOptions o = quiet(2, 32);
    o.callbacks = {counter};
    const nn::History h = s.trainer->fit(dataset(5), o);
    CHECK(counter->batches == 2);
    REQUIRE(h["accuracy"].size() == 2);
    // Accuracy is averaged over the 5 examples actually seen, not over the batch size.
    const double a = h["accuracy"].back() * 5;
    CHECK(a == doctest::Approx(std::round(a)));
    CHECK(s.trainer->evaluate(*dataset(5), 256).at("accuracy") <= 1.0);
}

TEST_CASE("an empty dataset is a clear error, in fit, evaluate and predict") {
    Setup s;
    auto empty = std::make_shared<data::TensorDataset>(Tensor::from_shape({0, 2}),
                                                       IndexTensor::from_shape({0}), 2);
    CHECK(empty->size() == 0);
    const std::string fit =
        error_of<std::invalid_argument>([&] { s.trainer->fit(empty, quiet(1, 4)); });
    CHECK(fit.find("empty") != std::string::npos);
    CHECK(error_of<std::invalid_argument>([&] { s.trainer->evaluate(*empty); }) ==
          "evaluate: the dataset is empty");
}

TEST_CASE("labels out of range name the value and the number of classes") {
    Tensor x;
    IndexTensor y;
    std::tie(x, y) = blobs(8);
    y(5) = 7;
    SUBCASE("declared to the dataset") {
        CHECK(error_of<std::invalid_argument>([&] { data::TensorDataset(x, y, 2); }) ==
              "TensorDataset: label 7 of example 5 is outside 0..1");
        y(5) = -3;
        CHECK(error_of<std::invalid_argument>([&] { data::TensorDataset(x, y, 2); }) ==
              "TensorDataset: label -3 of example 5 is negative");
    }
    SUBCASE("more classes in the data than the model outputs") {
        Setup s;
        auto d = std::make_shared<data::TensorDataset>(x, y);  // infers 8 classes
        CHECK(d->num_classes() == 8);
        nn::FitOptions o = quiet(1, 8);
        o.shuffle = false;
        const std::string msg = error_of<std::invalid_argument>([&] { s.trainer->fit(d, o); });
        CHECK(msg.find("label 7") != std::string::npos);
        CHECK(msg.find("2 classes") != std::string::npos);
        CHECK(error_of<std::invalid_argument>([&] { s.trainer->evaluate(*d); }).find("label 7") !=
              std::string::npos);
    }
}

TEST_CASE("input of the wrong shape for the first layer names both shapes") {
    Setup s;  // built for 2 features
    auto d = std::make_shared<data::TensorDataset>(Tensor::from_shape({6, 3}), no_labels(6), 2);
    const std::string fit =
        error_of<std::invalid_argument>([&] { s.trainer->fit(d, quiet(1, 4)); });
    CAPTURE(fit);
    CHECK(fit == "sequential: expected input shape (None, 2), got (4, 3)");
    const std::string predict = error_of<std::invalid_argument>([&] {
        s.trainer->predict(Tensor::from_shape({6, 3}));
    });
    CAPTURE(predict);
    CHECK(predict == "sequential: expected input shape (None, 2), got (6, 3)");

    SUBCASE("a declared input shape (Flatten(input_shape=(4, 4)))") {
        manual_seed(1);
        nn::Sequential model;
        model.add(nn::Flatten({4, 4}));
        model.add(nn::Dense(2, "softmax"));
        nn::Trainer t(model, optim::make_optimizer("adam", model.trainable_parameters()),
                      "sparse_categorical_crossentropy", std::vector<nn::MetricSpec>{"accuracy"});
        auto wrong =
            std::make_shared<data::TensorDataset>(Tensor::from_shape({3, 16}), no_labels(3), 2);
        const std::string msg = error_of<std::invalid_argument>([&] { t.fit(wrong, quiet(1, 2)); });
        CAPTURE(msg);
        CHECK(msg == "sequential: expected input shape (None, 4, 4), got (2, 16)");
    }
}

TEST_CASE("NaN in the input stops training via TerminateOnNaN, naming epoch and batch") {
    // tanh carries the NaN on to the loss. (relu, as written in ops/activation.cpp, maps NaN to
    // 0, so a NaN input behind a relu layer goes unnoticed.)
    Setup s(2, "tanh");
    auto [x, y] = blobs(12);
    x(9, 1) = std::numeric_limits<float>::quiet_NaN();  // example 9: the third batch of 4
    auto d = std::make_shared<data::TensorDataset>(x, y, 2);
    std::ostringstream out;
    auto nan = std::make_shared<nn::TerminateOnNaN>(out);
    auto counter = std::make_shared<BatchCounter>();
    nn::FitOptions o = quiet(5, 4);
    o.shuffle = false;
    o.callbacks = {nan, counter};
    const nn::History h = s.trainer->fit(d, o);
    CHECK(nan->terminated());
    CHECK(nan->message() == "the loss became nan at epoch 1, batch 3; training stopped");
    CHECK(out.str().find(nan->message()) != std::string::npos);
    CHECK(counter->batches == 3);  // nothing ran after the bad batch
    CHECK(h.size() <= 1);
}
