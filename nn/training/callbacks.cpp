#include "nn/training/callbacks.h"

#include <cmath>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

#include "nn/io/model_file.h"
#include "nn/models/sequential.h"

namespace xgrad::nn {

namespace {

bool improves_upwards(const std::string& monitor) {
    for (const char* upwards : {"acc", "auc", "precision", "recall"}) {
        if (monitor.find(upwards) != std::string::npos) return true;
    }
    return false;
}

double monitored(const std::string& callback, const std::string& monitor, const Logs& logs) {
    auto it = logs.find(monitor);
    if (it == logs.end()) {
        std::string available;
        for (const auto& [name, value] : logs) available += (available.empty() ? "" : ", ") + name;
        throw std::invalid_argument(callback + ": metric '" + monitor +
                                    "' is not available (available: " + available + ")");
    }
    return it->second;
}

}  // namespace

EarlyStopping::EarlyStopping(std::string monitor, std::size_t patience, double min_delta,
                             bool restore_best_weights)
    : monitor_(std::move(monitor)),
      patience_(patience),
      min_delta_(std::abs(min_delta)),
      restore_(restore_best_weights),
      maximize_(improves_upwards(monitor_)) {}

void EarlyStopping::on_train_begin(Trainer&) {
    have_best_ = false;
    wait_ = 0;
    stopped_epoch_.reset();
    best_weights_.clear();
}

void EarlyStopping::on_epoch_end(Trainer& trainer, std::size_t epoch, const Logs& logs) {
    const double value = monitored("EarlyStopping", monitor_, logs);
    const bool better =
        !have_best_ || (maximize_ ? value > best_ + min_delta_ : value < best_ - min_delta_);
    if (better) {
        best_ = value;
        best_epoch_ = epoch;
        have_best_ = true;
        wait_ = 0;
        if (restore_) best_weights_ = trainer.model().state_dict();
        return;
    }
    if (++wait_ > patience_) {
        stopped_epoch_ = epoch;
        trainer.stop_training();
    }
}

void EarlyStopping::on_train_end(Trainer& trainer) {
    if (restore_ && stopped_epoch_ && !best_weights_.empty()) {
        trainer.model().load_state_dict(best_weights_);
    }
}

ModelCheckpoint::ModelCheckpoint(std::string path, std::string monitor, bool save_best_only,
                                 bool save_weights_only)
    : path_(std::move(path)),
      monitor_(std::move(monitor)),
      save_best_only_(save_best_only),
      save_weights_only_(save_weights_only),
      maximize_(improves_upwards(monitor_)) {}

void ModelCheckpoint::on_train_begin(Trainer& trainer) {
    if (!save_weights_only_) check_savable(trainer.model());
}

void ModelCheckpoint::on_epoch_end(Trainer& trainer, std::size_t epoch, const Logs& logs) {
    if (save_best_only_) {
        const double value = monitored("ModelCheckpoint", monitor_, logs);
        if (best_ && !(maximize_ ? value > *best_ : value < *best_)) return;
        best_ = value;
    }
    std::string path = path_;
    const auto at = path.find("{epoch}");
    if (at != std::string::npos) path.replace(at, 7, std::to_string(epoch + 1));
    if (save_weights_only_) {
        save_weights(trainer.model(), path);
    } else {
        save_model(trainer.model(), path);
    }
}

CSVLogger::CSVLogger(std::string path, History previous)
    : path_(std::move(path)), previous_(std::move(previous)) {}

void CSVLogger::on_train_begin(Trainer&) {
    std::ofstream out(path_, std::ios::trunc);
    out << "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n";
    if (!out.flush()) {
        throw std::runtime_error("CSVLogger: cannot write the history file '" + path_ + "'");
    }
    out.close();
    for (std::size_t i = 0; i < previous_.size(); ++i) {
        Logs logs;
        for (const auto& [name, values] : previous_.metrics) {
            if (i < values.size()) logs[name] = values[i];
        }
        append_row(previous_.epochs[i], logs, previous_.seconds[i]);
    }
}

void CSVLogger::on_epoch_end(Trainer& trainer, std::size_t epoch, const Logs& logs) {
    append_row(epoch, logs, trainer.last_epoch_seconds());
}

void CSVLogger::append_row(std::size_t epoch, const Logs& logs, double seconds) {
    auto field = [&](const char* name) {
        auto it = logs.find(name);
        return it == logs.end() ? std::string() : fmt::format("{:.6f}", it->second);
    };
    std::ofstream out(path_, std::ios::app);
    out << epoch + 1 << ',' << field("loss") << ',' << field("accuracy") << ',' << field("val_loss")
        << ',' << field("val_accuracy") << ',' << fmt::format("{:.3f}", seconds) << '\n';
    if (!out.flush()) {
        throw std::runtime_error("CSVLogger: cannot append to the history file '" + path_ + "'");
    }
}

LearningRateScheduler::LearningRateScheduler(std::function<double(std::size_t, double)> schedule)
    : schedule_(std::move(schedule)) {
    if (!schedule_) throw std::invalid_argument("LearningRateScheduler: the schedule is empty");
}

void LearningRateScheduler::on_epoch_begin(Trainer& trainer, std::size_t epoch) {
    trainer.optimizer().set_learning_rate(schedule_(epoch, trainer.optimizer().learning_rate()));
}

void TerminateOnNaN::on_batch_end(Trainer& trainer, std::size_t epoch, std::size_t batch,
                                  const Logs& logs) {
    auto it = logs.find("loss");
    if (it == logs.end() || std::isfinite(it->second)) return;
    terminated_ = true;
    message_ = fmt::format("the loss became {} at epoch {}, batch {}; training stopped", it->second,
                           epoch + 1, batch + 1);
    out_ << "\n" << message_ << "\n";
    trainer.stop_training();
}

}  // namespace xgrad::nn
