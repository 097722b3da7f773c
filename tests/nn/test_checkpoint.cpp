#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "xgrad.h"

using namespace xgrad;
namespace fs = std::filesystem;

namespace {

fs::path temp_file(const std::string& name) {
    const char* env = std::getenv("XGRAD_TEST_TMP");
    fs::path dir = fs::path(env ? env : "/tmp") / "checkpoint";
    fs::create_directories(dir);
    return dir / name;
}

std::shared_ptr<data::TensorDataset> noisy_data() {
    Rng rng(11);
    std::normal_distribution<float> normal(0.f, 1.f);
    Tensor x = Tensor::from_shape({48, 4});
    IndexTensor y = IndexTensor::from_shape({48});
    for (std::size_t i = 0; i < 48; ++i) {
        for (std::size_t j = 0; j < 4; ++j) x(i, j) = normal(rng);
        y(i) = std::int64_t(i % 3);
    }
    return std::make_shared<data::TensorDataset>(x, y, 3);
}

// A model with dropout, so the random generator's state matters too.
struct Run {
    nn::Sequential model;
    std::unique_ptr<nn::Trainer> trainer;
    Run() {
        manual_seed(3);
        model.add(nn::Dense(16, "relu"));
        model.add(nn::Dropout(0.3));
        model.add(nn::Dense(3, "softmax"));
        model.build({4});
        trainer = std::make_unique<nn::Trainer>(
            model, optim::make_optimizer("adam", model.trainable_parameters()),
            "sparse_categorical_crossentropy", std::vector<nn::MetricSpec>{"accuracy"});
    }
    nn::History fit(std::size_t from, std::size_t to,
                    std::vector<std::shared_ptr<nn::Callback>> cbs) {
        nn::FitOptions o;
        o.epochs = to;
        o.initial_epoch = from;
        o.batch_size = 8;
        o.seed = 5;
        o.verbose = 0;
        o.validation_data = noisy_data();
        o.callbacks = std::move(cbs);
        return trainer->fit(noisy_data(), o);
    }
};

}  // namespace

TEST_CASE("2 epochs, then resume to 4, equals 4 epochs in one go, bit for bit") {
    Run straight;
    straight.fit(0, 4, {});

    const fs::path path = temp_file("resume.safetensors");
    {
        Run first;
        first.fit(0, 2, {std::make_shared<nn::TrainingCheckpoint>(path.string())});
        // Disturb the global generator, as a new process would start from another state.
        manual_seed(999);
    }
    Run second;  // a fresh model and optimizer, as after a restart
    nn::History previous = nn::load_training_checkpoint(path.string(), *second.trainer);
    CHECK(previous.size() == 2);
    auto checkpoint = std::make_shared<nn::TrainingCheckpoint>(path.string(), previous);
    second.fit(previous.size(), 4, {checkpoint});

    CHECK(second.model.state_dict() == straight.model.state_dict());
    CHECK(second.trainer->optimizer().state_dict() == straight.trainer->optimizer().state_dict());

    Run reference;
    const nn::History full = reference.fit(0, 4, {});
    const nn::History& resumed = checkpoint->history();
    CHECK(resumed.size() == 4);
    CHECK(resumed["loss"] == full["loss"]);
    CHECK(resumed["accuracy"] == full["accuracy"]);
    CHECK(resumed["val_loss"] == full["val_loss"]);
    CHECK(second.trainer->evaluate(*noisy_data()) == reference.trainer->evaluate(*noisy_data()));
}

TEST_CASE("resuming with another optimizer or from a model file is a clear error") {
    const fs::path path = temp_file("adam.safetensors");
    Run run;
    run.fit(0, 1, {std::make_shared<nn::TrainingCheckpoint>(path.string())});

    nn::Sequential model;
    model.add(nn::Dense(16, "relu"));
    model.add(nn::Dropout(0.3));
    model.add(nn::Dense(3, "softmax"));
    model.build({4});
    nn::Trainer sgd(model, optim::make_optimizer("sgd", model.trainable_parameters()),
                    "sparse_categorical_crossentropy", std::vector<nn::MetricSpec>{"accuracy"});
    CHECK_THROWS_WITH_AS(nn::load_training_checkpoint(path.string(), sgd),
                         doctest::Contains("it was saved with optimizer 'adam', not 'sgd'"),
                         std::runtime_error);

    const fs::path model_file = temp_file("model.safetensors");
    nn::save_model(run.model, model_file.string());
    CHECK_THROWS_WITH_AS(nn::load_training_checkpoint(model_file.string(), *run.trainer),
                         doctest::Contains("it is not a training checkpoint"), std::runtime_error);
}
