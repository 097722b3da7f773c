// 2-D convolution on channels-last tensors (batch, height, width, channels), like Keras.
// Lowered to im2col + GEMM through CBLAS, a cache-sized chunk of the batch at a time.
#pragma once

#include <array>
#include <cstddef>
#include <string>

#include "framework/variable.h"

namespace xgrad {

// (height, width) pairs: kernel sizes, strides, dilations, pool sizes.
using Size2 = std::array<std::size_t, 2>;

// "valid" (no padding) or "same" (TensorFlow's rule: output size ceil(in / stride), the
// padding split evenly with the extra row or column at the bottom/right). Anything else is a
// std::invalid_argument naming `op` and the value.
void check_padding_name(const std::string& op, const std::string& padding);

// One spatial axis of a sliding window: the output size and the padding before the first
// element. `out` is 0 when a "valid" window does not fit in the input.
struct WindowAxis {
    std::size_t out = 0;
    std::size_t pad_before = 0;
};
WindowAxis window_axis(std::size_t in, std::size_t kernel, std::size_t stride, std::size_t dilation,
                       const std::string& padding);

struct Conv2dOptions {
    Size2 strides{1, 1};
    std::string padding = "valid";
    Size2 dilation{1, 1};  // Keras' dilation_rate
    // relu(conv2d(...)) as one op: relu runs on each chunk of the output while it is still in
    // cache, and no pre-activation tensor is kept for backward. Conv2D(..., "relu") uses it.
    bool relu = false;
};

// x (batch, height, width, in_channels) * kernel (kh, kw, in_channels, out_channels) + bias
// (out_channels,) -> (batch, out_height, out_width, out_channels). The kernel layout is Keras'.
// An empty (default-constructed) bias means none. Strides and dilations must be positive.
template <class T>
VariableOf<T> conv2d(const VariableOf<T>& x, const VariableOf<T>& kernel,
                     const VariableOf<T>& bias = VariableOf<T>(),
                     const Conv2dOptions& options = {});

// max_pool2d(conv2d(x, kernel, bias, options), pool_size, pool_strides, pool_padding) as one
// op, for pool windows that do not overlap (strides at least the pool size; anything else is
// a std::invalid_argument): each cache-sized chunk of the batch is pooled while its conv
// output is in cache, and the full-size conv output is never stored; backward rebuilds each
// chunk's conv gradient from the pooled one in the cache too. Same values and gradients (to
// any order) as the two ops. Sequential runs Conv2D followed by MaxPooling2D through it.
template <class T>
VariableOf<T> conv2d_max_pool(const VariableOf<T>& x, const VariableOf<T>& kernel,
                              const VariableOf<T>& bias, const Conv2dOptions& options,
                              Size2 pool_size, Size2 pool_strides,
                              const std::string& pool_padding = "valid");

}  // namespace xgrad
