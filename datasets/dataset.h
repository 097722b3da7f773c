// The Dataset interface a user implements for their own data, an in-memory dataset over tensors,
// subsets, and a train/validation split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "framework/tensor.h"

namespace xgrad::data {

// A gathered batch: inputs (n, ...example_shape) float32 and labels (n,).
struct Batch {
    Tensor inputs;
    IndexTensor labels;
};

// A labelled classification dataset. Implementations are immutable once built, so one dataset
// may serve several DataLoaders and a prefetch thread at once (every method is const).
class Dataset {
  public:
    virtual ~Dataset();

    virtual std::size_t size() const = 0;
    // Shape of one input, e.g. {28, 28}.
    virtual Shape example_shape() const = 0;
    virtual std::size_t num_classes() const = 0;
    // One name per class; the default is "0".."n-1".
    virtual std::vector<std::string> class_names() const;
    virtual std::int64_t label(std::size_t i) const = 0;
    // Gathers examples `indices` (in that order) into `out`: inputs (n, ...example_shape) and
    // labels (n,). Reuses out's buffers when their shapes already match, since a training loop
    // calls this every step. Throws std::out_of_range for an index >= size().
    virtual void get_batch(const std::vector<std::size_t>& indices, Batch& out) const = 0;

    // One example's input, shaped example_shape() (through get_batch).
    Tensor input(std::size_t i) const;
    // The name of the class of example i.
    std::string class_name_of(std::size_t i) const;
};

// Resizes a batch for n examples of `example_shape`, keeping the buffers when the shapes match.
// For Dataset implementations.
void prepare_batch(Batch& out, std::size_t n, const Shape& example_shape);

// Throws std::out_of_range naming `who` if any index is >= size.
void check_indices(const std::vector<std::size_t>& indices, std::size_t size, const char* who);

// An in-memory dataset over an input tensor (N, ...) and labels (N,).
class TensorDataset : public Dataset {
  public:
    // num_classes 0 infers max(label) + 1. Throws ShapeError for mismatched first dimensions or
    // labels that are not 1-D, std::invalid_argument for a negative label or one >= num_classes.
    TensorDataset(Tensor inputs, IndexTensor labels, std::size_t num_classes = 0);

    std::size_t size() const override;
    Shape example_shape() const override;
    std::size_t num_classes() const override;
    std::int64_t label(std::size_t i) const override;
    void get_batch(const std::vector<std::size_t>& indices, Batch& out) const override;

    const Tensor& inputs() const { return inputs_; }
    const IndexTensor& labels() const { return labels_; }

  private:
    Tensor inputs_;
    IndexTensor labels_;
    std::size_t num_classes_;
};

// The examples `indices` of a parent dataset, in that order (repeats allowed).
class Subset : public Dataset {
  public:
    // Throws std::invalid_argument for a null parent, std::out_of_range for an index >= its size.
    Subset(std::shared_ptr<const Dataset> parent, std::vector<std::size_t> indices);

    std::size_t size() const override;
    Shape example_shape() const override;
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
