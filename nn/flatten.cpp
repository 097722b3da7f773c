#include "nn/flatten.h"

#include "ops/shape.h"

namespace xgrad::nn {

Variable Flatten::forward(const Variable& x) {
    // A batch of scalars becomes (batch, 1), as in Keras.
    if (x.ndim() == 1) return reshape(x, {-1, 1});
    return flatten(x, 1);
}

Shape Flatten::output_shape(const Shape& input_shape) const {
    return {shape_size(input_shape)};
}

}  // namespace xgrad::nn
