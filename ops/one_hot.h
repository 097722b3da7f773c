// One-hot encoding of integer ids (class labels, characters).
#pragma once

#include <cstddef>

#include "framework/variable.h"

namespace xgrad {

// ids of any shape -> ids' shape + (depth,), 1 at each id and 0 elsewhere; a constant (ids
// have no gradient). An id outside 0..depth-1 is a std::invalid_argument naming one_hot, the
// id, its position and the depth.
template <class T = float>
VariableOf<T> one_hot(const IndexTensor& ids, std::size_t depth);

}  // namespace xgrad
