// Inputs for the gradient checks of the sequence ops: distinct, irregular values of both
// signs (no ties, so sort and max have a unique answer, and no symmetry hides a wrong index).
#pragma once

#include <cmath>

#include "framework/tensor.h"

inline xgrad::Tensor64 wavy(const xgrad::Shape& shape, double phase = 0.0) {
    xgrad::Tensor64 t = xgrad::Tensor64::from_shape(shape);
    for (std::size_t i = 0; i < t.size(); ++i) {
        t.data()[i] = std::sin(1.7 * double(i) + phase) + 0.01 * double(i);
    }
    return t;
}
