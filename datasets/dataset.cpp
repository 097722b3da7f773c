#include "datasets/dataset.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <stdexcept>

#include "framework/errors.h"

namespace xgrad::data {

namespace {

Tensor& only(std::vector<Tensor>& tensors, const char* what) {
    if (tensors.size() != 1)
        throw std::logic_error(std::string("Batch: ") + what + "() needs exactly one " + what +
                               ", the batch has " + std::to_string(tensors.size()));
    return tensors[0];
}

// Resizes `t` to (n, ...example) unless it already has that shape.
void prepare_tensor(Tensor& t, std::size_t n, const Shape& example) {
    const auto& s = t.shape();
    const bool same = s.size() == example.size() + 1 && s[0] == n &&
                      std::equal(example.begin(), example.end(), s.begin() + 1);
    if (same) return;
    Shape shape{n};
    shape.insert(shape.end(), example.begin(), example.end());
    t.resize(shape);
}

Shape example_shape_of(const Tensor& t) {
    return Shape(t.shape().begin() + 1, t.shape().end());
}

}  // namespace

Tensor& Batch::input() {
    return only(inputs, "input");
}
const Tensor& Batch::input() const {
    return only(const_cast<std::vector<Tensor>&>(inputs), "input");
}
Tensor& Batch::target() {
    return only(targets, "target");
}
const Tensor& Batch::target() const {
    return only(const_cast<std::vector<Tensor>&>(targets), "target");
}
std::size_t Batch::size() const {
    return inputs.empty() || inputs[0].dimension() == 0 ? 0 : inputs[0].shape()[0];
}

Dataset::~Dataset() = default;

std::size_t Dataset::num_classes() const {
    return 0;
}

std::vector<std::string> Dataset::class_names() const {
    std::vector<std::string> names;
    for (std::size_t c = 0; c < num_classes(); ++c) names.push_back(std::to_string(c));
    return names;
}

std::int64_t Dataset::label(std::size_t i) const {
    throw std::logic_error("label(" + std::to_string(i) +
                           "): this dataset has no class labels (num_classes() is 0)");
}

Shape Dataset::example_shape() const {
    const auto shapes = input_shapes();
    if (shapes.size() != 1)
        throw std::logic_error("example_shape: the dataset has " + std::to_string(shapes.size()) +
                               " inputs, not one; use input_shapes()");
    return shapes[0];
}

Tensor Dataset::input(std::size_t i) const {
    const Shape shape = example_shape();
    Batch b;
    get_batch({i}, b);
    Tensor x = std::move(b.input());
    x.reshape(shape);
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

void prepare_batch(Batch& out, std::size_t n, const std::vector<Shape>& input_shapes,
                   const std::vector<Shape>& target_shapes) {
    out.inputs.resize(input_shapes.size());
    out.targets.resize(target_shapes.size());
    for (std::size_t i = 0; i < input_shapes.size(); ++i)
        prepare_tensor(out.inputs[i], n, input_shapes[i]);
    for (std::size_t i = 0; i < target_shapes.size(); ++i)
        prepare_tensor(out.targets[i], n, target_shapes[i]);
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

TensorDataset::TensorDataset(std::vector<Tensor> inputs, std::vector<Tensor> targets)
    : inputs_(std::move(inputs)), targets_(std::move(targets)) {
    if (inputs_.empty()) throw std::invalid_argument("TensorDataset: no input tensor given");
    auto check = [&](const Tensor& t, const std::string& what) {
        if (t.dimension() < 1)
            throw ShapeError(
                "TensorDataset",
                what + " must have a first (example) dimension, got " + format_shape_of(t));
        if (t.shape()[0] != inputs_[0].shape()[0])
            throw ShapeError("TensorDataset", what + " " + format_shape_of(t) + " and input 0 " +
                                                  format_shape_of(inputs_[0]) +
                                                  " hold different numbers of examples");
    };
    check(inputs_[0], "input 0");
    for (std::size_t i = 1; i < inputs_.size(); ++i)
        check(inputs_[i], "input " + std::to_string(i));
    for (std::size_t i = 0; i < targets_.size(); ++i)
        check(targets_[i], "target " + std::to_string(i));
}

TensorDataset::TensorDataset(Tensor inputs, Tensor targets)
    : TensorDataset(std::vector<Tensor>{std::move(inputs)},
                    std::vector<Tensor>{std::move(targets)}) {}

TensorDataset::TensorDataset(Tensor inputs, IndexTensor labels, std::size_t num_classes)
    : num_classes_(num_classes) {
    if (inputs.dimension() < 1)
        throw ShapeError("TensorDataset", "inputs must have a first (example) dimension, got " +
                                              format_shape_of(inputs));
    if (labels.dimension() != 1)
        throw ShapeError("TensorDataset",
                         "labels must be 1-D, got shape " + format_shape_of(labels));
    if (labels.size() != inputs.shape()[0])
        throw ShapeError("TensorDataset", "inputs " + format_shape_of(inputs) + " and labels " +
                                              format_shape_of(labels) +
                                              " hold different numbers of examples");
    std::int64_t max_label = -1;
    Tensor targets = Tensor::from_shape({labels.size()});
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const std::int64_t c = labels(i);
        if (c < 0)
            throw std::invalid_argument("TensorDataset: label " + std::to_string(c) +
                                        " of example " + std::to_string(i) + " is negative");
        if (num_classes_ != 0 && static_cast<std::size_t>(c) >= num_classes_)
            throw std::invalid_argument("TensorDataset: label " + std::to_string(c) +
                                        " of example " + std::to_string(i) + " is outside 0.." +
                                        std::to_string(num_classes_ - 1));
        max_label = std::max(max_label, c);
        targets(i) = static_cast<float>(c);
    }
    if (num_classes_ == 0) num_classes_ = static_cast<std::size_t>(max_label + 1);
    inputs_.push_back(std::move(inputs));
    targets_.push_back(std::move(targets));
}

std::size_t TensorDataset::size() const {
    return inputs_[0].shape()[0];
}

std::vector<Shape> TensorDataset::input_shapes() const {
    std::vector<Shape> out;
    for (const auto& t : inputs_) out.push_back(example_shape_of(t));
    return out;
}

std::vector<Shape> TensorDataset::target_shapes() const {
    std::vector<Shape> out;
    for (const auto& t : targets_) out.push_back(example_shape_of(t));
    return out;
}

std::size_t TensorDataset::num_classes() const {
    return num_classes_;
}

std::int64_t TensorDataset::label(std::size_t i) const {
    if (num_classes_ == 0) return Dataset::label(i);
    if (i >= size())
        throw std::out_of_range("TensorDataset: index " + std::to_string(i) +
                                " is out of range for " + std::to_string(size()) + " examples");
    return static_cast<std::int64_t>(targets_[0](i));
}

void TensorDataset::get_batch(const std::vector<std::size_t>& indices, Batch& out) const {
    check_indices(indices, size(), "TensorDataset");
    prepare_batch(out, indices.size(), input_shapes(), target_shapes());
    auto gather = [&](const Tensor& from, Tensor& to) {
        const std::size_t stride = shape_size(example_shape_of(from));
        for (std::size_t k = 0; k < indices.size(); ++k)
            std::memcpy(to.data() + k * stride, from.data() + indices[k] * stride,
                        stride * sizeof(float));
    };
    for (std::size_t i = 0; i < inputs_.size(); ++i) gather(inputs_[i], out.inputs[i]);
    for (std::size_t i = 0; i < targets_.size(); ++i) gather(targets_[i], out.targets[i]);
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
std::vector<Shape> Subset::input_shapes() const {
    return parent_->input_shapes();
}
std::vector<Shape> Subset::target_shapes() const {
    return parent_->target_shapes();
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
