// Axes as the ops take them: a negative axis counts from the end, and a tensor is seen as
// (outer, n, inner) around one axis, so that element (o, i, j) sits at o * n * inner + i * inner
// + j in row-major order and an op along the axis is three plain loops.
#pragma once

#include <cstddef>

#include "framework/tensor.h"

namespace xgrad {

// `axis` in 0..rank-1 (0..rank with `extra`, for ops that insert a dimension); otherwise a
// ShapeError naming the op, the axis and the shape.
std::size_t normalize_axis(const char* op, int axis, const Shape& shape, bool extra = false);

struct AxisBlocks {
    std::size_t outer = 1, n = 1, inner = 1;
};

// `shape` around the (normalized) `axis`.
AxisBlocks around_axis(const Shape& shape, std::size_t axis);

// Calls f(base) once per slice along the axis; the slice's elements sit at base + i * inner
// for i < n.
template <class F>
void for_each_slice(const AxisBlocks& b, F&& f) {
    for (std::size_t o = 0; o < b.outer; ++o) {
        for (std::size_t j = 0; j < b.inner; ++j) f(o * b.n * b.inner + j);
    }
}

}  // namespace xgrad
