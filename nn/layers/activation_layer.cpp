#include "nn/layers/activation_layer.h"

#include <nlohmann/json.hpp>

#include "nn/io/layer_registry.h"
#include "ops/activation.h"

namespace xgrad::nn {

Activation::Activation(std::string name) : activation_(std::move(name)) {
    check_activation_name(activation_);
}

nlohmann::json Activation::config() const {
    return {{"activation", activation_}};
}

Activation Activation::from_config(const LayerConfig& c) {
    return Activation(c.string("activation"));
}

Variable Activation::forward(const Variable& x) {
    return activation_ == "linear" ? x : activate(activation_, x);
}

}  // namespace xgrad::nn
