// Broadcasting as differentiable ops: each is the other's gradient, so gradients of
// broadcasting ops can be differentiated again (see framework/autograd.h).
#pragma once

#include "framework/variable.h"

namespace xgrad {

// x repeated (numpy rules) to `shape`; a shape x cannot broadcast to is a ShapeError.
template <class T>
VariableOf<T> broadcast_to(const VariableOf<T>& x, const Shape& shape);

// x summed over the dimensions that broadcasting from `shape` added or stretched; the
// reverse of broadcast_to. Returns x itself when the shapes are equal.
template <class T>
VariableOf<T> sum_to(const VariableOf<T>& x, const Shape& shape);

}  // namespace xgrad
