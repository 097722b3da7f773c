#include "nn/layers/merge.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "framework/errors.h"
#include "nn/io/layer_registry.h"
#include "ops/elementwise.h"
#include "ops/shape.h"

namespace xgrad::nn {

namespace {

std::string format_shapes(const std::vector<Shape>& shapes) {
    std::string out;
    for (const auto& s : shapes) out += (out.empty() ? "" : ", ") + format_batch_shape(s);
    return out;
}

}  // namespace

void Merge::check_count(std::size_t n) const {
    const bool pair_only = type_name() == "Subtract";
    if (n < 2 || (pair_only && n != 2)) {
        throw std::invalid_argument(name() + " (" + type_name() + ") needs " +
                                    (pair_only ? "exactly 2" : "at least 2") + " inputs, got " +
                                    std::to_string(n));
    }
}

Shape Merge::merged_shape(const std::vector<Shape>& input_shapes) const {
    for (const auto& s : input_shapes) {
        if (s != input_shapes[0]) {
            throw ShapeError(name(),
                             "inputs must have one shape, got " + format_shapes(input_shapes));
        }
    }
    return input_shapes[0];
}

void Merge::build(const std::vector<Shape>& input_shapes) {
    check_count(input_shapes.size());
    merged_shape(input_shapes);
    Module::build(input_shapes);
}

std::vector<Shape> Merge::output_shapes(const std::vector<Shape>& input_shapes) const {
    check_count(input_shapes.size());
    return {merged_shape(input_shapes)};
}

std::vector<Variable> Merge::forward(const std::vector<Variable>& inputs) {
    check_count(inputs.size());
    std::vector<Shape> shapes;
    for (const auto& x : inputs) {
        const Shape s = x.shape();
        if (s.empty()) throw ShapeError(name(), "expected inputs with a batch dimension");
        if (s[0] != inputs[0].shape()[0]) {
            throw ShapeError(name(), "inputs have different batch sizes");
        }
        shapes.emplace_back(s.begin() + 1, s.end());
    }
    merged_shape(shapes);
    return {merge(inputs)};
}

Variable Add::merge(const std::vector<Variable>& inputs) const {
    Variable y = inputs[0];
    for (std::size_t i = 1; i < inputs.size(); ++i) y = y + inputs[i];
    return y;
}

Variable Subtract::merge(const std::vector<Variable>& inputs) const {
    return inputs[0] - inputs[1];
}

Variable Multiply::merge(const std::vector<Variable>& inputs) const {
    Variable y = inputs[0];
    for (std::size_t i = 1; i < inputs.size(); ++i) y = y * inputs[i];
    return y;
}

Variable Average::merge(const std::vector<Variable>& inputs) const {
    Variable y = inputs[0];
    for (std::size_t i = 1; i < inputs.size(); ++i) y = y + inputs[i];
    return y * (1.f / static_cast<float>(inputs.size()));
}

Variable Maximum::merge(const std::vector<Variable>& inputs) const {
    Variable y = inputs[0];
    for (std::size_t i = 1; i < inputs.size(); ++i) y = maximum(y, inputs[i]);
    return y;
}

nlohmann::json Concatenate::config() const {
    return {{"axis", axis_}};
}

Concatenate Concatenate::from_config(const LayerConfig& c) {
    const nlohmann::json& axis = c.at("axis");
    if (!axis.is_number_integer()) {
        throw std::invalid_argument(c.where() + " 'axis' is not an integer");
    }
    return Concatenate(axis.get<int>());
}

std::size_t Concatenate::example_axis(std::size_t rank) const {
    const long r = static_cast<long>(rank);
    const long a = axis_ < 0 ? axis_ + r : axis_ - 1;  // a positive axis counts the batch axis
    if (a < 0 || a >= r) {
        throw ShapeError(name(), "axis " + std::to_string(axis_) +
                                     " is out of range for inputs of rank " +
                                     std::to_string(rank + 1));
    }
    return static_cast<std::size_t>(a);
}

Shape Concatenate::merged_shape(const std::vector<Shape>& input_shapes) const {
    const std::size_t axis = example_axis(input_shapes[0].size());
    Shape out = input_shapes[0];
    out[axis] = 0;
    for (const auto& s : input_shapes) {
        Shape a = s, b = input_shapes[0];
        if (s.size() == b.size()) a[axis] = b[axis] = 0;
        if (a != b) {
            throw ShapeError(name(), "inputs must agree on every axis but " +
                                         std::to_string(axis_) + ", got " +
                                         format_shapes(input_shapes));
        }
        out[axis] += s[axis];
    }
    return out;
}

Variable Concatenate::merge(const std::vector<Variable>& inputs) const {
    const std::size_t axis = example_axis(inputs[0].shape().size() - 1);
    return concat(inputs, static_cast<int>(axis + 1));
}

}  // namespace xgrad::nn
