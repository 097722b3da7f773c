// Reductions over any set of axes, with keepdims.
#pragma once

#include <vector>

#include "framework/variable.h"

namespace xgrad {

// Axes may be negative (counted from the end); an empty list reduces over every axis.
using Axes = std::vector<int>;

template <class T>
VariableOf<T> sum(const VariableOf<T>& x, const Axes& axes = {}, bool keepdims = false);
template <class T>
VariableOf<T> mean(const VariableOf<T>& x, const Axes& axes = {}, bool keepdims = false);
// The gradient goes to the maximal (minimal) elements, split evenly between ties.
template <class T>
VariableOf<T> max(const VariableOf<T>& x, const Axes& axes = {}, bool keepdims = false);
template <class T>
VariableOf<T> min(const VariableOf<T>& x, const Axes& axes = {}, bool keepdims = false);
// Population variance (divides by N) unless ddof = 1.
template <class T>
VariableOf<T> var(const VariableOf<T>& x, const Axes& axes = {}, bool keepdims = false,
                  int ddof = 0);
// log(sum(exp(x))), computed with the maximum subtracted so it never overflows.
template <class T>
VariableOf<T> logsumexp(const VariableOf<T>& x, const Axes& axes = {}, bool keepdims = false);

// Indices of the largest (smallest) element along one axis; no gradient.
template <class T>
IndexTensor argmax(const VariableOf<T>& x, int axis = -1);
template <class T>
IndexTensor argmin(const VariableOf<T>& x, int axis = -1);

// The axes normalised to 0..rank-1, sorted and unique; an empty list means all axes.
// Throws ShapeError naming `op` for an axis out of range.
std::vector<std::size_t> normalize_axes(const char* op, const Axes& axes, std::size_t rank);

// The shape of a reduction over `axes` (normalised) kept as size-1 dimensions.
Shape keepdims_shape(const Shape& shape, const std::vector<std::size_t>& axes);

}  // namespace xgrad
