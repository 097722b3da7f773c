#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "xgrad.h"

using namespace xgrad;

namespace {

// Two separable classes in 2-D: label 1 when x0 + x1 > 0.
std::shared_ptr<data::TensorDataset> blobs(std::size_t n, std::uint64_t seed) {
    Rng rng(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    Tensor x = Tensor::from_shape({n, 2});
    IndexTensor y = IndexTensor::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t label = std::int64_t(i % 2);
        const float centre = label ? 1.5f : -1.5f;
        x(i, 0) = centre + 0.5f * normal(rng);
        x(i, 1) = centre + 0.5f * normal(rng);
        y(i) = label;
    }
    return std::make_shared<data::TensorDataset>(x, y, 2);
}

void add_classifier(nn::Sequential& model) {
    model.add(nn::Dense(8, "relu"));
    model.add(nn::Dense(2, "softmax"));
    model.build({2});  // parameters exist before the optimizer takes them
}

nn::FitOptions quiet(std::size_t epochs, std::size_t batch = 16) {
    nn::FitOptions o;
    o.epochs = epochs;
    o.batch_size = batch;
    o.verbose = 0;
    return o;
}

}  // namespace

TEST_CASE("fit drives the training loss of a separable problem to near zero") {
    manual_seed(1);
    nn::Sequential model;
    add_classifier(model);
    nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters(), 0.05),
                        "sparse_categorical_crossentropy");
    CHECK(trainer.fuses_softmax());
    auto data = blobs(64, 3);
    nn::History h = trainer.fit(data, quiet(60));
    CHECK(h.size() == 60);
    CHECK(h["loss"].size() == 60);
    CHECK(h["accuracy"].size() == 60);
    CHECK(h.seconds.size() == 60);
    CHECK(h["loss"].back() < 0.02);
    CHECK(h["accuracy"].back() == 1.0);
    const nn::Logs result = trainer.evaluate(*data);
    CHECK(result.at("loss") < 0.02);
    CHECK(result.at("accuracy") == 1.0);
}

TEST_CASE("evaluate and predict: shapes and probabilities") {
    manual_seed(2);
    nn::Sequential model;
    add_classifier(model);
    nn::Trainer trainer(model, optim::make_optimizer("sgd", model.trainable_parameters()),
                        "sparse_categorical_crossentropy");
    auto data = blobs(10, 4);
    trainer.fit(data, quiet(1));
    const Tensor p = trainer.predict(*data, 3);  // batches of 3, last one partial
    CHECK(p.shape() == std::vector<std::size_t>{10, 2});
    for (std::size_t i = 0; i < 10; ++i) CHECK(p(i, 0) + p(i, 1) == doctest::Approx(1.0));
    const Tensor q = trainer.predict(data->inputs(), 4);
    CHECK(q == p);
    CHECK_THROWS_WITH_AS(trainer.predict(*data, 0), "predict: batch_size must be at least 1",
                         std::invalid_argument);
    CHECK_THROWS_AS(trainer.evaluate(*data, 0), std::invalid_argument);
    CHECK_THROWS_AS(trainer.predict(Tensor::from_shape({0, 2})), std::invalid_argument);
    const nn::Logs logs = trainer.evaluate(*data, 4);
    CHECK(logs.count("loss") == 1);
    CHECK(logs.at("accuracy") >= 0.0);
    CHECK(logs.at("accuracy") <= 1.0);
}

TEST_CASE("the same seed gives the same numbers") {
    auto run = [] {
        manual_seed(7);
        nn::Sequential model;
        add_classifier(model);
        nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
                            "sparse_categorical_crossentropy");
        auto opts = quiet(3, 8);
        opts.seed = 5;
        return trainer.fit(blobs(40, 9), opts);
    };
    const nn::History a = run(), b = run();
    CHECK(a["loss"] == b["loss"]);
    CHECK(a["accuracy"] == b["accuracy"]);
}

TEST_CASE("softmax as a separate Activation layer is fused too; logits losses are not") {
    nn::Sequential model;
    model.add(nn::Dense(2));
    model.add(nn::Activation("softmax"));
    model.build({2});
    nn::Trainer fused(model, optim::make_optimizer("sgd", model.trainable_parameters()),
                      "categorical_crossentropy");
    CHECK(fused.fuses_softmax());
    nn::Sequential logits;
    logits.add(nn::Dense(2));
    logits.build({2});
    nn::Trainer plain(logits, optim::make_optimizer("sgd", logits.trainable_parameters()),
                      "cross_entropy");
    CHECK_FALSE(plain.fuses_softmax());
    plain.fit(blobs(8, 1), quiet(1));
}

TEST_CASE("fused training stays finite where softmax saturates") {
    manual_seed(3);
    nn::Sequential model;
    add_classifier(model);
    nn::Trainer trainer(model, optim::make_optimizer("sgd", model.trainable_parameters()),
                        "sparse_categorical_crossentropy");
    auto data = blobs(16, 2);
    Tensor big = data->inputs() * 1e4f;  // logits of order 1e4
    auto extreme = std::make_shared<data::TensorDataset>(big, data->labels(), 2);
    nn::History h = trainer.fit(extreme, quiet(2));
    CHECK(std::isfinite(h["loss"].back()));
}

TEST_CASE("validation split and validation data add val_ metrics") {
    manual_seed(4);
    nn::Sequential model;
    add_classifier(model);
    nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
                        "sparse_categorical_crossentropy");
    auto opts = quiet(2);
    opts.validation_split = 0.25;
    nn::History h = trainer.fit(blobs(40, 5), opts);
    CHECK(h["val_loss"].size() == 2);
    CHECK(h["val_accuracy"].size() == 2);
    opts.validation_split = 0;
    opts.validation_data = blobs(12, 6);
    CHECK(trainer.fit(blobs(40, 5), opts)["val_loss"].size() == 2);
    opts.validation_split = 1.5;
    CHECK_THROWS_AS(trainer.fit(blobs(40, 5), opts), std::invalid_argument);
}

TEST_CASE("progress output when not on a terminal: one line per epoch") {
    manual_seed(5);
    nn::Sequential model;
    add_classifier(model);
    nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
                        "sparse_categorical_crossentropy");
    std::ostringstream out;
    auto opts = quiet(2, 10);
    opts.verbose = 1;
    opts.out = &out;
    opts.validation_data = blobs(10, 1);
    trainer.fit(blobs(30, 2), opts);
    const std::string s = out.str();
    CHECK(s.find('\r') == std::string::npos);
    CHECK(s.find("Epoch 1/2\n3/3 [==============================] - ") != std::string::npos);
    CHECK(s.find("Epoch 2/2\n3/3 [") != std::string::npos);
    CHECK(s.find(" - val_loss: ") != std::string::npos);
    CHECK(std::count(s.begin(), s.end(), '\n') == 4);
}

TEST_CASE("unknown loss and metric names are errors that list the valid ones") {
    nn::Sequential model;
    add_classifier(model);
    CHECK_THROWS_WITH_AS(
        nn::Trainer(model, optim::make_optimizer("sgd", model.trainable_parameters()), "mse2"),
        "Trainer: unknown loss 'mse2'; valid losses: sparse_categorical_crossentropy, "
        "categorical_crossentropy, cross_entropy",
        std::invalid_argument);
    CHECK_THROWS_AS(nn::Trainer(model, optim::make_optimizer("sgd", model.trainable_parameters()),
                                "cross_entropy", {"f1"}),
                    std::invalid_argument);
}

namespace {

// FNV-1a over the bytes of every parameter, in the state dict's (name) order.
std::uint64_t weights_checksum(const nn::Module& model) {
    std::uint64_t h = 1469598103934665603ull;
    for (const auto& [name, value] : model.state_dict()) {
        const auto* bytes = reinterpret_cast<const unsigned char*>(value.data());
        for (std::size_t i = 0; i < value.size() * sizeof(float); ++i) {
            h = (h ^ bytes[i]) * 1099511628211ull;
        }
    }
    return h;
}

}  // namespace

TEST_CASE("the seed MLP trains to the same weights as before the Trainer took any model") {
    // 320 deterministic 28x28 "images" in 10 classes; the seed model, Adam, batch 32, one
    // shuffled epoch. The checksum was recorded from the Trainer that took only a Sequential
    // (commit 1b6bf37): changing how the Trainer runs a model must not change one bit.
    const std::size_t n = 320;
    Tensor x = Tensor::from_shape({n, 28, 28});
    IndexTensor y = IndexTensor::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        y(i) = std::int64_t(i % 10);
        for (std::size_t j = 0; j < 784; ++j) {
            x.data()[i * 784 + j] = float((i * 7919 + j * 104729 + std::size_t(y(i)) * j) % 256) /
                                    255.f;
        }
    }
    auto data = std::make_shared<data::TensorDataset>(x, y, 10);
    manual_seed(42);
    nn::Sequential model;
    model.add(nn::Flatten({28, 28}));
    model.add(nn::Dense(100, "relu"));
    model.add(nn::Dense(10, "softmax"));
    nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
                        "sparse_categorical_crossentropy", {"accuracy"});
    auto opts = quiet(1, 32);
    opts.seed = 5;
    trainer.fit(data, opts);
    MESSAGE("seed MLP checksum " << weights_checksum(model));
    CHECK(weights_checksum(model) == 6130400653154504870ull);
}
