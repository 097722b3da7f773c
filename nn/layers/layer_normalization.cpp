#include "nn/layers/layer_normalization.h"

#include <stdexcept>

#include <fmt/format.h>
#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "nn/io/layer_registry.h"
#include "ops/layer_norm.h"

namespace xgrad::nn {

LayerNormalization::LayerNormalization(double epsilon, bool center, bool scale)
    : epsilon_(epsilon), center_(center), scale_(scale) {
    if (!(epsilon > 0)) {
        throw std::invalid_argument(
            fmt::format("LayerNormalization: epsilon must be positive, got {}", epsilon));
    }
}

void LayerNormalization::build(const Shape& input_shape) {
    if (!needs_build(input_shape)) return;
    if (input_shape.empty() || input_shape.back() == 0) {
        throw ShapeError(name(), "expected input of shape (None, ..., features), got " +
                                     format_batch_shape(input_shape));
    }
    const std::size_t n = input_shape.back();
    if (scale_) gamma_ = register_parameter("gamma", xt::ones<float>({n}));
    if (center_) beta_ = register_parameter("beta", xt::zeros<float>({n}));
    ones_ = Variable(xt::ones<float>({n}));
    zeros_ = Variable(xt::zeros<float>({n}));
    Module::build(input_shape);
}

nlohmann::json LayerNormalization::config() const {
    return {{"epsilon", epsilon_}, {"center", center_}, {"scale", scale_}};
}

LayerNormalization LayerNormalization::from_config(const LayerConfig& c) {
    return LayerNormalization(c.number("epsilon"), c.boolean("center"), c.boolean("scale"));
}

std::optional<std::uint64_t> LayerNormalization::weight_count(const Shape& input_shape) const {
    if (input_shape.empty()) return std::nullopt;
    return saturating_product({input_shape.back(), std::uint64_t(center_) + std::uint64_t(scale_)});
}

Variable LayerNormalization::forward(const Variable& x) {
    const Shape shape = x.shape();
    if (!built()) build(Shape(shape.begin() + (shape.empty() ? 0 : 1), shape.end()));
    check_input_shape(shape);
    return layer_norm(x, scale_ ? gamma_ : ones_, center_ ? beta_ : zeros_, epsilon_);
}

}  // namespace xgrad::nn
