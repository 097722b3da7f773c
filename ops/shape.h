// Shape ops: views of the same elements in another arrangement, and selections. Axes may be
// negative (counted from the end). Every error is a ShapeError naming the op and the shapes
// or values, e.g. "slice: range 2..5 is out of bounds for axis 1 of size 4 in shape (2, 4)".
#pragma once

#include <initializer_list>
#include <vector>

#include "framework/variable.h"

namespace xgrad {

// New shape with the same number of elements; one entry may be -1 (inferred). The result is
// a copy of the elements (row-major order unchanged).
template <class T>
VariableOf<T> reshape(const VariableOf<T>& x, const std::vector<long>& shape);
// Collapses dimensions start_dim..end into one: (32, 28, 28) -> (32, 784). start_dim may
// equal the rank, which appends a dimension of 1, as Keras' Flatten does: (32,) -> (32, 1).
template <class T>
VariableOf<T> flatten(const VariableOf<T>& x, int start_dim = 1);
// Reorders dimensions: permute(x, {0, 2, 1}).
template <class T>
VariableOf<T> permute(const VariableOf<T>& x, const std::vector<std::size_t>& order);
// Removes a size-1 dimension / inserts one at `axis`.
template <class T>
VariableOf<T> squeeze(const VariableOf<T>& x, int axis);
template <class T>
VariableOf<T> unsqueeze(const VariableOf<T>& x, int axis);
// Elements start..stop-1 along `axis` (start <= stop <= size); narrow takes a start and a
// length.
template <class T>
VariableOf<T> slice(const VariableOf<T>& x, int axis, std::size_t start, std::size_t stop);
template <class T>
VariableOf<T> narrow(const VariableOf<T>& x, int axis, std::size_t start, std::size_t length);
// Joins along an existing axis / along a new axis.
template <class T>
VariableOf<T> concat(const std::vector<VariableOf<T>>& xs, int axis = 0);
template <class T>
VariableOf<T> stack(const std::vector<VariableOf<T>>& xs, int axis = 0);
// The same for a braced list, so that concat({a, b}, 1) deduces the element type.
template <class T>
VariableOf<T> concat(std::initializer_list<VariableOf<T>> xs, int axis = 0) {
    return concat(std::vector<VariableOf<T>>(xs), axis);
}
template <class T>
VariableOf<T> stack(std::initializer_list<VariableOf<T>> xs, int axis = 0) {
    return stack(std::vector<VariableOf<T>>(xs), axis);
}
// Picks whole slices along `axis` by index (repeats allowed; gradients add up).
template <class T>
VariableOf<T> index_select(const VariableOf<T>& x, int axis,
                           const std::vector<std::size_t>& indices);
// out[i][j] = x[i][index[i][j]] along `axis` (torch.gather): index has x's rank, is no larger
// than x outside `axis`, and the result has index's shape. Indices repeated add gradients.
template <class T>
VariableOf<T> gather(const VariableOf<T>& x, int axis, const IndexTensor& index);

}  // namespace xgrad
