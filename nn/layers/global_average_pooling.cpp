#include "nn/layers/global_average_pooling.h"

#include "framework/errors.h"
#include "ops/reduce.h"

namespace xgrad::nn {

Shape GlobalAveragePooling1D::output_shape(const Shape& input_shape) const {
    if (input_shape.size() != 2) {
        throw ShapeError(name(), "expected input of shape (None, steps, features), got " +
                                     format_batch_shape(input_shape));
    }
    return {input_shape[1]};
}

Variable GlobalAveragePooling1D::forward(const Variable& x) {
    const Shape shape = x.shape();
    output_shape(Shape(shape.begin() + 1, shape.end()));
    return mean(x, {1});
}

Shape GlobalAveragePooling2D::output_shape(const Shape& input_shape) const {
    if (input_shape.size() != 3) {
        throw ShapeError(name(), "expected input of shape (None, height, width, channels), got " +
                                     format_batch_shape(input_shape));
    }
    return {input_shape[2]};
}

Variable GlobalAveragePooling2D::forward(const Variable& x) {
    const Shape shape = x.shape();
    output_shape(Shape(shape.begin() + 1, shape.end()));
    return mean(x, {1, 2});
}

}  // namespace xgrad::nn
