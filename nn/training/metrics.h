// Metrics as objects with state, as Keras has them: update_state() adds a batch,
// result() is the figure over everything added since reset_state(). An epoch's figure is
// therefore exact, not a mean of batch means (AUC could not be averaged at all).
//
//   nn::Trainer trainer(model, std::move(optimizer), "binary_crossentropy",
//                       {"accuracy", "auc", std::make_shared<MyMetric>()});
//   // logs: loss, accuracy, auc, my_metric, val_loss, val_accuracy, val_auc, ...
//
// Every metric sees the model's output (probabilities for a softmax or sigmoid model) and the
// batch's float targets, as the loss does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framework/tensor.h"

namespace xgrad::nn {

class Metric {
  public:
    virtual ~Metric();
    // The key in the logs ("accuracy", "auc"); validation figures get "val_" in front.
    virtual std::string name() const = 0;
    // Adds one batch: prediction (batch, ...) and target (batch, ...), the model's output
    // and the batch's target for that output.
    virtual void update_state(const Tensor& prediction, const Tensor& target) = 0;
    // The figure over every batch added since the last reset (0 before any).
    virtual double result() const = 0;
    virtual void reset_state() = 0;
};

namespace metrics {

// Shared base: a total and a count.
class MeanMetric : public Metric {
  public:
    double result() const override { return count_ > 0 ? total_ / count_ : 0.0; }
    void reset_state() override { total_ = 0, count_ = 0; }

  protected:
    void add(double total, double count) { total_ += total, count_ += count; }

  private:
    double total_ = 0, count_ = 0;
};

// Class labels (batch,) or (batch, 1) against scores (batch, classes): argmax == label.
class SparseCategoricalAccuracy : public MeanMetric {
  public:
    std::string name() const override { return "sparse_categorical_accuracy"; }
    void update_state(const Tensor& prediction, const Tensor& target) override;
};

// One-hot targets: argmax(prediction) == argmax(target) along the last axis.
class CategoricalAccuracy : public MeanMetric {
  public:
    std::string name() const override { return "categorical_accuracy"; }
    void update_state(const Tensor& prediction, const Tensor& target) override;
};

// Every element: (prediction > threshold) == (target > 0.5).
class BinaryAccuracy : public MeanMetric {
  public:
    explicit BinaryAccuracy(double threshold = 0.5) : threshold_(threshold) {}
    std::string name() const override { return "binary_accuracy"; }
    void update_state(const Tensor& prediction, const Tensor& target) override;

  private:
    double threshold_;
};

// Keras' "accuracy": on its first batch it becomes binary accuracy when the prediction's last
// axis is 1 (or the loss is binary_crossentropy: multi-label), sparse categorical accuracy
// when the target has a lower rank or a last axis of 1 against several classes, categorical
// accuracy otherwise. Its name stays "accuracy".
class Accuracy : public Metric {
  public:
    explicit Accuracy(bool binary_loss = false) : binary_loss_(binary_loss) {}
    std::string name() const override { return "accuracy"; }
    void update_state(const Tensor& prediction, const Tensor& target) override;
    double result() const override;
    void reset_state() override;
    // The metric it resolved to (nullptr before the first batch).
    const Metric* resolved() const { return resolved_.get(); }

  private:
    bool binary_loss_;
    std::unique_ptr<Metric> resolved_;
};

// The target's class (one-hot, or a label when the target has a lower rank) is among the k
// largest scores.
class TopKCategoricalAccuracy : public MeanMetric {
  public:
    explicit TopKCategoricalAccuracy(std::size_t k = 5);
    std::string name() const override { return "top_k_categorical_accuracy"; }
    void update_state(const Tensor& prediction, const Tensor& target) override;

  private:
    std::size_t k_;
};

// Over every element.
class MeanAbsoluteError : public MeanMetric {
  public:
    std::string name() const override { return "mae"; }
    void update_state(const Tensor& prediction, const Tensor& target) override;
};

class MeanSquaredError : public MeanMetric {
  public:
    std::string name() const override { return "mse"; }
    void update_state(const Tensor& prediction, const Tensor& target) override;
};

class RootMeanSquaredError : public MeanSquaredError {
  public:
    std::string name() const override { return "rmse"; }
    double result() const override;
};

// Binary decisions at a threshold over every element: true/false positives and negatives.
class ConfusionCounts : public Metric {
  public:
    explicit ConfusionCounts(double threshold = 0.5) : threshold_(threshold) {}
    void update_state(const Tensor& prediction, const Tensor& target) override;
    void reset_state() override { tp_ = fp_ = tn_ = fn_ = 0; }

  protected:
    std::uint64_t tp_ = 0, fp_ = 0, tn_ = 0, fn_ = 0;

  private:
    double threshold_;
};

// tp / (tp + fp), 0 when nothing was predicted positive.
class Precision : public ConfusionCounts {
  public:
    using ConfusionCounts::ConfusionCounts;
    std::string name() const override { return "precision"; }
    double result() const override;
};

// tp / (tp + fn), 0 when there is no positive.
class Recall : public ConfusionCounts {
  public:
    using ConfusionCounts::ConfusionCounts;
    std::string name() const override { return "recall"; }
    double result() const override;
};

// Area under the ROC curve, Keras' AUC(): confusion counts at num_thresholds thresholds
// (-1e-7, 1/(n-1), ..., (n-2)/(n-1), 1 + 1e-7; a prediction above a threshold is positive),
// summed with the trapezoidal rule over (false positive rate, true positive rate). Every
// element is one binary decision (Keras' multi_label = false).
class AUC : public Metric {
  public:
    explicit AUC(std::size_t num_thresholds = 200);
    std::string name() const override { return "auc"; }
    void update_state(const Tensor& prediction, const Tensor& target) override;
    double result() const override;
    void reset_state() override;

  private:
    std::vector<double> thresholds_;
    std::vector<std::uint64_t> tp_, fp_;  // per threshold
    std::uint64_t positives_ = 0, negatives_ = 0;
};

}  // namespace metrics

// A metric by Keras name: accuracy (acc), binary_accuracy, categorical_accuracy,
// sparse_categorical_accuracy, top_k_categorical_accuracy, mae (mean_absolute_error),
// mse (mean_squared_error), rmse (root_mean_squared_error), precision, recall, auc.
// `binary_loss` tells "accuracy" that the loss is binary_crossentropy. An unknown name is a
// std::invalid_argument listing the valid ones.
std::unique_ptr<Metric> make_metric(const std::string& name, bool binary_loss = false);
const std::vector<std::string>& metric_names();

// What a Trainer takes as a metric: a name (a fresh metric per output and per use), or a
// user's metric object (shared; it serves one output).
class MetricSpec {
  public:
    MetricSpec(const char* name) : name_(name) {}             // NOLINT: implicit
    MetricSpec(std::string name) : name_(std::move(name)) {}  // NOLINT: implicit
    MetricSpec(std::shared_ptr<Metric> metric);               // NOLINT: implicit
    template <class M>
    requires std::derived_from<M, Metric> MetricSpec(std::shared_ptr<M> metric)  // NOLINT
        : MetricSpec(std::shared_ptr<Metric>(std::move(metric))) {}

    // The name given, or the object's name().
    std::string name() const;
    // The metric to use: a new one by name, or the user's object.
    std::shared_ptr<Metric> make(bool binary_loss) const;
    bool is_object() const { return metric_ != nullptr; }

  private:
    std::string name_;
    std::shared_ptr<Metric> metric_;
};

}  // namespace xgrad::nn
