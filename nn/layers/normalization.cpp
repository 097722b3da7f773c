#include "nn/layers/normalization.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>
#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "nn/io/layer_registry.h"
#include "ops/elementwise.h"

namespace xgrad::nn {

namespace {

// Per-feature mean and sum of squared deviations, merged batch by batch (Chan et al.'s
// parallel formula), in double so that large or offset data keep their precision.
struct Moments {
    std::vector<double> mean, m2;
    double count = 0;

    explicit Moments(std::size_t features) : mean(features, 0.0), m2(features, 0.0) {}

    // data: (n, ..., features), row-major.
    void add(const Tensor& data) {
        const std::size_t f = mean.size();
        const std::size_t rows = data.size() / f;
        if (rows == 0) return;
        std::vector<double> bmean(f, 0.0), bm2(f, 0.0);
        const float* p = data.data();
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t k = 0; k < f; ++k) bmean[k] += p[r * f + k];
        for (auto& m : bmean) m /= double(rows);
        for (std::size_t r = 0; r < rows; ++r)
            for (std::size_t k = 0; k < f; ++k) {
                const double d = p[r * f + k] - bmean[k];
                bm2[k] += d * d;
            }
        const double n = double(rows), total = count + n;
        for (std::size_t k = 0; k < f; ++k) {
            const double delta = bmean[k] - mean[k];
            mean[k] += delta * n / total;
            m2[k] += bm2[k] + delta * delta * count * n / total;
        }
        count = total;
    }
};

}  // namespace

nlohmann::json Normalization::config() const {
    return {{"axis", -1}};
}

Normalization Normalization::from_config(const LayerConfig& c) {
    const nlohmann::json& axis = c.at("axis");
    if (!axis.is_number_integer() || axis.get<long long>() != -1) {
        throw std::invalid_argument(c.where() + " 'axis' is " + axis.dump() +
                                    "; only -1 (the last axis) is supported");
    }
    return Normalization();
}

std::optional<std::uint64_t> Normalization::weight_count(const Shape& input_shape) const {
    if (input_shape.empty()) return std::nullopt;
    const std::uint64_t n = saturating_product({2, input_shape.back()});
    return n == std::numeric_limits<std::uint64_t>::max() ? n : n + 1;
}

template <class T>
VariableOf<T> normalize(const VariableOf<T>& x, const VariableOf<T>& mean,
                        const VariableOf<T>& variance) {
    // Keras: divide by max(sqrt(variance), backend.epsilon()), epsilon = 1e-7.
    return (x - mean) / maximum(sqrt(variance), VariableOf<T>(T(1e-7)));
}

#define XGRAD_INSTANTIATE(T)                                                     \
    template VariableOf<T> normalize(const VariableOf<T>&, const VariableOf<T>&, \
                                     const VariableOf<T>&);
XGRAD_FOR_EACH_DTYPE(XGRAD_INSTANTIATE)
#undef XGRAD_INSTANTIATE

void Normalization::build(const Shape& input_shape) {
    if (!needs_build(input_shape)) return;
    if (input_shape.empty()) {
        throw ShapeError(name(), "expected input of shape (None, ..., features), got " +
                                     format_batch_shape(input_shape));
    }
    const std::size_t f = input_shape.back();
    mean_ = register_parameter("mean", xt::zeros<float>({f}), false);
    variance_ = register_parameter("variance", xt::ones<float>({f}), false);
    count_ = register_parameter("count", Tensor(0.0f), false);
    Module::build(input_shape);
}

bool Normalization::adapted() const {
    return built() && count_.value()() > 0;
}

void Normalization::start_adapt(const Shape& example_shape, std::size_t examples) {
    build(example_shape);
    if (examples == 0) {
        throw std::invalid_argument("Normalization '" + name() + "': adapt was given no examples");
    }
}

void Normalization::finish_adapt(const std::vector<double>& mean, const std::vector<double>& m2,
                                 double count) {
    for (std::size_t k = 0; k < mean.size(); ++k) {
        if (!std::isfinite(mean[k]) || !std::isfinite(m2[k])) {
            throw std::invalid_argument("Normalization '" + name() +
                                        "': adapt data holds a NaN or infinite value in feature " +
                                        std::to_string(k));
        }
    }
    // In place, so that every handle to the parameters sees the new values.
    Tensor& mean_value = mean_.mutable_value();
    Tensor& variance_value = variance_.mutable_value();
    for (std::size_t k = 0; k < mean.size(); ++k) {
        mean_value(k) = float(mean[k]);
        variance_value(k) = float(m2[k] / count);
    }
    count_.mutable_value()() = float(count);
}

void Normalization::adapt(const Tensor& data) {
    const Shape shape = to_shape(data.shape());
    if (shape.size() < 2) {
        throw ShapeError(name(), "adapt expects data of shape (examples, ..., features), got " +
                                     format_shape(shape));
    }
    start_adapt(Shape(shape.begin() + 1, shape.end()), shape[0]);
    Moments moments(shape.back());
    moments.add(data);
    finish_adapt(moments.mean, moments.m2, moments.count);
}

void Normalization::adapt(const data::Dataset& dataset, std::size_t batch_size) {
    const auto shapes = dataset.input_shapes();
    if (shapes.size() != 1) {
        throw std::invalid_argument("Normalization '" + name() +
                                    "': adapt needs a dataset with one input, this one has " +
                                    std::to_string(shapes.size()));
    }
    if (batch_size == 0) {
        throw std::invalid_argument("Normalization '" + name() + "': adapt batch size is 0");
    }
    if (shapes[0].empty()) {
        throw ShapeError(name(), "adapt expects examples of shape (..., features), got " +
                                     format_batch_shape(shapes[0]));
    }
    start_adapt(shapes[0], dataset.size());
    Moments moments(shapes[0].back());
    data::Batch batch;
    std::vector<std::size_t> indices;
    for (std::size_t start = 0; start < dataset.size(); start += batch_size) {
        indices.clear();
        for (std::size_t i = start; i < std::min(start + batch_size, dataset.size()); ++i)
            indices.push_back(i);
        dataset.get_batch(indices, batch);
        moments.add(batch.input());
    }
    finish_adapt(moments.mean, moments.m2, moments.count);
}

Variable Normalization::forward(const Variable& x) {
    const Shape shape = x.shape();
    if (!built()) build(Shape(shape.begin() + (shape.empty() ? 0 : 1), shape.end()));
    check_input_shape(shape);
    return normalize(x, mean_, variance_);
}

}  // namespace xgrad::nn
