// Training checkpoints: everything needed to continue a run exactly where it stopped — the
// weights, the optimizer's state, the number of finished epochs, the global random generator
// (dropout) and the history so far. The data order needs nothing: the DataLoader's order of
// epoch e depends only on (seed, e). Files are safetensors, written atomically.
#pragma once

#include <string>

#include "nn/training/trainer.h"

namespace xgrad::nn {

// Writes the trainer's state after `history.size()` finished epochs.
void save_training_checkpoint(const std::string& path, Trainer& trainer, const History& history);

// Restores weights, optimizer state and the random generator into `trainer` (whose model and
// optimizer must be of the same kind as when saved) and returns the history so far; continue
// with FitOptions::initial_epoch = history.size(). Problems are std::runtime_error naming the
// file.
History load_training_checkpoint(const std::string& path, Trainer& trainer);

// Saves a checkpoint after every epoch; `previous` is the history of a resumed run.
class TrainingCheckpoint : public Callback {
  public:
    explicit TrainingCheckpoint(std::string path, History previous = {});
    void on_epoch_end(Trainer& trainer, std::size_t epoch, const Logs& logs) override;
    const History& history() const { return history_; }

  private:
    std::string path_;
    History history_;
};

// Appends one finished epoch to a history (what fit() records).
void append_epoch(History& history, std::size_t epoch, const Logs& logs, double seconds);

}  // namespace xgrad::nn
