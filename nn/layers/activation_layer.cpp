#include "nn/layers/activation_layer.h"

#include "ops/activation.h"

namespace xgrad::nn {

Activation::Activation(std::string name) : activation_(std::move(name)) {
    check_activation_name(activation_);
}

Variable Activation::forward(const Variable& x) {
    return activation_ == "linear" ? x : activate(activation_, x);
}

}  // namespace xgrad::nn
