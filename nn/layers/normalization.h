// Normalization: Keras' preprocessing layer. Each feature (each index of the last axis) is
// shifted and scaled by statistics that adapt() computes from data once, before training:
//
//   y = (x - mean) / max(sqrt(variance), 1e-7)        (Keras' formula and epsilon)
//
//   auto norm = std::make_shared<nn::Normalization>();
//   norm->adapt(*train);                 // the training split only (or a (n, features) tensor)
//   model.add(norm);
//
// mean and variance (features,) and count (a scalar: how many values each feature's statistics
// were computed from) are non-trainable parameters, so they are saved with the model and counted
// as Keras counts them: 2 * features + 1. Until adapted the layer is the identity (mean 0,
// variance 1), as in Keras; adapted() tells whether it was.
#pragma once

#include <vector>

#include "datasets/dataset.h"
#include "framework/variable.h"
#include "nn/module.h"

namespace xgrad::nn {

class Normalization : public Module {
  public:
    Normalization() = default;
    // Keras' input_shape argument: declares the model's input shape.
    explicit Normalization(Shape input_shape) { set_input_shape(std::move(input_shape)); }

    // Sets mean and variance (the biased variance, as numpy's var) of every feature from `data`
    // of shape (n, ..., features), over all axes but the last, accumulating in double precision.
    // Builds the layer for data's per-example shape, which must match the built one (else
    // ShapeError). No examples, or a NaN or infinite value, is a std::invalid_argument, and the
    // statistics are left as they were.
    void adapt(const Tensor& data);
    // The same over a dataset's only input, read batch by batch (the statistics of all the
    // batches merged exactly, not a mean of batch means). A dataset with several inputs is a
    // std::invalid_argument.
    void adapt(const data::Dataset& dataset, std::size_t batch_size = 256);

    bool adapted() const;
    Variable mean() const { return mean_; }
    Variable variance() const { return variance_; }
    Variable count() const { return count_; }

    Variable forward(const Variable& x) override;
    // Creates mean, variance and count for input (..., features); an input of rank 0 is a
    // ShapeError.
    void build(const Shape& input_shape) override;
    Shape output_shape(const Shape& input_shape) const override { return input_shape; }
    std::string type_name() const override { return "Normalization"; }

    // {"axis": -1}: Keras' default, the only axis this layer normalises.
    nlohmann::json config() const override;
    static Normalization from_config(const LayerConfig& config);
    // mean and variance per feature, and the count.
    std::optional<std::uint64_t> weight_count(const Shape& input_shape) const override;

  private:
    void start_adapt(const Shape& example_shape, std::size_t examples);
    // Checks the merged statistics (sum of squared deviations m2 over count values per
    // feature) and stores them.
    void finish_adapt(const std::vector<double>& mean, const std::vector<double>& m2, double count);

    Variable mean_, variance_, count_;
};

// The layer's formula in any precision (float64 for gradient checks): mean and variance have
// shape (features,) and broadcast over x's last axis.
template <class T>
VariableOf<T> normalize(const VariableOf<T>& x, const VariableOf<T>& mean,
                        const VariableOf<T>& variance);

}  // namespace xgrad::nn
