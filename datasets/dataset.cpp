#include "datasets/dataset.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <stdexcept>

#include "framework/errors.h"

namespace xgrad::data {

Dataset::~Dataset() = default;

std::vector<std::string> Dataset::class_names() const {
    std::vector<std::string> names;
    for (std::size_t c = 0; c < num_classes(); ++c) names.push_back(std::to_string(c));
    return names;
}

Tensor Dataset::input(std::size_t i) const {
    Batch b;
    get_batch({i}, b);
    Tensor x = std::move(b.inputs);
    x.reshape(example_shape());
    return x;
}

std::string Dataset::class_name_of(std::size_t i) const {
    const auto names = class_names();
    const auto c = label(i);
    if (c < 0 || static_cast<std::size_t>(c) >= names.size())
        throw std::out_of_range("class_name_of: label " + std::to_string(c) + " of example " +
                                std::to_string(i) + " has no name (" +
                                std::to_string(names.size()) + " class names)");
    return names[static_cast<std::size_t>(c)];
}

void prepare_batch(Batch& out, std::size_t n, const Shape& example_shape) {
    const auto& s = out.inputs.shape();
    const bool same = s.size() == example_shape.size() + 1 && s[0] == n &&
                      std::equal(example_shape.begin(), example_shape.end(), s.begin() + 1);
    if (!same) {
        Shape shape{n};
        shape.insert(shape.end(), example_shape.begin(), example_shape.end());
        out.inputs.resize(shape);
    }
    if (out.labels.dimension() != 1 || out.labels.shape()[0] != n) out.labels.resize(Shape{n});
}

void check_indices(const std::vector<std::size_t>& indices, std::size_t size, const char* who) {
    for (std::size_t k = 0; k < indices.size(); ++k)
        if (indices[k] >= size)
            throw std::out_of_range(std::string(who) + ": index " + std::to_string(indices[k]) +
                                    " (position " + std::to_string(k) +
                                    " of the batch) is out of range for " + std::to_string(size) +
                                    " examples");
}

// ---- TensorDataset ----

TensorDataset::TensorDataset(Tensor inputs, IndexTensor labels, std::size_t num_classes)
    : inputs_(std::move(inputs)), labels_(std::move(labels)), num_classes_(num_classes) {
    if (inputs_.dimension() < 1)
        throw ShapeError("TensorDataset", "inputs must have a first (example) dimension, got " +
                                              format_shape_of(inputs_));
    if (labels_.dimension() != 1)
        throw ShapeError("TensorDataset",
                         "labels must be 1-D, got shape " + format_shape_of(labels_));
    if (labels_.size() != inputs_.shape()[0])
        throw ShapeError("TensorDataset", "inputs " + format_shape_of(inputs_) + " and labels " +
                                              format_shape_of(labels_) +
                                              " hold different numbers of examples");
    std::int64_t max_label = -1;
    for (std::size_t i = 0; i < labels_.size(); ++i) {
        const std::int64_t c = labels_(i);
        if (c < 0)
            throw std::invalid_argument("TensorDataset: label " + std::to_string(c) +
                                        " of example " + std::to_string(i) + " is negative");
        if (num_classes_ != 0 && static_cast<std::size_t>(c) >= num_classes_)
            throw std::invalid_argument("TensorDataset: label " + std::to_string(c) +
                                        " of example " + std::to_string(i) + " is outside 0.." +
                                        std::to_string(num_classes_ - 1));
        max_label = std::max(max_label, c);
    }
    if (num_classes_ == 0) num_classes_ = static_cast<std::size_t>(max_label + 1);
}

std::size_t TensorDataset::size() const {
    return labels_.size();
}

Shape TensorDataset::example_shape() const {
    return Shape(inputs_.shape().begin() + 1, inputs_.shape().end());
}

std::size_t TensorDataset::num_classes() const {
    return num_classes_;
}

std::int64_t TensorDataset::label(std::size_t i) const {
    if (i >= size())
        throw std::out_of_range("TensorDataset: index " + std::to_string(i) +
                                " is out of range for " + std::to_string(size()) + " examples");
    return labels_(i);
}

void TensorDataset::get_batch(const std::vector<std::size_t>& indices, Batch& out) const {
    check_indices(indices, size(), "TensorDataset");
    prepare_batch(out, indices.size(), example_shape());
    const std::size_t stride = shape_size(example_shape());
    for (std::size_t k = 0; k < indices.size(); ++k) {
        std::memcpy(out.inputs.data() + k * stride, inputs_.data() + indices[k] * stride,
                    stride * sizeof(float));
        out.labels(k) = labels_(indices[k]);
    }
}

// ---- Subset ----

Subset::Subset(std::shared_ptr<const Dataset> parent, std::vector<std::size_t> indices)
    : parent_(std::move(parent)), indices_(std::move(indices)) {
    if (!parent_) throw std::invalid_argument("Subset: the parent dataset is null");
    check_indices(indices_, parent_->size(), "Subset");
}

std::size_t Subset::size() const {
    return indices_.size();
}
Shape Subset::example_shape() const {
    return parent_->example_shape();
}
std::size_t Subset::num_classes() const {
    return parent_->num_classes();
}
std::vector<std::string> Subset::class_names() const {
    return parent_->class_names();
}

std::int64_t Subset::label(std::size_t i) const {
    if (i >= size())
        throw std::out_of_range("Subset: index " + std::to_string(i) + " is out of range for " +
                                std::to_string(size()) + " examples");
    return parent_->label(indices_[i]);
}

void Subset::get_batch(const std::vector<std::size_t>& indices, Batch& out) const {
    check_indices(indices, size(), "Subset");
    std::vector<std::size_t> mapped(indices.size());
    for (std::size_t k = 0; k < indices.size(); ++k) mapped[k] = indices_[indices[k]];
    parent_->get_batch(mapped, out);
}

// ---- shuffling and splitting ----

namespace {
// Uniform in [0, n) without modulo bias: reject the first 2^64 mod n raw values.
std::uint64_t uniform_below(std::mt19937_64& g, std::uint64_t n) {
    const std::uint64_t threshold = (0 - n) % n;
    for (;;) {
        const std::uint64_t x = g();
        if (x >= threshold) return x % n;
    }
}
}  // namespace

std::vector<std::size_t> random_permutation(std::size_t n, std::uint64_t seed,
                                            std::uint64_t stream) {
    std::vector<std::size_t> p(n);
    for (std::size_t i = 0; i < n; ++i) p[i] = i;
    // seed_seq's mixing is specified by the standard, so the sequence is portable.
    std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                      static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32)};
    std::mt19937_64 g(seq);
    for (std::size_t i = n; i > 1; --i) std::swap(p[i - 1], p[uniform_below(g, i)]);
    return p;
}

std::pair<std::shared_ptr<Dataset>, std::shared_ptr<Dataset>> train_validation_split(
    std::shared_ptr<const Dataset> dataset, double validation_fraction, std::uint64_t seed) {
    if (!dataset) throw std::invalid_argument("train_validation_split: the dataset is null");
    if (!(validation_fraction > 0.0 && validation_fraction < 1.0))
        throw std::invalid_argument(
            "train_validation_split: validation_fraction must be in (0, "
            "1), got " +
            std::to_string(validation_fraction));
    const std::size_t n = dataset->size();
    // Keras: split_at = int(n * (1 - validation_split)).
    const auto n_train =
        static_cast<std::size_t>(static_cast<double>(n) * (1.0 - validation_fraction));
    if (n_train == 0 || n_train == n)
        throw std::invalid_argument("train_validation_split: validation_fraction " +
                                    std::to_string(validation_fraction) + " of " +
                                    std::to_string(n) + " examples leaves an empty " +
                                    (n_train == 0 ? "training" : "validation") + " set");
    std::vector<std::size_t> train, validation;
    if (seed == 0) {
        for (std::size_t i = 0; i < n; ++i) (i < n_train ? train : validation).push_back(i);
    } else {
        std::vector<bool> in_validation(n, false);
        const auto p = random_permutation(n, seed);
        for (std::size_t k = n_train; k < n; ++k) in_validation[p[k]] = true;
        for (std::size_t i = 0; i < n; ++i) (in_validation[i] ? validation : train).push_back(i);
    }
    return {std::make_shared<Subset>(dataset, std::move(train)),
            std::make_shared<Subset>(dataset, std::move(validation))};
}

}  // namespace xgrad::data
