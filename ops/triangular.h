// Lower and upper triangles of the last two axes, and the causal mask of self-attention.
#pragma once

#include <cstddef>

#include "framework/variable.h"

namespace xgrad {

// x (..., m, n) with the elements above diagonal k set to 0 (tril) or below it (triu), as
// numpy's tril/triu: element (i, j) is kept by tril when j - i <= k, by triu when j - i >= k.
// Rank below 2 is a ShapeError naming the op and the shape.
template <class T>
VariableOf<T> tril(const VariableOf<T>& x, long k = 0);
template <class T>
VariableOf<T> triu(const VariableOf<T>& x, long k = 0);

// The (queries, keys) mask of causal attention: true where query i may attend key j, that is
// j <= i (Keras' use_causal_mask: a lower triangle of ones).
Mask causal_mask(std::size_t queries, std::size_t keys);

}  // namespace xgrad
