// Sorting and the k largest (smallest) elements along one axis, with the indices.
#pragma once

#include <cstddef>

#include "framework/variable.h"

namespace xgrad {

// values[..., i, ...] = x[..., indices[..., i, ...], ...] along the axis. The values are
// differentiable (a gather of x); the indices are not.
template <class T>
struct SortResult {
    VariableOf<T> values;
    IndexTensor indices;
};

// Sorted along `axis`, ascending unless `descending`; stable (equal elements keep their
// order). NaNs go last in both orders.
template <class T>
SortResult<T> sort(const VariableOf<T>& x, int axis = -1, bool descending = false);

// The k largest elements along `axis` (the k smallest with largest = false), largest first
// (smallest first), ties broken by position. k above the axis' size is a ShapeError naming
// topk, k and the shape.
template <class T>
SortResult<T> topk(const VariableOf<T>& x, std::size_t k, int axis = -1, bool largest = true);

}  // namespace xgrad
