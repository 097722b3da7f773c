#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "xgrad.h"

using namespace xgrad;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
    const char* env = std::getenv("XGRAD_TEST_TMP");
    fs::path dir = fs::path(env ? env : "/tmp") / "callbacks";
    fs::create_directories(dir);
    return dir;
}

std::shared_ptr<data::TensorDataset> line_data(float scale = 1.f) {
    Tensor x = Tensor::from_shape({12, 1});
    IndexTensor y = IndexTensor::from_shape({12});
    for (std::size_t i = 0; i < 12; ++i) {
        x(i, 0) = scale * (float(i) - 5.5f);
        y(i) = x(i, 0) > 0;
    }
    return std::make_shared<data::TensorDataset>(x, y, 2);
}

struct Setup {
    nn::Sequential model;
    std::unique_ptr<nn::Trainer> trainer;
    explicit Setup(const std::string& optimizer = "adam", double lr = 0.01) {
        manual_seed(0);
        model.add(nn::Dense(2, "softmax"));
        model.build({1});
        trainer = std::make_unique<nn::Trainer>(
            model, optim::make_optimizer(optimizer, model.trainable_parameters(), lr),
            "sparse_categorical_crossentropy", std::vector<nn::MetricSpec>{"accuracy"});
    }
};

nn::FitOptions with(std::shared_ptr<nn::Callback> cb, std::size_t epochs) {
    nn::FitOptions o;
    o.epochs = epochs;
    o.batch_size = 4;
    o.verbose = 0;
    o.callbacks.push_back(std::move(cb));
    return o;
}

}  // namespace

TEST_CASE("EarlyStopping stops when the monitored metric stops improving") {
    Setup s("sgd", 1e-30);  // learning so slow that the loss cannot improve
    auto stop = std::make_shared<nn::EarlyStopping>("loss", 1);
    auto opts = with(stop, 50);
    opts.shuffle = false;
    nn::History h = s.trainer->fit(line_data(), opts);
    CHECK(h.size() == 3);  // best at epoch 0, two epochs without improvement (patience 1)
    REQUIRE(stop->stopped_epoch().has_value());
    CHECK(*stop->stopped_epoch() == 2);
}

namespace {

// Remembers the weights after epoch 0, then wrecks them before epoch 1 so its loss is worse.
struct Saboteur : nn::Callback {
    std::map<std::string, Tensor> after_first_epoch;
    void on_epoch_begin(nn::Trainer& trainer, std::size_t epoch) override {
        if (epoch != 1) return;
        trainer.optimizer().set_learning_rate(1e-30);
        auto state = trainer.model().state_dict();
        for (auto& [name, value] : state) value = -100.f * value - 50.f;
        trainer.model().load_state_dict(state);
    }
    void on_epoch_end(nn::Trainer& trainer, std::size_t epoch, const nn::Logs&) override {
        if (epoch == 0) after_first_epoch = trainer.model().state_dict();
    }
};

}  // namespace

TEST_CASE("EarlyStopping restores the best weights") {
    Setup s("sgd", 0.1);
    auto saboteur = std::make_shared<Saboteur>();
    auto stop = std::make_shared<nn::EarlyStopping>("loss", 0, 0.0, true);
    auto opts = with(saboteur, 10);
    opts.callbacks.push_back(stop);
    nn::History h = s.trainer->fit(line_data(), opts);
    CHECK(h.size() == 2);
    CHECK(h["loss"][1] > h["loss"][0]);
    CHECK(stop->best_epoch() == 0);
    CHECK(s.model.state_dict() == saboteur->after_first_epoch);

    CHECK_THROWS_WITH_AS(
        s.trainer->fit(line_data(), with(std::make_shared<nn::EarlyStopping>("val_loss"), 2)),
        doctest::Contains("EarlyStopping: metric 'val_loss' is not available"),
        std::invalid_argument);
}

TEST_CASE("ModelCheckpoint writes a loadable model every epoch") {
    Setup s;
    const fs::path path = temp_dir() / "ckpt_{epoch}.safetensors";
    fs::remove(temp_dir() / "ckpt_1.safetensors");
    fs::remove(temp_dir() / "ckpt_2.safetensors");
    s.trainer->fit(line_data(),
                   with(std::make_shared<nn::ModelCheckpoint>(path.string(), "loss"), 2));
    CHECK(fs::exists(temp_dir() / "ckpt_1.safetensors"));
    CHECK(fs::exists(temp_dir() / "ckpt_2.safetensors"));
    auto loaded = nn::load_model((temp_dir() / "ckpt_2.safetensors").string());
    CHECK(loaded.count_params() == s.model.count_params());
}

namespace {

// A layer no one registered: its model saves weights only.
class Unregistered : public nn::Module {
  public:
    std::string type_name() const override { return "Unregistered"; }
    Variable forward(const Variable& x) override { return x; }
};

}  // namespace

TEST_CASE("ModelCheckpoint refuses an unregistered layer before the first epoch") {
    Setup s;
    s.model.add(Unregistered());
    const fs::path path = temp_dir() / "unregistered.safetensors";
    fs::remove(path);
    const Tensor before = s.model.state_dict().at("dense/kernel");
    CHECK_THROWS_WITH_AS(
        s.trainer->fit(line_data(),
                       with(std::make_shared<nn::ModelCheckpoint>(path.string(), "loss"), 1)),
        "save_model: layer 'unregistered' has type 'Unregistered', which is not registered; call "
        "nn::register_layer<Unregistered>(\"Unregistered\") first, or save the weights with "
        "save_weights()",
        std::invalid_argument);
    CHECK(s.model.state_dict().at("dense/kernel") == before);  // no step was taken
    CHECK_FALSE(fs::exists(path));
    // Weights only: any model can.
    s.trainer->fit(
        line_data(),
        with(std::make_shared<nn::ModelCheckpoint>(path.string(), "loss", false, true), 1));
    nn::Sequential fresh;
    fresh.add(nn::Dense(2, "softmax"));
    fresh.add(Unregistered());
    fresh.build({1});
    nn::load_weights(fresh, path.string());
    CHECK(fresh.state_dict().at("dense/kernel") == s.model.state_dict().at("dense/kernel"));
}

TEST_CASE("CSVLogger writes a header and one row per epoch") {
    Setup s;
    const fs::path path = temp_dir() / "history.csv";
    s.trainer->fit(line_data(), with(std::make_shared<nn::CSVLogger>(path.string()), 3));
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    CHECK(line == "epoch,loss,accuracy,val_loss,val_accuracy,seconds");
    int rows = 0;
    while (std::getline(in, line)) {
        ++rows;
        CHECK(line.rfind(std::to_string(rows) + ",", 0) == 0);
        CHECK(std::count(line.begin(), line.end(), ',') == 5);
    }
    CHECK(rows == 3);
    CHECK_THROWS_AS(
        s.trainer->fit(line_data(),
                       with(std::make_shared<nn::CSVLogger>("/nonexistent/dir/h.csv"), 1)),
        std::runtime_error);
}

TEST_CASE("LearningRateScheduler sets the rate each epoch") {
    Setup s("sgd", 0.1);
    std::vector<double> seen;
    auto sched = std::make_shared<nn::LearningRateScheduler>([&](std::size_t epoch, double lr) {
        seen.push_back(lr);
        return 0.1 / double(epoch + 1);
    });
    s.trainer->fit(line_data(), with(sched, 3));
    CHECK(seen == std::vector<double>{0.1, 0.1, 0.05});
    CHECK(s.trainer->optimizer().learning_rate() == doctest::Approx(0.1 / 3));
}

TEST_CASE("TerminateOnNaN stops at the first non-finite loss, naming epoch and batch") {
    Setup s;
    auto data = line_data();
    Tensor x = data->inputs()[0];
    x(5, 0) = std::nanf("");
    auto bad = std::make_shared<data::TensorDataset>(x, data->targets()[0]);
    std::ostringstream messages;
    auto guard = std::make_shared<nn::TerminateOnNaN>(messages);
    auto opts = with(guard, 5);
    opts.shuffle = false;
    nn::History h = s.trainer->fit(bad, opts);
    CHECK(guard->terminated());
    CHECK(guard->message() == "the loss became nan at epoch 1, batch 2; training stopped");
    CHECK(h.size() == 1);
}
