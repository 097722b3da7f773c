// Running sums along one axis.
#pragma once

#include "framework/variable.h"

namespace xgrad {

// y[i] = x[0] + ... + x[i] along `axis` (negative counts from the end); with `reverse`,
// y[i] = x[i] + ... + x[n-1] (tf.math.cumsum's reverse). Each direction is the other's
// gradient. An axis out of range is a ShapeError naming cumsum and the shape.
template <class T>
VariableOf<T> cumsum(const VariableOf<T>& x, int axis = -1, bool reverse = false);

}  // namespace xgrad
