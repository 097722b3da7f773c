#include "nn/layers/reshape_layer.h"

#include <nlohmann/json.hpp>

#include "framework/errors.h"
#include "nn/io/layer_registry.h"
#include "ops/shape.h"

namespace xgrad::nn {

nlohmann::json Reshape::config() const {
    return {{"target_shape", target_}};
}

Reshape Reshape::from_config(const LayerConfig& c) {
    return Reshape(c.shape("target_shape"));
}

Shape Reshape::output_shape(const Shape& input_shape) const {
    if (shape_size(input_shape) != shape_size(target_)) {
        throw ShapeError(name(), "cannot reshape input " + format_batch_shape(input_shape) +
                                     " to " + format_batch_shape(target_) + " (" +
                                     std::to_string(shape_size(input_shape)) + " != " +
                                     std::to_string(shape_size(target_)) + " values per example)");
    }
    return target_;
}

Variable Reshape::forward(const Variable& x) {
    const Shape shape = x.shape();
    output_shape(Shape(shape.begin() + 1, shape.end()));
    std::vector<long> full{static_cast<long>(shape[0])};
    for (auto d : target_) full.push_back(static_cast<long>(d));
    return reshape(x, full);
}

}  // namespace xgrad::nn
