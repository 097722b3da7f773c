#include "nn/layers/batch_normalization.h"

#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <xtensor/xbuilder.hpp>

#include "framework/errors.h"
#include "framework/grad_mode.h"
#include "nn/io/layer_registry.h"
#include "ops/batch_norm.h"

namespace xgrad::nn {

BatchNormalization::BatchNormalization(double momentum, double epsilon)
    : momentum_(momentum), epsilon_(epsilon) {
    if (!(momentum >= 0.0 && momentum <= 1.0)) {
        throw std::invalid_argument(
            fmt::format("BatchNormalization: momentum must be in [0, 1], got {}", momentum));
    }
    if (!(epsilon > 0.0)) {
        throw std::invalid_argument(
            fmt::format("BatchNormalization: epsilon must be positive, got {}", epsilon));
    }
}

nlohmann::json BatchNormalization::config() const {
    return {{"momentum", momentum_}, {"epsilon", epsilon_}};
}

BatchNormalization BatchNormalization::from_config(const LayerConfig& c) {
    return BatchNormalization(c.number("momentum"), c.number("epsilon"));
}

std::optional<std::uint64_t> BatchNormalization::weight_count(const Shape& input_shape) const {
    if (input_shape.empty()) return std::nullopt;
    return saturating_product({4, input_shape.back()});
}

void BatchNormalization::build(const Shape& input_shape) {
    if (!needs_build(input_shape)) return;
    if (input_shape.empty()) {
        throw ShapeError(name(), "expected input of shape (None, ..., channels), got " +
                                     format_batch_shape(input_shape));
    }
    const std::size_t c = input_shape.back();
    gamma_ = register_parameter("gamma", xt::ones<float>({c}));
    beta_ = register_parameter("beta", xt::zeros<float>({c}));
    moving_mean_ = register_parameter("moving_mean", xt::zeros<float>({c}), false);
    moving_variance_ = register_parameter("moving_variance", xt::ones<float>({c}), false);
    Module::build(input_shape);
}

Variable BatchNormalization::forward(const Variable& x) {
    const Shape shape = x.shape();
    if (!built()) build(Shape(shape.begin() + (shape.empty() ? 0 : 1), shape.end()));
    check_input_shape(shape);
    if (!is_training()) {
        return batch_norm_inference(x, gamma_, beta_, moving_mean_.value(),
                                    moving_variance_.value(), epsilon_);
    }
    Tensor mean, variance;
    Variable y = batch_norm(x, gamma_, beta_, epsilon_, &mean, &variance);
    // Running averages, updated in place so that every handle sees them.
    const float m = float(momentum_);
    Tensor& mm = moving_mean_.mutable_value();
    Tensor& mv = moving_variance_.mutable_value();
    for (std::size_t k = 0; k < mm.size(); ++k) {
        mm(k) = mm(k) * m + mean(k) * (1.0f - m);
        mv(k) = mv(k) * m + variance(k) * (1.0f - m);
    }
    return y;
}

}  // namespace xgrad::nn
