// The bias gradient of linear and conv2d: the column sums of a row-major (rows, cols) gradient.
// Internal to the ops; not installed.
#pragma once

#include <cstddef>

namespace xgrad {

// out[j] += g[r * cols + j] summed over the rows r.
template <class T>
void add_column_sums(const T* g, std::size_t rows, std::size_t cols, T* out) {
    for (std::size_t r = 0; r < rows; ++r) {
        const T* row = g + r * cols;
        for (std::size_t j = 0; j < cols; ++j) out[j] += row[j];
    }
}

}  // namespace xgrad
