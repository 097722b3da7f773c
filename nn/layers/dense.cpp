#include "nn/layers/dense.h"

#include <stdexcept>

#include <nlohmann/json.hpp>
#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "nn/io/layer_registry.h"
#include "nn/layers/initializers.h"
#include "ops/activation.h"
#include "ops/linalg.h"

namespace xgrad::nn {

Dense::Dense(std::size_t units, std::string activation, bool use_bias,
             std::string kernel_initializer)
    : units_(units),
      activation_(activation.empty() || activation == "none" ? "linear" : std::move(activation)),
      use_bias_(use_bias),
      kernel_initializer_(std::move(kernel_initializer)) {
    if (units_ == 0) throw std::invalid_argument("Dense: units must be positive, got 0");
    check_activation_name(activation_);
    check_initializer_name(kernel_initializer_);
}

void Dense::check_rank(const Shape& input_shape) const {
    if (input_shape.empty()) {
        throw ShapeError(name(), "expected input of shape (None, ..., features), got " +
                                     format_batch_shape(input_shape));
    }
}

void Dense::build(const Shape& input_shape) {
    if (!needs_build(input_shape)) return;
    check_rank(input_shape);
    const std::size_t in = input_shape.back();
    if (in == 0) throw ShapeError(name(), "expected at least one input feature, got 0");
    kernel_ =
        register_parameter("kernel", initialize(kernel_initializer_, {in, units_}, in, units_));
    if (use_bias_) bias_ = register_parameter("bias", xt::zeros<float>({units_}));
    Module::build(input_shape);
}

Shape Dense::output_shape(const Shape& input_shape) const {
    check_rank(input_shape);
    Shape out = input_shape;
    out.back() = units_;
    return out;
}

nlohmann::json Dense::config() const {
    return {{"units", units_},
            {"activation", activation_},
            {"use_bias", use_bias_},
            {"kernel_initializer", kernel_initializer_}};
}

Dense Dense::from_config(const LayerConfig& c) {
    return Dense(c.count("units"), c.string("activation"), c.boolean("use_bias"),
                 c.string("kernel_initializer"));
}

std::optional<std::uint64_t> Dense::weight_count(const Shape& input_shape) const {
    if (input_shape.empty()) return std::nullopt;
    return saturating_product({std::uint64_t{input_shape.back()} + (use_bias_ ? 1 : 0), units_});
}

Variable Dense::forward_linear(const Variable& x) {
    const Shape shape = x.shape();
    if (!built()) build(Shape(shape.begin() + (shape.empty() ? 0 : 1), shape.end()));
    check_input_shape(shape);
    return linear(x, kernel_, bias_);
}

Variable Dense::forward(const Variable& x) {
    const Variable y = forward_linear(x);
    return activation_ == "linear" ? y : activate(activation_, y);
}

}  // namespace xgrad::nn
