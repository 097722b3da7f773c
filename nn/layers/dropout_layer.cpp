#include "nn/layers/dropout_layer.h"

#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "nn/io/layer_registry.h"
#include "ops/dropout.h"

namespace xgrad::nn {

Dropout::Dropout(double rate) : rate_(rate) {
    if (!(rate >= 0.0 && rate < 1.0)) {
        throw std::invalid_argument(fmt::format("Dropout: rate must be in [0, 1), got {}", rate));
    }
}

nlohmann::json Dropout::config() const {
    return {{"rate", rate_}};
}

Dropout Dropout::from_config(const LayerConfig& c) {
    return Dropout(c.number("rate"));
}

Variable Dropout::forward(const Variable& x) {
    return dropout(x, rate_, is_training());
}

}  // namespace xgrad::nn
