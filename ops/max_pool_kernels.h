// The pieces of max pooling that the fused conv2d_max_pool (ops/conv.cpp) shares with
// max_pool2d (ops/pool.cpp). Internal, not installed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framework/variable.h"
#include "ops/conv.h"

namespace xgrad {

struct PoolGeometry {
    std::size_t n, h, w, c;
    std::size_t ph, pw, sh, sw;
    std::size_t oh, ow, pt, pl;
};

// The geometry of pooling x of shape xs; bad sizes and paddings are errors naming `op`.
PoolGeometry plan_pool(const char* op, const Shape& xs, Size2 pool, Size2 strides,
                       const std::string& padding);

// y = the max of each window, arg = the flat index in x of the element that won it, plus
// `base` (the offset of x in a larger tensor, when x is a chunk of it).
template <class T>
void max_pool_forward(const PoolGeometry& g, const T* x, T* y, std::uint32_t* arg,
                      std::size_t base = 0);

// dx = max pooling's gradient when no two windows overlap (strides at least the pool size):
// each element of x takes its window's gradient if it won the window, else 0. `base` as in
// max_pool_forward.
template <class T>
void max_pool_backward_disjoint(const PoolGeometry& g, const std::uint32_t* arg, const T* grad,
                                T* dx, std::size_t base = 0);

// For each pooled element, the flat index of the element that won its window.
using Winners = std::shared_ptr<const std::vector<std::uint32_t>>;

// max_pool2d's gradient as an op (twice differentiable): each element of g added to the
// element of a tensor of x_shape that won its window.
template <class T>
VariableOf<T> scatter_winners(const VariableOf<T>& g, const Winners& arg, const Shape& x_shape);

}  // namespace xgrad
