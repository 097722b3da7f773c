// Keras-style training: compile any model (a Sequential or a Module subclass) with an
// optimizer, a loss and metrics, then fit, evaluate and predict.
//
//   model.build({28, 28});   // every parameter exists before the optimizer takes them
//   nn::Trainer trainer(model, optim::make_optimizer("adam", model.trainable_parameters()),
//                       "sparse_categorical_crossentropy", {"accuracy"});
//   nn::History history = trainer.fit(train, {.epochs = 10, .batch_size = 32});
//   nn::Logs test = trainer.evaluate(*test_set);   // test["loss"], test["accuracy"]
//
// A batch's inputs go to the model (one input: forward(x); several: the list form of
// forward), and its targets pair up with the model's outputs. With several outputs the loss
// applies to each and the total is their sum (Keras' default for one loss); the logs then
// also hold "output_<k>_loss" and "output_<k>_<metric>" (k from 1).
#pragma once

#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "nn/module.h"
#include "nn/training/losses.h"
#include "nn/training/metrics.h"
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
    // Data-parallel training under mpirun (dist/): gradients are averaged in buckets of about
    // this many bytes (see dist/gradient_reducer.h).
    std::size_t allreduce_bucket_bytes = std::size_t(25) << 20;
};

// Under mpirun with several processes (dist/world.h), fit() trains data-parallel: every
// process starts from process 0's parameters and optimizer state, takes its slice of each
// global batch (batch_size stays the global batch and must be divisible by the number of
// processes), and gradients are averaged over the processes before each step. An epoch's logs
// (history, on_epoch_end) are averaged over the processes, weighted by their examples; the
// running values during an epoch (progress bar, on_batch_end) are each process's own. Only
// process 0 prints and writes files. evaluate() and predict() run on each process over the
// whole dataset.
class Trainer {
  public:
    // `loss`: a name ("mse", "binary_crossentropy", ...; see nn/training/losses.h) or a user's
    // function. `metrics`: names ("accuracy", "auc", ...; see nn/training/metrics.h) or metric
    // objects. The optimizer must hold every trainable parameter of the model; fit() checks
    // that once the model is built, and names the parameters it misses.
    Trainer(Module& model, std::unique_ptr<optim::Optimizer> optimizer, Loss loss,
            std::vector<MetricSpec> metrics = {});
    // Keras' compile(loss={...}, loss_weights={...}, metrics={...}) for several outputs, keyed
    // by output name (a functional Model's output_names(); output_1, output_2, ... for other
    // modules): one loss per output, each weighted (1 by default) in the total "loss"; the
    // logs name each output's loss and metrics after it ("class_loss", "class_accuracy",
    // "val_kind_loss"). Every output needs a loss; an unknown name is a std::invalid_argument
    // listing the outputs.
    Trainer(Module& model, std::unique_ptr<optim::Optimizer> optimizer,
            std::map<std::string, Loss> losses,
            std::map<std::string, std::vector<MetricSpec>> metrics = {},
            std::map<std::string, double> loss_weights = {});

    // Builds an unbuilt model from the dataset's input shapes first.
    History fit(std::shared_ptr<const data::Dataset> train, const FitOptions& options = {});
    // The loss and the metrics over the whole dataset, in eval mode and without a graph.
    Logs evaluate(const data::Dataset& dataset, std::size_t batch_size = 256);
    // The model's only output (probabilities for a softmax model), batched, in eval mode and
    // without a graph. The dataset needs no targets. A model with several outputs is a
    // std::invalid_argument: use predict_outputs().
    Tensor predict(const Tensor& inputs, std::size_t batch_size = 256);
    Tensor predict(const data::Dataset& dataset, std::size_t batch_size = 256);
    // Every output, in the order forward() returns them.
    std::vector<Tensor> predict_outputs(const data::Dataset& dataset, std::size_t batch_size = 256);

    Module& model() { return model_; }
    optim::Optimizer& optimizer() { return *optimizer_; }
    const Loss& loss() const { return loss_; }
    const std::string& loss_name() const { return loss_.name(); }

    // The training time of the last finished epoch, without validation.
    double last_epoch_seconds() const { return last_epoch_seconds_; }

    void stop_training() { stop_ = true; }
    bool stop_requested() const { return stop_; }

    static const std::vector<std::string>& loss_names() { return Loss::names(); }

  private:
    // The metric state and the loss total of one output.
    struct OutputState {
        std::vector<std::shared_ptr<Metric>> metrics;
        double loss_sum = 0;  // sum over batches of the batch loss times the batch size
    };
    // Per-output losses, weights and metrics (the second constructor), by output index.
    struct PerOutput {
        std::vector<std::string> names;
        std::vector<Loss> losses;
        std::vector<double> weights;
        std::vector<std::vector<MetricSpec>> metrics;
    };
    // The log prefix of output k: "" for one output, its name with per-output losses or a
    // functional model, else "output_<k+1>_".
    std::string output_prefix(std::size_t k, std::size_t outputs) const;

    // The model's list form: one output or several.
    std::vector<Variable> forward(std::vector<Variable>& inputs);
    // The loss summed over the outputs, each against its target; updates the outputs'
    // metrics. `examples`: the batch size.
    Variable loss_and_metrics(const std::vector<Variable>& outputs,
                              const std::vector<Variable>& targets, std::size_t examples);
    void reset_state();
    // "loss" (loss_sum over `examples`), then each output's loss and metric results.
    void write_logs(Logs& logs, double loss_sum, std::size_t examples) const;
    // The log names in the order the progress bar shows them.
    std::vector<std::string> metric_order() const;
    // Forward passes over a dataset in batches, in eval mode and without a graph, handing each
    // batch's outputs to visit(outputs, targets, first_index, examples): evaluate and
    // predict share it.
    template <class Visit>
    void run_inference(const data::Dataset& dataset, std::size_t batch_size, const char* who,
                       Visit&& visit);
    // The optimizer holds every trainable parameter of the model, or a std::invalid_argument
    // naming the ones it misses.
    void check_optimizer_holds_parameters() const;
    void check_targets(std::size_t targets, std::size_t outputs) const;

    Module& model_;
    std::unique_ptr<optim::Optimizer> optimizer_;
    Loss loss_;
    std::vector<MetricSpec> metric_specs_;
    std::vector<OutputState> outputs_;  // one per model output, made on the first batch
    std::optional<PerOutput> per_output_;
    bool stop_ = false;
    double last_epoch_seconds_ = 0;
};

}  // namespace xgrad::nn
