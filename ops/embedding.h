// Embedding lookup: rows of a table by integer id.
#pragma once

#include "framework/variable.h"

namespace xgrad {

// table (num_rows, dim) and ids of any shape -> (...ids' shape, dim): out[..., :] =
// table[ids[...], :]. An id outside 0..num_rows-1 is a std::out_of_range naming it, its
// position and the table's shape. The table's gradient adds each output row's gradient into
// the row it came from, in place, so a backward costs the rows used, not the whole table
// (no table-sized temporary beyond the table's own gradient). Twice differentiable.
template <class T>
VariableOf<T> embedding(const VariableOf<T>& table, const IndexTensor& ids);

}  // namespace xgrad
