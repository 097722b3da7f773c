// The Dataset interface a user implements for their own data (inputs and targets of any shape),
// an in-memory dataset over tensors, subsets, and a train/validation split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "framework/tensor.h"

namespace xgrad::data {

// A gathered batch of n examples: one tensor per model input, (n, ...input_shapes()[i]), and
// one per target, (n, ...target_shapes()[j]). Targets are float32 whatever they mean: a class
// label is a whole number (a sparse loss checks that), a one-hot row, a regression value, an
// image to reconstruct.
struct Batch {
    std::vector<Tensor> inputs;
    std::vector<Tensor> targets;

    // The only input / target, for the common one-input, one-target case. Another count is a
    // std::logic_error naming it.
    Tensor& input();
    const Tensor& input() const;
    Tensor& target();
    const Tensor& target() const;
    // Examples in the batch (the first dimension of the first input).
    std::size_t size() const;
};

// A dataset: examples, each of them some input tensors and some target tensors, all float32.
// Implementations are immutable once built, so one dataset may serve several DataLoaders and a
// prefetch thread at once (every method is const). A user's dataset implements the four pure
// methods; a classification dataset also num_classes() and label().
class Dataset {
  public:
    virtual ~Dataset();

    virtual std::size_t size() const = 0;
    // The shape of one example's inputs and targets, without the batch dimension: {{28, 28}}
    // and {{}} (one class label) for Fashion-MNIST, {{30}} and {{1}} for a table with one
    // binary column to predict.
    virtual std::vector<Shape> input_shapes() const = 0;
    virtual std::vector<Shape> target_shapes() const = 0;
    // Gathers examples `indices` (in that order) into `out` (see Batch). Reuses out's buffers
    // when their shapes already match, since a training loop calls this every step (use
    // prepare_batch). Throws std::out_of_range for an index >= size().
    virtual void get_batch(const std::vector<std::size_t>& indices, Batch& out) const = 0;

    // Classification datasets: the number of classes, 0 (the default) for any other dataset.
    virtual std::size_t num_classes() const;
    // One name per class; the default is "0".."n-1".
    virtual std::vector<std::string> class_names() const;
    // The class of example i; the default throws std::logic_error (not a classification set).
    virtual std::int64_t label(std::size_t i) const;

    // The shape of the only input; a std::logic_error when there are several.
    Shape example_shape() const;
    // One example's only input, shaped example_shape() (through get_batch).
    Tensor input(std::size_t i) const;
    // The name of the class of example i.
    std::string class_name_of(std::size_t i) const;
};

// Resizes a batch for n examples of these shapes, keeping the buffers whose shapes match.
// For Dataset implementations.
void prepare_batch(Batch& out, std::size_t n, const std::vector<Shape>& input_shapes,
                   const std::vector<Shape>& target_shapes);

// Throws std::out_of_range naming `who` if any index is >= size.
void check_indices(const std::vector<std::size_t>& indices, std::size_t size, const char* who);

// An in-memory dataset over tensors whose first dimension counts the examples.
class TensorDataset : public Dataset {
  public:
    // Any inputs and float targets (regression, one-hot, multi-label, an autoencoder's images);
    // `targets` may be empty for a dataset to predict on. Throws ShapeError for a tensor without
    // an example dimension or tensors with different numbers of examples, std::invalid_argument
    // for no input at all.
    TensorDataset(std::vector<Tensor> inputs, std::vector<Tensor> targets);
    TensorDataset(Tensor inputs, Tensor targets);
    // A classification dataset: integer labels (N,), kept as a float target (N,).
    // num_classes 0 infers max(label) + 1. Throws ShapeError for mismatched first dimensions or
    // labels that are not 1-D, std::invalid_argument for a negative label or one >= num_classes.
    TensorDataset(Tensor inputs, IndexTensor labels, std::size_t num_classes = 0);

    std::size_t size() const override;
    std::vector<Shape> input_shapes() const override;
    std::vector<Shape> target_shapes() const override;
    std::size_t num_classes() const override;
    std::int64_t label(std::size_t i) const override;
    void get_batch(const std::vector<std::size_t>& indices, Batch& out) const override;

    const std::vector<Tensor>& inputs() const { return inputs_; }
    const std::vector<Tensor>& targets() const { return targets_; }

  private:
    std::vector<Tensor> inputs_;
    std::vector<Tensor> targets_;
    std::size_t num_classes_ = 0;
};

// The examples `indices` of a parent dataset, in that order (repeats allowed).
class Subset : public Dataset {
  public:
    // Throws std::invalid_argument for a null parent, std::out_of_range for an index >= its size.
    Subset(std::shared_ptr<const Dataset> parent, std::vector<std::size_t> indices);

    std::size_t size() const override;
    std::vector<Shape> input_shapes() const override;
    std::vector<Shape> target_shapes() const override;
    std::size_t num_classes() const override;
    std::vector<std::string> class_names() const override;
    std::int64_t label(std::size_t i) const override;
    void get_batch(const std::vector<std::size_t>& indices, Batch& out) const override;

    const std::vector<std::size_t>& indices() const { return indices_; }
    const std::shared_ptr<const Dataset>& parent() const { return parent_; }

  private:
    std::shared_ptr<const Dataset> parent_;
    std::vector<std::size_t> indices_;
};

// A permutation of 0..n-1 that depends only on (seed, stream) and is the same on every platform
// (std::shuffle's algorithm differs between standard libraries, so this one is written out).
std::vector<std::size_t> random_permutation(std::size_t n, std::uint64_t seed,
                                            std::uint64_t stream = 0);

// Splits a dataset into (train, validation) subsets, validation holding
// n - floor(n * (1 - validation_fraction)) examples.
// seed == 0 does what Keras' fit(validation_split=...) does: no shuffling, the LAST fraction of
// the examples is the validation set. Any other seed draws the validation set at random
// (reproducibly from the seed); both subsets keep the original order of their examples.
// Throws std::invalid_argument unless 0 < validation_fraction < 1 and both parts are non-empty.
std::pair<std::shared_ptr<Dataset>, std::shared_ptr<Dataset>> train_validation_split(
    std::shared_ptr<const Dataset> dataset, double validation_fraction, std::uint64_t seed = 0);

}  // namespace xgrad::data
