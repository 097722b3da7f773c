// Constant padding (numpy.pad with mode "constant").
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "framework/variable.h"

namespace xgrad {

// (before, after): how many elements to add on each side of one axis.
using PadWidth = std::pair<std::size_t, std::size_t>;

// x with `value` added around it: widths[d] for axis d, one entry per axis of x, e.g.
// pad(x, {{0, 0}, {2, 1}}) adds two columns before and one after a (rows, columns) x. A
// number of entries other than x's rank is a ShapeError naming pad and the shape. The
// gradient is the gradient's interior (a slice per padded axis).
template <class T>
VariableOf<T> pad(const VariableOf<T>& x, const std::vector<PadWidth>& widths, double value = 0);

}  // namespace xgrad
