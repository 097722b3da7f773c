// Reductions over a set of axes, with keepdims.
#pragma once

#include <vector>

#include "framework/variable.h"

namespace xgrad {

// Axes may be negative (counted from the end); an empty list reduces over every axis.
using Axes = std::vector<int>;

template <class T>
VariableOf<T> sum(const VariableOf<T>& x, const Axes& axes = {}, bool keepdims = false);

// The axes normalised to 0..rank-1, sorted and unique; an empty list means all axes.
// Throws ShapeError naming `op` for an axis out of range.
std::vector<std::size_t> normalize_axes(const char* op, const Axes& axes, std::size_t rank);

// The shape of a reduction over `axes` (normalised) kept as size-1 dimensions.
Shape keepdims_shape(const Shape& shape, const std::vector<std::size_t>& axes);

}  // namespace xgrad
