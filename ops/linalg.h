// Matrix products through CBLAS (sgemm/dgemm), never a naive loop.
#pragma once

#include "framework/variable.h"

namespace xgrad {

// 2-D (m, k) x (k, n), or batched (..., m, k) x (..., k, n) with the batch dimensions
// broadcast. A 1-D operand is not promoted: shapes must have rank 2 or more.
template <class T>
VariableOf<T> matmul(const VariableOf<T>& a, const VariableOf<T>& b);

// Swaps the last two dimensions.
template <class T>
VariableOf<T> transpose(const VariableOf<T>& x);

// x (batch, in) x weight (in, out) + bias (out,), as one op: the bias is added in the
// same pass as the product. An empty (default-constructed) bias means none. Leading
// dimensions of x are rows: (..., in) -> (..., out).
template <class T>
VariableOf<T> linear(const VariableOf<T>& x, const VariableOf<T>& weight,
                     const VariableOf<T>& bias = VariableOf<T>());

}  // namespace xgrad
