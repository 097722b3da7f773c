// The callbacks users expect from Keras: early stopping, checkpoints, a CSV log, learning-rate
// schedules, and stopping on a non-finite loss.
#pragma once

#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <string>

#include "nn/training/trainer.h"

namespace xgrad::nn {

// Stops when `monitor` has not improved by min_delta for `patience` epochs. Metrics whose name
// contains "acc", "auc", "precision" or "recall" improve upwards, others downwards. With
// restore_best_weights, the model gets the weights of its best epoch back when training ends.
class EarlyStopping : public Callback {
  public:
    explicit EarlyStopping(std::string monitor = "val_loss", std::size_t patience = 0,
                           double min_delta = 0, bool restore_best_weights = false);
    void on_train_begin(Trainer&) override;
    void on_epoch_end(Trainer& trainer, std::size_t epoch, const Logs& logs) override;
    void on_train_end(Trainer& trainer) override;
    // The epoch training stopped after, if it did.
    std::optional<std::size_t> stopped_epoch() const { return stopped_epoch_; }
    std::size_t best_epoch() const { return best_epoch_; }

  private:
    std::string monitor_;
    std::size_t patience_;
    double min_delta_;
    bool restore_;
    bool maximize_;
    double best_ = 0;
    std::size_t best_epoch_ = 0;
    std::size_t wait_ = 0;
    bool have_best_ = false;
    std::optional<std::size_t> stopped_epoch_;
    std::map<std::string, Tensor> best_weights_;
};

// Saves the model file (nn/io/model_file) after each epoch, or only when `monitor` improved;
// with save_weights_only, the weights alone (save_weights), which any model can. A model file
// needs every layer type registered (nn/io/layer_registry.h): an unregistered one is an error
// when training begins, not after the first epoch.
// "{epoch}" in the path is replaced by the epoch number (from 1).
class ModelCheckpoint : public Callback {
  public:
    explicit ModelCheckpoint(std::string path, std::string monitor = "val_loss",
                             bool save_best_only = false, bool save_weights_only = false);
    void on_train_begin(Trainer& trainer) override;
    void on_epoch_end(Trainer& trainer, std::size_t epoch, const Logs& logs) override;

  private:
    std::string path_;
    std::string monitor_;
    bool save_best_only_;
    bool save_weights_only_;
    bool maximize_;
    std::optional<double> best_;
};

// Writes one CSV row per epoch: epoch,loss,accuracy,val_loss,val_accuracy,seconds (seconds:
// the epoch's training time). The file is created (truncated) when training begins, starting
// with the rows of `previous` (a resumed run's history); a path that cannot be written is an
// error then.
class CSVLogger : public Callback {
  public:
    explicit CSVLogger(std::string path, History previous = {});
    void on_train_begin(Trainer&) override;
    void on_epoch_end(Trainer& trainer, std::size_t epoch, const Logs& logs) override;

  private:
    void append_row(std::size_t epoch, const Logs& logs, double seconds);

    std::string path_;
    History previous_;
};

// Sets the learning rate at the start of each epoch to schedule(epoch, current_rate).
class LearningRateScheduler : public Callback {
  public:
    explicit LearningRateScheduler(std::function<double(std::size_t, double)> schedule);
    void on_epoch_begin(Trainer& trainer, std::size_t epoch) override;

  private:
    std::function<double(std::size_t, double)> schedule_;
};

// Stops training as soon as the loss is NaN or infinite, naming the epoch and the batch.
class TerminateOnNaN : public Callback {
  public:
    explicit TerminateOnNaN(std::ostream& out = std::cerr) : out_(out) {}
    void on_batch_end(Trainer& trainer, std::size_t epoch, std::size_t batch,
                      const Logs& logs) override;
    bool terminated() const { return terminated_; }
    const std::string& message() const { return message_; }

  private:
    std::ostream& out_;
    bool terminated_ = false;
    std::string message_;
};

}  // namespace xgrad::nn
