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
// The gradient goes to the maximal (minimal) elements, split evenly between ties. Reducing
// over an axis of size 0 is a ShapeError.
template <class T>
VariableOf<T> max(const VariableOf<T>& x, const Axes& axes = {}, bool keepdims = false);
template <class T>
VariableOf<T> min(const VariableOf<T>& x, const Axes& axes = {}, bool keepdims = false);
// Divides by N - ddof: population variance for ddof = 0, sample variance for ddof = 1.
// ddof outside 0..N-1 is a std::invalid_argument.
template <class T>
VariableOf<T> var(const VariableOf<T>& x, const Axes& axes = {}, bool keepdims = false,
                  int ddof = 0);
// log(sum(exp(x))), computed with the maximum subtracted so it never overflows (finite for
// inputs of +-1e4 in float32); the gradient is softmax(x) over the reduced axes.
template <class T>
VariableOf<T> logsumexp(const VariableOf<T>& x, const Axes& axes = {}, bool keepdims = false);

// Indices of the largest (smallest) element along one axis, the first one on ties; no
// gradient. The result has x's shape without `axis`.
template <class T>
IndexTensor argmax(const VariableOf<T>& x, int axis = -1);
template <class T>
IndexTensor argmin(const VariableOf<T>& x, int axis = -1);

// The axes normalised to 0..rank-1, sorted and unique; an empty list means all axes.
// Throws ShapeError naming `op` for an axis out of range.
std::vector<std::size_t> normalize_axes(const char* op, const Axes& axes, const Shape& shape);

// The shape of a reduction over `axes` (normalised) kept as size-1 dimensions.
Shape keepdims_shape(const Shape& shape, const std::vector<std::size_t>& axes);

}  // namespace xgrad
