#include "ops/axis.h"

#include <string>

#include "framework/errors.h"

namespace xgrad {

std::size_t normalize_axis(const char* op, int axis, const Shape& shape, bool extra) {
    const long r = static_cast<long>(shape.size()) + (extra ? 1 : 0);
    const long n = axis < 0 ? axis + r : axis;
    if (n < 0 || n >= r) {
        throw ShapeError(op, "axis " + std::to_string(axis) + " is out of range for shape " +
                                 format_shape(shape));
    }
    return static_cast<std::size_t>(n);
}

AxisBlocks around_axis(const Shape& shape, std::size_t axis) {
    AxisBlocks b;
    for (std::size_t i = 0; i < axis; ++i) b.outer *= shape[i];
    b.n = shape[axis];
    for (std::size_t i = axis + 1; i < shape.size(); ++i) b.inner *= shape[i];
    return b;
}

}  // namespace xgrad
