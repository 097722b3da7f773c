// Keras-style training: compile a model with an optimizer, a loss and metrics, then fit,
// evaluate and predict.
//
//   nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
//                       "sparse_categorical_crossentropy");
//   nn::History history = trainer.fit(train, {.epochs = 10, .batch_size = 32});
//   nn::Logs test = trainer.evaluate(*test_set);   // test["loss"], test["accuracy"]
#pragma once

#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "nn/models/sequential.h"
#include "optim/optimizer.h"

namespace xgrad::nn {

// Metric name -> value for one epoch (or one evaluation): "loss", "accuracy", "val_loss", ...
using Logs = std::map<std::string, double>;

// Every metric per epoch, in the order of the epochs; `seconds` is each epoch's training time.
struct History {
    std::vector<std::size_t> epochs;
    std::map<std::string, std::vector<double>> metrics;
    std::vector<double> seconds;

    std::size_t size() const { return epochs.size(); }
    const std::vector<double>& operator[](const std::string& name) const;
};

class Trainer;

// Hooks into fit(). Callbacks ask to stop with trainer.stop_training().
class Callback {
  public:
    virtual ~Callback() = default;
    virtual void on_train_begin(Trainer&) {}
    virtual void on_epoch_begin(Trainer&, std::size_t /*epoch*/) {}
    // `logs` holds the running averages of the epoch so far.
    virtual void on_batch_end(Trainer&, std::size_t /*epoch*/, std::size_t /*batch*/,
                              const Logs& /*logs*/) {}
    virtual void on_epoch_end(Trainer&, std::size_t /*epoch*/, const Logs& /*logs*/) {}
    virtual void on_train_end(Trainer&) {}
};

struct FitOptions {
    std::size_t epochs = 1;
    std::size_t batch_size = 32;
    bool shuffle = true;
    std::uint64_t seed = 0;  // shuffling order: epoch e depends only on (seed, e)
    // Keras: the last fraction of the training set becomes the validation set.
    double validation_split = 0;
    std::shared_ptr<const data::Dataset> validation_data;  // used instead when set
    std::vector<std::shared_ptr<Callback>> callbacks;
    int verbose = 1;  // 0 silent, 1 progress bar, 2 one line per epoch
    std::ostream* out = &std::cout;
    std::size_t initial_epoch = 0;  // resume: epochs are numbered from here
};

class Trainer {
  public:
    // Loss names: "sparse_categorical_crossentropy" and "categorical_crossentropy" (on
    // probabilities; integer labels), and "cross_entropy" (on logits). Metrics: "accuracy".
    Trainer(Sequential& model, std::unique_ptr<optim::Optimizer> optimizer, std::string loss,
            std::vector<std::string> metrics = {"accuracy"});

    History fit(std::shared_ptr<const data::Dataset> train, const FitOptions& options = {});
    Logs evaluate(const data::Dataset& dataset, std::size_t batch_size = 256);
    // The model's outputs (probabilities for a softmax model), batched and without a graph.
    Tensor predict(const Tensor& inputs, std::size_t batch_size = 256);
    Tensor predict(const data::Dataset& dataset, std::size_t batch_size = 256);

    Sequential& model() { return model_; }
    optim::Optimizer& optimizer() { return *optimizer_; }
    const std::string& loss_name() const { return loss_; }
    // True when the last layer is a softmax that training fuses into the cross-entropy.
    bool fuses_softmax() const;

    // The training time of the last finished epoch, without validation.
    double last_epoch_seconds() const { return last_epoch_seconds_; }

    void stop_training() { stop_ = true; }
    bool stop_requested() const { return stop_; }

    static const std::vector<std::string>& loss_names();

  private:
    // The loss of one batch; `output` receives what accuracy is computed from (logits or
    // probabilities: their argmax is the same).
    Variable batch_loss(const Variable& inputs, const IndexTensor& labels, Variable& output);
    Variable forward_to_logits(const Variable& inputs);

    Sequential& model_;
    std::unique_ptr<optim::Optimizer> optimizer_;
    std::string loss_;
    std::vector<std::string> metrics_;
    bool stop_ = false;
    double last_epoch_seconds_ = 0;
};

// How many rows of `scores` (batch, classes) have their largest entry at the label.
std::size_t count_correct(const Tensor& scores, const IndexTensor& labels);

}  // namespace xgrad::nn
