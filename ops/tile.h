// Repetition: numpy's tile (whole tensor) and repeat (each element along one axis).
#pragma once

#include <cstddef>
#include <vector>

#include "framework/variable.h"

namespace xgrad {

// x repeated reps[d] times along axis d; reps may be longer than x's rank (x then gets
// leading dimensions of 1, as numpy does) but not shorter (a ShapeError naming tile).
// tile((a, b), {2, 3}) has shape (2a, 3b). The gradient sums the copies.
template <class T>
VariableOf<T> tile(const VariableOf<T>& x, const std::vector<std::size_t>& reps);

// Each element repeated `repeats` times along `axis`, next to each other:
// repeat([1, 2], 2, 0) = [1, 1, 2, 2]. The gradient sums the copies.
template <class T>
VariableOf<T> repeat(const VariableOf<T>& x, std::size_t repeats, int axis);

}  // namespace xgrad
