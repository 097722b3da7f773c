// Splitting a tensor into pieces along one axis (the reverse of concat).
#pragma once

#include <cstddef>
#include <vector>

#include "framework/variable.h"

namespace xgrad {

// Pieces of the given sizes along `axis`, in order; the sizes must add up to the axis' size
// (else a ShapeError naming split, the sizes and the shape). Each piece is a slice: its
// gradient flows back into its part of x.
template <class T>
std::vector<VariableOf<T>> split(const VariableOf<T>& x, const std::vector<std::size_t>& sizes,
                                 int axis = 0);

// `chunks` pieces of ceil(n / chunks) elements along `axis`, the last one smaller when n does
// not divide (torch.chunk; fewer pieces when n < chunks * piece). chunks == 0 is a
// std::invalid_argument.
template <class T>
std::vector<VariableOf<T>> chunk(const VariableOf<T>& x, std::size_t chunks, int axis = 0);

}  // namespace xgrad
