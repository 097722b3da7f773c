#include "nn/layers/pooling.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "framework/errors.h"
#include "nn/io/layer_registry.h"
#include "ops/pool.h"

namespace xgrad::nn {

Pooling2D::Pooling2D(Size2 pool_size, Size2 strides, std::string padding)
    : pool_size_(pool_size),
      strides_(strides[0] == 0 && strides[1] == 0 ? pool_size : strides),
      padding_(std::move(padding)) {
    if (pool_size_[0] == 0 || pool_size_[1] == 0 || strides_[0] == 0 || strides_[1] == 0) {
        throw std::invalid_argument(
            "Pooling2D: pool_size and strides must be positive, got pool_size (" +
            std::to_string(pool_size_[0]) + ", " + std::to_string(pool_size_[1]) +
            ") and strides (" + std::to_string(strides_[0]) + ", " + std::to_string(strides_[1]) +
            ")");
    }
    check_padding_name("Pooling2D", padding_);
}

nlohmann::json Pooling2D::config() const {
    return {{"pool_size", pool_size_}, {"strides", strides_}, {"padding", padding_}};
}

MaxPooling2D MaxPooling2D::from_config(const LayerConfig& c) {
    return MaxPooling2D(c.pair("pool_size"), c.pair("strides"), c.string("padding"));
}

AveragePooling2D AveragePooling2D::from_config(const LayerConfig& c) {
    return AveragePooling2D(c.pair("pool_size"), c.pair("strides"), c.string("padding"));
}

void Pooling2D::check_rank(const Shape& input_shape) const {
    if (input_shape.size() != 3) {
        throw ShapeError(name(), "expected input of shape (None, height, width, channels), got " +
                                     format_batch_shape(input_shape));
    }
}

Shape Pooling2D::output_shape(const Shape& input_shape) const {
    check_rank(input_shape);
    const WindowAxis h = window_axis(input_shape[0], pool_size_[0], strides_[0], 1, padding_);
    const WindowAxis w = window_axis(input_shape[1], pool_size_[1], strides_[1], 1, padding_);
    if (padding_ == "valid" && (h.out == 0 || w.out == 0)) {
        throw ShapeError(name(), "input " + format_batch_shape(input_shape) +
                                     " is smaller than the pool size (" +
                                     std::to_string(pool_size_[0]) + ", " +
                                     std::to_string(pool_size_[1]) + ")");
    }
    return {h.out, w.out, input_shape[2]};
}

Variable MaxPooling2D::forward(const Variable& x) {
    return max_pool2d(x, pool_size_, strides_, padding_);
}

Variable AveragePooling2D::forward(const Variable& x) {
    return avg_pool2d(x, pool_size_, strides_, padding_);
}

}  // namespace xgrad::nn
