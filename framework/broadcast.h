// Numpy-style broadcasting: the result shape of a binary op, and the reduction of a
// broadcast gradient back to the shape of the input it came from.
#pragma once

#include "framework/tensor.h"

namespace xgrad {

// The broadcast shape of a and b; throws ShapeError naming `op` and both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

// Sums `grad` over the dimensions that broadcasting added or stretched, so that the result
// has `shape`. Every broadcasting op reduces its input gradients through this one helper.
template <class T>
TensorOf<T> sum_to(TensorOf<T> grad, const Shape& shape);

}  // namespace xgrad
