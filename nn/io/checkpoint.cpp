#include "nn/io/checkpoint.h"

#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "dist/world.h"
#include "framework/random.h"
#include "nn/io/safetensors.h"

namespace xgrad::nn {

namespace {

constexpr const char* kModelPrefix = "model/";
constexpr const char* kOptimizerPrefix = "optimizer/";

nlohmann::json history_to_json(const History& history) {
    return {{"epochs", history.epochs}, {"metrics", history.metrics}, {"seconds", history.seconds}};
}

History history_from_json(const nlohmann::json& j) {
    History h;
    h.epochs = j.at("epochs").get<std::vector<std::size_t>>();
    h.metrics = j.at("metrics").get<std::map<std::string, std::vector<double>>>();
    h.seconds = j.at("seconds").get<std::vector<double>>();
    if (h.seconds.size() != h.epochs.size()) throw std::invalid_argument("ragged history");
    for (const auto& [name, values] : h.metrics) {
        if (values.size() > h.epochs.size()) throw std::invalid_argument("ragged history");
    }
    return h;
}

std::map<std::string, Tensor> with_prefix(const std::string& prefix,
                                          const std::map<std::string, Tensor>& tensors,
                                          const std::string& wanted_prefix) {
    std::map<std::string, Tensor> out;
    for (const auto& [name, value] : tensors) {
        if (name.rfind(wanted_prefix, 0) == 0)
            out[prefix + name.substr(wanted_prefix.size())] = value;
    }
    return out;
}

}  // namespace

void append_epoch(History& history, std::size_t epoch, const Logs& logs, double seconds) {
    history.epochs.push_back(epoch);
    history.seconds.push_back(seconds);
    for (const auto& [name, value] : logs) history.metrics[name].push_back(value);
}

void save_training_checkpoint(const std::string& path, Trainer& trainer, const History& history) {
    std::map<std::string, Tensor> tensors;
    for (auto& [name, value] : trainer.model().state_dict()) tensors[kModelPrefix + name] = value;
    for (auto& [name, value] : trainer.optimizer().state_dict()) {
        tensors[kOptimizerPrefix + name] = value;
    }
    std::ostringstream rng;
    rng << global_rng();
    const Metadata metadata = {
        {"format", "xgrad-training-checkpoint"},         {"version", "1"},
        {"optimizer", trainer.optimizer().name()},       {"loss", trainer.loss_name()},
        {"epochs_done", std::to_string(history.size())}, {"rng", rng.str()},
        {"history", history_to_json(history).dump()},
    };
    write_safetensors(path, tensors, metadata);
}

History load_training_checkpoint(const std::string& path, Trainer& trainer) {
    // Plain variables, not structured bindings: the lambdas below capture them.
    const auto file = read_safetensors(path);
    const TensorMap& tensors = file.first;
    const Metadata& metadata = file.second;
    auto fail = [&](const std::string& what) {
        return std::runtime_error("cannot resume from '" + path + "': " + what);
    };
    auto field = [&](const char* key) {
        auto it = metadata.find(key);
        if (it == metadata.end()) throw fail(std::string("the metadata has no '") + key + "'");
        return it->second;
    };
    if (field("format") != "xgrad-training-checkpoint") {
        throw fail("it is not a training checkpoint (format '" + field("format") + "')");
    }
    if (field("version") != "1") throw fail("unsupported version '" + field("version") + "'");
    if (field("optimizer") != trainer.optimizer().name()) {
        throw fail("it was saved with optimizer '" + field("optimizer") + "', not '" +
                   trainer.optimizer().name() + "'");
    }
    if (field("loss") != trainer.loss_name()) {
        throw fail("it was saved with loss '" + field("loss") + "', not '" + trainer.loss_name() +
                   "'");
    }
    History history;
    try {
        history = history_from_json(nlohmann::json::parse(field("history")));
    } catch (const std::exception& e) {
        throw fail(std::string("the history is malformed (") + e.what() + ")");
    }
    Rng rng;
    std::istringstream rng_text(field("rng"));
    rng_text >> rng;
    if (!rng_text) throw fail("the random generator state is malformed");

    try {
        trainer.model().load_state_dict(with_prefix("", tensors, kModelPrefix));
        trainer.optimizer().load_state_dict(with_prefix("", tensors, kOptimizerPrefix));
    } catch (const std::exception& e) {
        throw fail(e.what());
    }
    global_rng() = rng;
    return history;
}

TrainingCheckpoint::TrainingCheckpoint(std::string path, History previous)
    : path_(std::move(path)), history_(std::move(previous)) {}

void TrainingCheckpoint::on_epoch_end(Trainer& trainer, std::size_t epoch, const Logs& logs) {
    append_epoch(history_, epoch, logs, trainer.last_epoch_seconds());
    // Data-parallel training: every process holds the same state; one writes it.
    if (dist::is_root()) save_training_checkpoint(path_, trainer, history_);
}

}  // namespace xgrad::nn
