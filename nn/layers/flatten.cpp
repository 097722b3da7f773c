#include "nn/layers/flatten.h"

#include "framework/errors.h"
#include "ops/shape.h"

namespace xgrad::nn {

Variable Flatten::forward(const Variable& x) {
    // A batch of scalars becomes (batch, 1), as in Keras.
    if (x.ndim() == 1) return reshape(x, {-1, 1});
    return flatten(x, 1);
}

Shape Flatten::output_shape(const Shape& input_shape) const {
    std::size_t n = 1;
    for (auto d : input_shape) {
        if (__builtin_mul_overflow(n, d, &n)) {
            throw ShapeError(name(), "input shape " + format_batch_shape(input_shape) +
                                         " has more elements than fit in a size_t");
        }
    }
    return {n};
}

}  // namespace xgrad::nn
