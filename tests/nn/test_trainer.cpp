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
                        "sparse_categorical_crossentropy", {"accuracy"});
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
                        "sparse_categorical_crossentropy", {"accuracy"});
    auto data = blobs(10, 4);
    trainer.fit(data, quiet(1));
    const Tensor p = trainer.predict(*data, 3);  // batches of 3, last one partial
    CHECK(p.shape() == std::vector<std::size_t>{10, 2});
    for (std::size_t i = 0; i < 10; ++i) CHECK(p(i, 0) + p(i, 1) == doctest::Approx(1.0));
    const Tensor q = trainer.predict(data->inputs()[0], 4);
    CHECK(q == p);
    CHECK_THROWS_WITH_AS(trainer.predict(*data, 0), "predict: batch_size must be at least 1",
                         std::invalid_argument);
    CHECK_THROWS_AS(trainer.evaluate(*data, 0), std::invalid_argument);
    CHECK_THROWS_AS(trainer.predict(Tensor::from_shape({0, 2})), std::invalid_argument);
    // evaluate's figures, worked out again from predict's probabilities.
    const nn::Logs logs = trainer.evaluate(*data, 4);
    const Tensor& labels = data->targets()[0];
    double correct = 0, nll = 0;
    for (std::size_t i = 0; i < 10; ++i) {
        const auto y = static_cast<std::size_t>(labels(i));
        correct += p(i, y) > p(i, 1 - y) ? 1 : 0;
        nll -= std::log(double(p(i, y)));
    }
    CHECK(logs.at("accuracy") == doctest::Approx(correct / 10));
    CHECK(logs.at("loss") == doctest::Approx(nll / 10).epsilon(1e-4));
}

TEST_CASE("the same seed gives the same numbers") {
    auto run = [] {
        manual_seed(7);
        nn::Sequential model;
        add_classifier(model);
        nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
                            "sparse_categorical_crossentropy", {"accuracy"});
        auto opts = quiet(3, 8);
        opts.seed = 5;
        return trainer.fit(blobs(40, 9), opts);
    };
    const nn::History a = run(), b = run();
    CHECK(a["loss"] == b["loss"]);
    CHECK(a["accuracy"] == b["accuracy"]);
}

TEST_CASE("softmax as a separate Activation layer is fused too; logits losses are not") {
    // Logits of order 1e3: an unfused log(softmax) would clip at log(1e-7).
    nn::Sequential model;
    model.add(nn::Dense(2));
    model.add(nn::Activation("softmax"));
    model.build({2});
    auto k = std::static_pointer_cast<nn::Dense>(model.layers()[0])->kernel();
    k.mutable_value() = Tensor{{1000.f, -1000.f}, {0.f, 0.f}};
    nn::Trainer fused(model, optim::make_optimizer("sgd", model.trainable_parameters()),
                      "sparse_categorical_crossentropy");
    Tensor x = {{1.f, 0.f}, {-1.f, 0.f}};
    auto data = std::make_shared<data::TensorDataset>(x, Tensor{1.f, 1.f});
    // Example 0 has logits (1000, -1000) against label 1: a loss of 2000; example 1: 0.
    CHECK(fused.evaluate(*data).at("loss") == doctest::Approx(1000.0));
    nn::Sequential logits;
    logits.add(nn::Dense(2));
    logits.build({2});
    std::static_pointer_cast<nn::Dense>(logits.layers()[0])->kernel().mutable_value() = k.value();
    nn::Trainer plain(logits, optim::make_optimizer("sgd", logits.trainable_parameters()),
                      "cross_entropy");
    CHECK(plain.evaluate(*data).at("loss") == doctest::Approx(1000.0));
    plain.fit(blobs(8, 1), quiet(1));
}

TEST_CASE("fused training stays finite where softmax saturates") {
    manual_seed(3);
    nn::Sequential model;
    add_classifier(model);
    nn::Trainer trainer(model, optim::make_optimizer("sgd", model.trainable_parameters()),
                        "sparse_categorical_crossentropy");
    auto data = blobs(16, 2);
    Tensor big = data->inputs()[0] * 1e4f;  // logits of order 1e4
    auto extreme = std::make_shared<data::TensorDataset>(big, data->targets()[0]);
    nn::History h = trainer.fit(extreme, quiet(2));
    CHECK(std::isfinite(h["loss"].back()));
}

TEST_CASE("validation split and validation data add val_ metrics") {
    manual_seed(4);
    nn::Sequential model;
    add_classifier(model);
    nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
                        "sparse_categorical_crossentropy", {"accuracy"});
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
        "unknown loss 'mse2'; valid losses: mse, mean_squared_error, mae, mean_absolute_error, "
        "huber, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, "
        "cross_entropy, kl_divergence",
        std::invalid_argument);
    CHECK_THROWS_AS(nn::Trainer(model, optim::make_optimizer("sgd", model.trainable_parameters()),
                                "cross_entropy", {"f1"}),
                    std::invalid_argument);
}

// The sanitizer builds: GCC defines __SANITIZE_*__, clang answers __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define XGRAD_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define XGRAD_TEST_SANITIZED 1
#endif
#endif

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
    // shuffled epoch.
    const std::size_t n = 320;
    Tensor x = Tensor::from_shape({n, 28, 28});
    IndexTensor y = IndexTensor::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        y(i) = std::int64_t(i % 10);
        for (std::size_t j = 0; j < 784; ++j) {
            x.data()[i * 784 + j] =
                float((i * 7919 + j * 104729 + std::size_t(y(i)) * j) % 256) / 255.f;
        }
    }
    auto data = std::make_shared<data::TensorDataset>(x, y, 10);
    auto seed_model = [](nn::Sequential& model) {
        manual_seed(42);
        model.add(nn::Flatten({28, 28}));
        model.add(nn::Dense(100, "relu"));
        model.add(nn::Dense(10, "softmax"));
    };
    nn::Sequential model;
    seed_model(model);
    nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
                        "sparse_categorical_crossentropy", {"accuracy"});
    auto opts = quiet(1, 32);
    opts.seed = 5;
    trainer.fit(data, opts);

    // The old Trainer's steps, written out: the layers up to the last Dense's x W + b, then
    // cross_entropy from those logits and integer labels.
    nn::Sequential old;
    seed_model(old);
    auto adam = optim::make_optimizer("adam", old.trainable_parameters());
    data::DataLoader loader(data, {.batch_size = 32, .shuffle = true, .seed = 5});
    loader.set_epoch(0);
    data::Batch batch;
    while (loader.next(batch)) {
        const Variable h = (*old.layers()[1])((*old.layers()[0])(Variable(batch.input())));
        const Variable logits = static_cast<nn::Dense&>(*old.layers()[2]).forward_linear(h);
        IndexTensor labels = IndexTensor::from_shape({batch.size()});
        for (std::size_t i = 0; i < batch.size(); ++i) labels(i) = std::int64_t(batch.target()(i));
        Variable loss = cross_entropy(logits, labels);
        adam->zero_grad();
        loss.backward();
        adam->step();
    }
    CHECK(weights_checksum(model) == weights_checksum(old));
#if defined(NDEBUG) && !defined(XGRAD_TEST_SANITIZED)
    // The release build's checksum, recorded from the Trainer that took only a Sequential
    // (commit 1b6bf37). The sanitizer builds (-O1) round differently.
    CHECK(weights_checksum(model) == 6130400653154504870ull);
#endif
}

namespace {

// A subclassed model: children built by the first call (or by build()).
class Mlp : public nn::Module {
  public:
    explicit Mlp(std::size_t out_units = 1, const std::string& out_activation = "linear")
        : out(std::make_shared<nn::Dense>(out_units, out_activation)) {
        register_module(hidden);
        register_module(out);
    }
    std::string type_name() const override { return "Mlp"; }
    Variable forward(const Variable& x) override { return (*out)((*hidden)(x)); }
    std::shared_ptr<nn::Dense> hidden = std::make_shared<nn::Dense>(8, "tanh");
    std::shared_ptr<nn::Dense> out;
};

// One input, two outputs (two heads on a shared hidden layer).
class TwoHeads : public nn::Module {
  public:
    TwoHeads() {
        register_module(hidden);
        register_module(a);
        register_module(b);
    }
    std::string type_name() const override { return "TwoHeads"; }
    using Module::forward;
    std::vector<Variable> forward(const std::vector<Variable>& in) override {
        const Variable h = (*hidden)(in.at(0));
        return {(*a)(h), (*b)(h)};
    }
    std::shared_ptr<nn::Dense> hidden = std::make_shared<nn::Dense>(8, "tanh");
    std::shared_ptr<nn::Dense> a = std::make_shared<nn::Dense>(1);
    std::shared_ptr<nn::Dense> b = std::make_shared<nn::Dense>(1);
};

// A Dense subclass with its own forward(), which training must run.
class CountingDense : public nn::Dense {
  public:
    using nn::Dense::Dense;
    using nn::Dense::forward;
    Variable forward(const Variable& x) override {
        ++calls;
        return nn::Dense::forward(x);
    }
    int calls = 0;
};

// A user's metric: the largest prediction seen.
class MaxPrediction : public nn::Metric {
  public:
    std::string name() const override { return "max_prediction"; }
    void update_state(const Tensor& prediction, const Tensor&) override {
        for (float p : prediction) best = std::max(best, double(p));
    }
    double result() const override { return best; }
    void reset_state() override { best = -1e30; }
    double best = -1e30;
};

// y = 2 x0 - x1 + 0.5, a regression.
std::shared_ptr<data::TensorDataset> plane(std::size_t n) {
    Rng rng(11);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    Tensor x = Tensor::from_shape({n, 2}), y = Tensor::from_shape({n, 1});
    for (std::size_t i = 0; i < n; ++i) {
        x(i, 0) = u(rng);
        x(i, 1) = u(rng);
        y(i, 0) = 2 * x(i, 0) - x(i, 1) + 0.5f;
    }
    return std::make_shared<data::TensorDataset>(x, y);
}

}  // namespace

TEST_CASE("a subclassed model trained by the Trainer equals the same steps written by hand") {
    auto data = plane(12);
    manual_seed(21);
    Mlp by_trainer;
    by_trainer.build({2});
    nn::Trainer trainer(
        by_trainer, optim::make_optimizer("sgd", by_trainer.trainable_parameters(), 0.1), "mse");
    auto opts = quiet(2, 4);
    opts.shuffle = false;
    trainer.fit(data, opts);

    manual_seed(21);
    Mlp by_hand;
    by_hand.build({2});
    auto opt = optim::make_optimizer("sgd", by_hand.trainable_parameters(), 0.1);
    for (int epoch = 0; epoch < 2; ++epoch) {
        for (std::size_t start = 0; start < 12; start += 4) {
            data::Batch b;
            data->get_batch({start, start + 1, start + 2, start + 3}, b);
            Variable loss =
                nn::losses::mean_squared_error(by_hand(Variable(b.input())), Variable(b.target()));
            opt->zero_grad();
            loss.backward();
            opt->step();
        }
    }
    CHECK(by_trainer.state_dict() == by_hand.state_dict());
    CHECK(by_trainer.count_params() == 2 * 8 + 8 + 8 + 1);
}

TEST_CASE("regression: mse on float targets fits a plane; mae and rmse are logged") {
    manual_seed(5);
    Mlp model;
    model.build({2});
    nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters(), 0.02),
                        "mse", {"mae", "rmse"});
    nn::History h = trainer.fit(plane(256), quiet(60, 32));
    CHECK(h["loss"].back() < 0.01);
    const nn::Logs test = trainer.evaluate(*plane(64));
    CHECK(test.at("mae") < 0.1);
    CHECK(test.at("rmse") == doctest::Approx(std::sqrt(test.at("loss"))).epsilon(1e-4));
    const Tensor p = trainer.predict(*plane(4));
    CHECK(p.shape() == std::vector<std::size_t>{4, 1});
}

TEST_CASE("multi-label: sigmoid outputs, binary_crossentropy, accuracy means binary accuracy") {
    Rng rng(3);
    std::normal_distribution<float> normal(0.f, 1.f);
    const std::size_t n = 256;
    Tensor x = Tensor::from_shape({n, 2}), y = Tensor::from_shape({n, 3});
    for (std::size_t i = 0; i < n; ++i) {
        x(i, 0) = normal(rng);
        x(i, 1) = normal(rng);
        y(i, 0) = x(i, 0) > 0;
        y(i, 1) = x(i, 1) > 0;
        y(i, 2) = x(i, 0) + x(i, 1) > 0;
    }
    auto data = std::make_shared<data::TensorDataset>(x, y);
    manual_seed(6);
    Mlp model(3, "sigmoid");
    model.build({2});
    nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters(), 0.05),
                        "binary_crossentropy", {"accuracy", "auc"});
    nn::History h = trainer.fit(data, quiet(40, 32));
    CHECK(h["accuracy"].back() > 0.95);
    CHECK(h["auc"].back() > 0.98);
    CHECK(h["loss"].back() < 0.15);
}

TEST_CASE("several outputs: one loss on each, summed; per-output logs; predict_outputs") {
    auto data1 = plane(32);
    Tensor y2 = data1->targets()[0] * -1.f;
    auto data = std::make_shared<data::TensorDataset>(std::vector<Tensor>{data1->inputs()[0]},
                                                      std::vector<Tensor>{data1->targets()[0], y2});
    manual_seed(8);
    TwoHeads model;
    model.build({2});
    nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters(), 0.01),
                        "mse", {"mae"});
    trainer.fit(data, quiet(2, 8));
    const nn::Logs logs = trainer.evaluate(*data, 5);
    CHECK(logs.at("loss") == doctest::Approx(logs.at("output_1_loss") + logs.at("output_2_loss")));
    CHECK(logs.count("output_1_mae") == 1);
    CHECK(logs.count("output_2_mae") == 1);
    const auto outs = trainer.predict_outputs(*data, 7);
    REQUIRE(outs.size() == 2);
    CHECK(outs[1].shape() == std::vector<std::size_t>{32, 1});
    CHECK_THROWS_WITH_AS(trainer.predict(*data),
                         "predict: model 'two_heads' has 2 outputs; use predict_outputs()",
                         std::invalid_argument);
    // One target for two outputs.
    CHECK_THROWS_WITH_AS(trainer.evaluate(*data1),
                         "Trainer: the dataset gives 1 target(s) per example but model "
                         "'two_heads' has 2 output(s)",
                         std::invalid_argument);
}

TEST_CASE("epoch figures are exact, whatever the batch size; a user metric; val_ names") {
    manual_seed(9);
    nn::Sequential model;
    model.add(nn::Dense(1, "sigmoid"));
    model.build({2});
    auto mine = std::make_shared<MaxPrediction>();
    nn::Trainer trainer(model, optim::make_optimizer("sgd", model.trainable_parameters()),
                        "binary_crossentropy", {"accuracy", "auc", "precision", mine});
    auto data = blobs(13, 2);  // labels 0/1 as float targets (13,) against outputs (13, 1)
    const nn::Logs whole = trainer.evaluate(*data, 13);
    const nn::Logs batched = trainer.evaluate(*data, 4);  // 4 + 4 + 4 + 1
    for (const char* name : {"loss", "accuracy", "auc", "precision", "max_prediction"}) {
        CAPTURE(name);
        CHECK(batched.at(name) == doctest::Approx(whole.at(name)).epsilon(1e-6));
    }
    auto opts = quiet(2, 4);
    opts.validation_data = blobs(6, 7);
    nn::History h = trainer.fit(data, opts);
    for (const char* name : {"auc", "val_auc", "val_precision", "max_prediction",
                             "val_max_prediction", "val_accuracy"}) {
        CAPTURE(name);
        CHECK(h[name].size() == 2);
    }
}

TEST_CASE("trap: parameters the optimizer does not hold are an error at fit, not silence") {
    nn::Sequential model;
    model.add(nn::Dense(4, "relu"));
    model.build({2});
    auto opt = optim::make_optimizer("adam", model.trainable_parameters());
    model.add(nn::Dense(2, "softmax"));  // added after the optimizer took its list
    CHECK_THROWS_WITH_AS(nn::Trainer(model, std::move(opt), "sparse_categorical_crossentropy"),
                         "Trainer: the optimizer does not hold 2 trainable parameter(s) of model "
                         "'sequential' (dense_1/kernel, dense_1/bias), which would never train; "
                         "build the model first (model.build(input_shape)), then make the "
                         "optimizer from model.trainable_parameters()",
                         std::invalid_argument);
}

TEST_CASE("trap: an optimizer made from an unbuilt model says to build it") {
    Mlp model;
    CHECK_THROWS_WITH_AS(optim::make_optimizer("adam", model.trainable_parameters()),
                         "optimizer: the parameter list is empty; a model has no parameters "
                         "until it is built: call model.build(input_shape) before "
                         "model.trainable_parameters()",
                         std::invalid_argument);
    // Half built: one child built by hand, the other not; the Trainer names what is missing.
    Mlp half;
    half.hidden->build({2});
    nn::Trainer trainer(half, optim::make_optimizer("sgd", half.trainable_parameters()), "mse");
    CHECK_THROWS_WITH_AS(trainer.fit(plane(8), quiet(1)),
                         "Trainer: the optimizer does not hold 2 trainable parameter(s) of model "
                         "'mlp' (dense_1/kernel, dense_1/bias), which would never train; build "
                         "the model first (model.build(input_shape)), then make the optimizer "
                         "from model.trainable_parameters()",
                         std::invalid_argument);
}

TEST_CASE("trap: evaluate and predict restore training mode when an exception passes") {
    nn::Sequential model;
    add_classifier(model);
    nn::Trainer trainer(model, optim::make_optimizer("sgd", model.trainable_parameters()),
                        "categorical_crossentropy");
    CHECK(model.is_training());
    // Class labels given to categorical_crossentropy, which wants one-hot rows.
    CHECK_THROWS_AS(trainer.evaluate(*blobs(4, 1)), ShapeError);
    CHECK(model.is_training());
    CHECK_THROWS_AS(trainer.predict(Tensor::from_shape({3, 5})), ShapeError);
    CHECK(model.is_training());
}

TEST_CASE("trap: categorical_crossentropy takes one-hot targets; class labels are an error") {
    nn::Sequential model;
    add_classifier(model);
    nn::Trainer trainer(model, optim::make_optimizer("sgd", model.trainable_parameters()),
                        "categorical_crossentropy");
    CHECK_THROWS_WITH_AS(trainer.fit(blobs(8, 1), quiet(1)),
                         "categorical_crossentropy: the target of shape (8,) does not match the "
                         "prediction of shape (8, 2); these look like class labels: use "
                         "sparse_categorical_crossentropy (or one-hot targets)",
                         ShapeError);
    // One-hot rows of the same examples train.
    auto labels = blobs(8, 1);
    Tensor one_hot = Tensor::from_shape({8, 2});
    for (std::size_t i = 0; i < 8; ++i) {
        one_hot(i, 0) = labels->targets()[0](i) == 0.f;
        one_hot(i, 1) = labels->targets()[0](i) == 1.f;
    }
    auto data = std::make_shared<data::TensorDataset>(labels->inputs()[0], one_hot);
    CHECK(std::isfinite(trainer.fit(data, quiet(1))["loss"].back()));
}

TEST_CASE("trap: the softmax fusion runs a Dense subclass's own forward()") {
    manual_seed(4);
    nn::Sequential model;
    auto head = std::make_shared<CountingDense>(2, "softmax");
    model.add(nn::Dense(8, "relu"));
    model.add(head);
    model.build({2});
    nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters(), 0.05),
                        "sparse_categorical_crossentropy", {"accuracy"});
    head->calls = 0;
    nn::History h = trainer.fit(blobs(64, 3), quiet(20));
    CHECK(head->calls == 20 * 4);
    CHECK(h["accuracy"].back() == 1.0);
}

TEST_CASE("Trainer: per-output losses, weights and metrics by output name") {
    manual_seed(6);
    auto x = nn::Input({3}, "x");
    auto h = nn::Dense(8, "relu")(x);
    auto cls = std::make_shared<nn::Dense>(3, "softmax");
    cls->set_name("class");
    auto value = std::make_shared<nn::Dense>(1);
    value->set_name("value");
    nn::Model model({x}, {(*cls)(h), (*value)(h)}, "two");
    Tensor inputs = xt::linspace<float>(-1.f, 1.f, 48);
    inputs.reshape({16, 3});
    Tensor classes = Tensor::from_shape({16});
    Tensor targets = Tensor::from_shape({16, 1});
    for (std::size_t i = 0; i < 16; ++i) {
        classes(i) = float(i % 3);
        targets(i, 0) = float(i) / 16.f;
    }
    auto data = std::make_shared<data::TensorDataset>(std::vector<Tensor>{inputs},
                                                      std::vector<Tensor>{classes, targets});
    nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
                        {{"class", "sparse_categorical_crossentropy"}, {"value", "mse"}},
                        {{"class", {"accuracy"}}, {"value", {"mae"}}},
                        {{"class", 1.0}, {"value", 0.25}});
    nn::FitOptions fit;
    fit.epochs = 2;
    fit.batch_size = 4;
    fit.validation_data = data;
    fit.verbose = 0;
    nn::History history = trainer.fit(data, fit);
    for (const char* name :
         {"loss", "class_loss", "value_loss", "class_accuracy", "value_mae", "val_loss",
          "val_class_loss", "val_value_loss", "val_class_accuracy", "val_value_mae"}) {
        CAPTURE(name);
        CHECK(history[name].size() == 2);
    }
    CHECK(history.metrics.size() == 10);
    const nn::Logs logs = trainer.evaluate(*data);
    CHECK(logs.at("loss") ==
          doctest::Approx(logs.at("class_loss") + 0.25 * logs.at("value_loss")).epsilon(1e-5));
    CHECK_FALSE(logs.count("output_1_loss"));

    CHECK_THROWS_WITH_AS(
        nn::Trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
                    {{"class", "mse"}, {"kind", "mse"}}),
        "Trainer: a loss for 'kind', which is not an output of model 'two' (outputs: class, "
        "value)",
        std::invalid_argument);
    CHECK_THROWS_WITH_AS(
        nn::Trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
                    {{"class", "mse"}}),  // one entry: a map, not a std::string
        "Trainer: output 'value' of model 'two' has no loss (outputs: class, value)",
        std::invalid_argument);
}
