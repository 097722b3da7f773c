// Shape ops: views of the same elements in another arrangement, and selections.
#pragma once

#include <vector>

#include "framework/variable.h"

namespace xgrad {

// New shape with the same number of elements; one entry may be -1 (inferred).
template <class T>
VariableOf<T> reshape(const VariableOf<T>& x, const std::vector<long>& shape);
// Collapses dimensions start_dim..end into one: (32, 28, 28) -> (32, 784).
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
// Elements start..stop-1 along `axis`; narrow takes a start and a length.
template <class T>
VariableOf<T> slice(const VariableOf<T>& x, int axis, std::size_t start, std::size_t stop);
template <class T>
VariableOf<T> narrow(const VariableOf<T>& x, int axis, std::size_t start, std::size_t length);
// Joins along an existing axis / along a new axis.
template <class T>
VariableOf<T> concat(const std::vector<VariableOf<T>>& xs, int axis = 0);
template <class T>
VariableOf<T> stack(const std::vector<VariableOf<T>>& xs, int axis = 0);
// Picks whole slices along `axis` by index (repeats allowed; gradients add up).
template <class T>
VariableOf<T> index_select(const VariableOf<T>& x, int axis,
                           const std::vector<std::size_t>& indices);
// out[i][j] = x[i][index[i][j]] along `axis` (torch.gather): index has x's rank.
template <class T>
VariableOf<T> gather(const VariableOf<T>& x, int axis, const IndexTensor& index);

}  // namespace xgrad
