// 2-D max and average pooling on channels-last tensors (batch, height, width, channels).
#pragma once

#include <string>

#include "framework/variable.h"
#include "ops/conv.h"

namespace xgrad {

// Windows of `pool_size` moved by `strides` over height and width, per channel. Padding
// "valid" or "same" (TensorFlow's rule, see ops/conv.h); padded positions never win a max
// and are not counted in an average (as in Keras). Max-pool backward sends each output's
// gradient to the first largest element of its window.
template <class T>
VariableOf<T> max_pool2d(const VariableOf<T>& x, Size2 pool_size, Size2 strides,
                         const std::string& padding = "valid");

template <class T>
VariableOf<T> avg_pool2d(const VariableOf<T>& x, Size2 pool_size, Size2 strides,
                         const std::string& padding = "valid");

}  // namespace xgrad
