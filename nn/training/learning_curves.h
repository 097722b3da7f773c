// Learning curves as an SVG picture: one panel per metric (loss, accuracy, ...) over the
// epochs, the training values as a solid line and the validation values ("val_<metric>") as
// a dashed one, with axes, ticks and a legend.
//
//   options.callbacks.push_back(std::make_shared<nn::LearningCurvesPlot>("curves.svg"));
#pragma once

#include <string>

#include "nn/training/trainer.h"

namespace xgrad::nn {

// The SVG text of `history`. Each series is one <polyline class="curve" data-series="NAME">
// with one point per epoch inside its panel's <rect class="plot-area">; non-finite values
// (a diverged loss) are left out of the line. An empty history gives a picture saying so.
std::string learning_curves_svg(const History& history);

// Writes the learning curves of the run so far to `path` (atomically) when training begins,
// so that a path that cannot be written fails before the first epoch, and after every epoch.
// `previous` is the history of a resumed run.
class LearningCurvesPlot : public Callback {
  public:
    explicit LearningCurvesPlot(std::string path, History previous = {});
    void on_train_begin(Trainer&) override;
    void on_epoch_end(Trainer& trainer, std::size_t epoch, const Logs& logs) override;
    const History& history() const { return history_; }

  private:
    std::string path_;
    History history_;
};

}  // namespace xgrad::nn
