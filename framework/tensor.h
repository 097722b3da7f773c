// Tensor types: xtensor arrays of float32 (the default) or float64 (gradient checks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <xtensor/xarray.hpp>

namespace xgrad {

template <class T>
using TensorOf = xt::xarray<T, xt::layout_type::row_major>;
using Tensor = TensorOf<float>;
using Tensor64 = TensorOf<double>;

// Integer class labels and indices (argmax results, gather indices).
using IndexTensor = xt::xarray<std::int64_t, xt::layout_type::row_major>;
// Boolean masks for where().
using Mask = xt::xarray<bool, xt::layout_type::row_major>;

// Shapes in the public API are plain vectors; xtensor's own shape types convert to them.
using Shape = std::vector<std::size_t>;

template <class S>
Shape to_shape(const S& s) {
    return Shape(s.begin(), s.end());
}

// "(32, 784)", the way shapes appear in every error message.
std::string format_shape(const Shape& shape);

template <class E>
std::string format_shape_of(const E& e) {
    return format_shape(to_shape(e.shape()));
}

// Number of elements of a shape (1 for a scalar).
std::size_t shape_size(const Shape& shape);

// The multi-index of the element at row-major position `flat`.
Shape unravel_index(std::size_t flat, const Shape& shape);

}  // namespace xgrad

// Instantiates a macro once per supported element type (float and double).
#define XGRAD_FOR_EACH_DTYPE(M) M(float) M(double)
